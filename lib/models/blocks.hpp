// models/blocks.hpp - the steps every decoder architecture composes its forward pass from.
//
// Each is a few ops from lib/ops in llama.cpp's order; architecture files call them so that
// their forward() reads as the model's equations and nothing more.
#pragma once

#include "models/model.hpp"
#include "models/workspace.hpp"
#include "ops/attention.hpp"
#include "ops/matmul.hpp"
#include "ops/rope.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace ember::models {

// Tokens per FFN slice. A token's FFN depends on no other token, so running a batch's FFN in
// slices changes no bit; it keeps the two n_ff-wide buffers at 128 rows, which for a 1B model
// at n_batch 512 is 24 MiB less peak memory, at no measured cost (the matmuls stream their
// weights per 64 tokens anyway).
constexpr int64_t k_ffn_slice = 128;

// Buffers sized from hp: q = n_head*head_dim_k, k/v = kv dims, ff = n_ff for
// ff_rows = min(n_batch, k_ffn_slice) tokens; matmul scratch large enough for every weight in
// `weights` at n_batch tokens and every weight in `ffn` at ff_rows tokens.
WorkspaceShape decoder_workspace(const HParams &hp, const ops::AttentionShape &attn, int64_t n_batch,
                                 int64_t n_ctx, std::span<const ops::Weight *const> weights,
                                 std::span<const ops::Weight *const> ffn);

// Calls ffn(h + t0 * n_embd, m) for consecutive slices of m <= ws.shape.ff_rows of the n
// tokens of h: the FFN of a batch in k_ffn_slice pieces (its buffers hold that many).
template <class Ffn>
void in_ffn_slices(const Workspace &ws, float *h, int64_t n, int64_t n_embd, Ffn &&ffn) {
    for (int64_t t0 = 0; t0 < n; t0 += ws.shape.ff_rows) ffn(h + t0 * n_embd, std::min(ws.shape.ff_rows, n - t0));
}

// x[t] = scale * token_embd[tokens[t]]   x: [n, n_embd]
void embed(const ops::Weight &token_embd, std::span<const int32_t> tokens, float *x, float scale = 1.0f);

// Where this batch's queries, keys and values lie (rows of the given strides).
struct Qkv {
    float *q;
    int64_t ldq;
    float *k;
    int64_t ldk;
    float *v;
    int64_t ldv;
};

// Rotate q and k, store k and v at positions pos0.. of layer il, attend:
// ws.attn[t] = attention output of token t, [n, n_head*head_dim_v].
void rope_store_attend(const ops::Rope &rope, const ops::AttentionShape &shape, ops::KvCache &kv,
                       int il, int64_t n, int64_t pos0, const Qkv &io, Workspace &ws);

// logits = output(rmsnorm(x) * norm) for the last row of x ([n, n_embd]), or every row
// when all_logits; then softcap * tanh(logits / softcap) when softcap > 0. Nothing when
// logits is null.
void output_head(const float *x, int64_t n, const HParams &hp, const float *norm,
                 const ops::Weight &output, Workspace &ws, float *logits, bool all_logits,
                 float softcap = 0.0f);

}  // namespace ember::models
