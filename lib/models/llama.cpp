// models/llama.cpp - the `llama` architecture.
//
//   x = embed(tokens)
//   for each layer:
//       h = rmsnorm(x) * attn_norm
//       q, k, v = Wq h, Wk h, Wv h;  rope(q), rope(k)        (adjacent pairs, "normal" mode)
//       x = x + Wo attention(q, K, V)                          (grouped-query, causal)
//       h = rmsnorm(x) * ffn_norm
//       x = x + Wdown (silu(Wgate h) * Wup h)                  (SwiGLU)
//   logits = Wout (rmsnorm(x) * output_norm)                   (Wout = token_embd if tied)
//
// Llama 3.1/3.2 rope scaling arrives as rope_freqs (one divisor per frequency); older
// linear scaling as rope.scaling.{type,factor}.
#include "models/llama.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "models/loader.hpp"
#include "ops/activation.hpp"
#include "ops/attention.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"
#include "ops/parallel.hpp"
#include "ops/rope.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ember::models {
namespace {

namespace key = gguf::arch;
namespace tn = gguf::tensor;

struct Layer {
    const float *attn_norm;  // [n_embd]
    ops::Weight wq;          // [n_head*hd, n_embd]
    ops::Weight wk, wv;      // [n_head_kv*hd, n_embd]
    ops::Weight wo;          // [n_embd, n_head*hd]
    const float *ffn_norm;   // [n_embd]
    ops::Weight gate, up;    // [n_ff, n_embd]
    ops::Weight down;        // [n_embd, n_ff]
};

class Llama final : public Architecture {
public:
    explicit Llama(const gguf::File &file);
    const HParams &hparams() const override { return hp_; }
    WorkspaceShape workspace_shape(int64_t n_batch, int64_t n_ctx) const override;
    void forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv, Workspace &ws,
                 float *logits, bool all_logits) const override;

private:
    HParams hp_;
    ops::Rope rope_;
    ops::AttentionShape attn_;
    ops::Weight tok_embd_;     // [n_vocab, n_embd]
    const float *out_norm_;    // [n_embd]
    ops::Weight output_;       // [n_vocab, n_embd]; token_embd when tied
    std::vector<Layer> layers_;
};

// ---- hyper-parameters and weights ----------------------------------------------------------

Llama::Llama(const gguf::File &file) : hp_(read_decoder_hparams(file, "llama")) {
    const HParamReader r(file, hp_.architecture);
    if (hp_.head_dim_k != hp_.head_dim_v)
        fail(Errc::invalid_model, "{} = {} differs from {} = {}", r.key(key::key_length),
             hp_.head_dim_k, r.key(key::value_length), hp_.head_dim_v);
    const int hd = hp_.head_dim_k;

    rope_.style = ops::RopeStyle::norm;
    rope_.n_rot = static_cast<int>(r.integer_or(key::rope_dimension_count, hd, 2, hd));
    if (rope_.n_rot % 2 != 0 || rope_.n_rot > ops::rope_max_dims)
        fail(Errc::invalid_model, "{} = {} must be even and at most {}", r.key(key::rope_dimension_count),
             rope_.n_rot, ops::rope_max_dims);
    rope_.freq_base = r.real_or(key::rope_freq_base, 10000.0f, 1e-3, 1e12);
    const std::string scaling = r.string(key::rope_scaling_type).value_or("none");
    if (scaling == "linear") {
        rope_.freq_scale = 1.0f / r.real(key::rope_scaling_factor, 1e-6, 1e6);
    } else if (scaling != "none") {
        fail(Errc::unsupported, "{} = '{}' is not supported (none, linear)", r.key(key::rope_scaling_type), scaling);
    }
    rope_.freq_factors = bind_vector_optional(file, tn::rope_freqs, rope_.n_rot / 2);

    attn_ = {hp_.n_head, hp_.n_head_kv, hd, hd, 1.0f / std::sqrt(static_cast<float>(hd)), 0};

    const int64_t n_embd = hp_.n_embd, q_dim = int64_t{hp_.n_head} * hd, kv_dim = hp_.k_dim();
    tok_embd_ = bind_matrix(file, tn::token_embd, hp_.n_vocab, n_embd);
    out_norm_ = bind_vector(file, tn::output_norm, n_embd);
    output_ = bind_matrix_optional(file, tn::output, hp_.n_vocab, n_embd);
    if (output_.rows() == 0) output_ = tok_embd_;  // tied embeddings

    layers_.reserve(static_cast<size_t>(hp_.n_layer));
    for (int il = 0; il < hp_.n_layer; ++il) {
        auto name = [il](std::string_view suffix) { return gguf::blk_tensor(il, suffix); };
        layers_.push_back(Layer{
            bind_vector(file, name(tn::attn_norm), n_embd),
            bind_matrix(file, name(tn::attn_q), q_dim, n_embd),
            bind_matrix(file, name(tn::attn_k), kv_dim, n_embd),
            bind_matrix(file, name(tn::attn_v), kv_dim, n_embd),
            bind_matrix(file, name(tn::attn_output), n_embd, q_dim),
            bind_vector(file, name(tn::ffn_norm), n_embd),
            bind_matrix(file, name(tn::ffn_gate), hp_.n_ff, n_embd),
            bind_matrix(file, name(tn::ffn_up), hp_.n_ff, n_embd),
            bind_matrix(file, name(tn::ffn_down), n_embd, hp_.n_ff),
        });
    }
}

WorkspaceShape Llama::workspace_shape(int64_t n_batch, int64_t n_ctx) const {
    WorkspaceShape s;
    s.n_batch = n_batch;
    s.x = hp_.n_embd;
    s.q = int64_t{hp_.n_head} * hp_.head_dim_k;
    s.k = hp_.k_dim();
    s.v = hp_.v_dim();
    s.attn = int64_t{hp_.n_head} * hp_.head_dim_v;
    s.ff = hp_.n_ff;
    s.attn_scratch_floats = ops::attention_scratch_floats(attn_, n_ctx);
    size_t mm = ops::matmul_scratch_bytes(output_, n_batch);
    for (const Layer &L : layers_)
        for (const ops::Weight *w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.gate, &L.up, &L.down})
            mm = std::max(mm, ops::matmul_scratch_bytes(*w, n_batch));
    s.matmul_scratch_bytes = mm;
    return s;
}

// ---- forward pass ------------------------------------------------------------------------

void Llama::forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv,
                    Workspace &ws, float *logits, bool all_logits) const {
    const int64_t n = static_cast<int64_t>(tokens.size());
    const int64_t n_embd = hp_.n_embd, q_dim = ws.shape.q, kv_dim = hp_.k_dim();
    const float eps = hp_.norm_eps;
    float *x = ws.x.data(), *h = ws.xn.data();
    std::span<std::byte> mm = ws.mm_scratch;

    ops::parallel_rows(n, 16, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) ops::get_row(tok_embd_, tokens[static_cast<size_t>(t)], x + t * n_embd);
    });

    for (int il = 0; il < hp_.n_layer; ++il) {
        const Layer &L = layers_[static_cast<size_t>(il)];
        // attention
        ops::rms_norm(x, L.attn_norm, n, n_embd, eps, h);
        ops::matmul(L.wq, h, n, ws.q.data(), mm);  // [n, q_dim]
        ops::matmul(L.wk, h, n, ws.k.data(), mm);  // [n, kv_dim]
        ops::matmul(L.wv, h, n, ws.v.data(), mm);  // [n, kv_dim]
        ops::rope(rope_, ws.q.data(), n, pos0, hp_.n_head, hp_.head_dim_k, q_dim);
        ops::rope(rope_, ws.k.data(), n, pos0, hp_.n_head_kv, hp_.head_dim_k, kv_dim);
        kv.store(il, pos0, n, ws.k.data(), kv_dim, ws.v.data(), kv_dim);
        ops::attention(attn_, kv, il, ws.q.data(), q_dim, n, pos0, ws.attn.data(), ws.shape.attn,
                       ws.attn_scratch.data());
        ops::matmul(L.wo, ws.attn.data(), n, h, mm);  // [n, n_embd]
        ops::add_into(x, h, n * n_embd);
        // feed-forward
        ops::rms_norm(x, L.ffn_norm, n, n_embd, eps, h);
        ops::matmul(L.gate, h, n, ws.ff_a.data(), mm);  // [n, n_ff]
        ops::matmul(L.up, h, n, ws.ff_b.data(), mm);    // [n, n_ff]
        ops::swiglu(ws.ff_a.data(), ws.ff_b.data(), n * hp_.n_ff, ws.ff_a.data());
        ops::matmul(L.down, ws.ff_a.data(), n, h, mm);  // [n, n_embd]
        ops::add_into(x, h, n * n_embd);
    }

    // Only the rows whose logits are wanted go through the output head.
    if (!logits) return;
    const int64_t first = all_logits ? 0 : n - 1;
    ops::rms_norm(x + first * n_embd, out_norm_, n - first, n_embd, eps, h);
    ops::matmul(output_, h, n - first, logits, mm);  // [n - first, n_vocab]
}

}  // namespace

std::unique_ptr<const Architecture> make_llama(const gguf::File &file) {
    return std::make_unique<const Llama>(file);
}

}  // namespace ember::models
