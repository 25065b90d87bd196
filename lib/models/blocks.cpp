// models/blocks.cpp - shared decoder steps.
#include "models/blocks.hpp"

#include "ops/norm.hpp"
#include "ops/parallel.hpp"

#include <algorithm>
#include <cmath>

namespace ember::models {

WorkspaceShape decoder_workspace(const HParams &hp, const ops::AttentionShape &attn, int64_t n_batch,
                                 int64_t n_ctx, std::span<const ops::Weight *const> weights,
                                 std::span<const ops::Weight *const> ffn) {
    WorkspaceShape s;
    s.n_batch = n_batch;
    s.x = hp.n_embd;
    s.q = int64_t{hp.n_head} * hp.head_dim_k;
    s.k = hp.k_dim();
    s.v = hp.v_dim();
    s.attn = int64_t{hp.n_head} * hp.head_dim_v;
    s.ff = hp.n_ff;
    s.ff_rows = std::min(n_batch, k_ffn_slice);
    s.attn_scratch_floats = ops::attention_scratch_floats(attn, n_ctx);
    for (const ops::Weight *w : weights)
        if (w->rows() > 0) s.matmul_scratch_bytes = std::max(s.matmul_scratch_bytes, ops::matmul_scratch_bytes(*w, n_batch));
    for (const ops::Weight *w : ffn)
        if (w->rows() > 0) s.matmul_scratch_bytes = std::max(s.matmul_scratch_bytes, ops::matmul_scratch_bytes(*w, s.ff_rows));
    return s;
}

void embed(const ops::Weight &token_embd, std::span<const int32_t> tokens, float *x, float scale) {
    const int64_t n_embd = token_embd.cols();
    ops::parallel_rows(static_cast<int64_t>(tokens.size()), 16, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float *row = x + t * n_embd;
            ops::get_row(token_embd, tokens[static_cast<size_t>(t)], row);
            if (scale != 1.0f)
                for (int64_t i = 0; i < n_embd; ++i) row[i] *= scale;
        }
    });
}

void rope_store_attend(const ops::Rope &rope, const ops::AttentionShape &shape, ops::KvCache &kv,
                       int il, int64_t n, int64_t pos0, const Qkv &io, Workspace &ws) {
    ops::rope(rope, io.q, n, pos0, shape.n_head, shape.head_dim_k, io.ldq);
    ops::rope(rope, io.k, n, pos0, shape.n_head_kv, shape.head_dim_k, io.ldk);
    kv.store(il, pos0, n, io.k, io.ldk, io.v, io.ldv);
    ops::attention(shape, kv, il, io.q, io.ldq, n, pos0, ws.attn.data(), ws.shape.attn,
                   ws.attn_scratch.data());
}

void output_head(const float *x, int64_t n, const HParams &hp, const float *norm,
                 const ops::Weight &output, Workspace &ws, float *logits, bool all_logits,
                 float softcap) {
    if (!logits) return;
    const int64_t first = all_logits ? 0 : n - 1;  // only rows whose logits are wanted
    const int64_t rows = n - first;
    ops::rms_norm(x + first * hp.n_embd, norm, rows, hp.n_embd, hp.norm_eps, ws.xn.data());
    ops::matmul(output, ws.xn.data(), rows, logits, ws.mm_scratch);  // [rows, n_vocab]
    if (softcap > 0.0f) {
        const int64_t total = rows * hp.n_vocab;
        for (int64_t i = 0; i < total; ++i) logits[i] = std::tanh(logits[i] / softcap) * softcap;
    }
}

}  // namespace ember::models
