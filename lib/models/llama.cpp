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
#include "models/blocks.hpp"
#include "models/loader.hpp"
#include "ops/activation.hpp"
#include "ops/attention.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"
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
    std::vector<const ops::Weight *> ws{&output_};
    for (const Layer &L : layers_) ws.insert(ws.end(), {&L.wq, &L.wk, &L.wv, &L.wo, &L.gate, &L.up, &L.down});
    return decoder_workspace(hp_, attn_, n_batch, n_ctx, ws);
}

// ---- forward pass ------------------------------------------------------------------------

void Llama::forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv,
                    Workspace &ws, float *logits, bool all_logits) const {
    const int64_t n = static_cast<int64_t>(tokens.size());
    const int64_t n_embd = hp_.n_embd, q_dim = ws.shape.q, kv_dim = hp_.k_dim(), n_ff = hp_.n_ff;
    const float eps = hp_.norm_eps;
    float *x = ws.x.data(), *h = ws.xn.data();
    float *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data(), *a = ws.ff_a.data(), *b = ws.ff_b.data();
    std::span<std::byte> mm = ws.mm_scratch;

    embed(tok_embd_, tokens, x);  // [n, n_embd]
    for (int il = 0; il < hp_.n_layer; ++il) {
        const Layer &L = layers_[static_cast<size_t>(il)];
        // x = x + Wo attention(rope(Wq h), rope(Wk h), Wv h),  h = rmsnorm(x) * attn_norm
        ops::rms_norm(x, L.attn_norm, n, n_embd, eps, h);
        ops::matmul(L.wq, h, n, q, mm);  // [n, q_dim]
        ops::matmul(L.wk, h, n, k, mm);  // [n, kv_dim]
        ops::matmul(L.wv, h, n, v, mm);  // [n, kv_dim]
        rope_store_attend(rope_, attn_, kv, il, n, pos0, {q, q_dim, k, kv_dim, v, kv_dim}, ws);
        ops::matmul(L.wo, ws.attn.data(), n, h, mm);  // [n, n_embd]
        ops::add_into(x, h, n * n_embd);
        // x = x + Wdown (silu(Wgate h) * Wup h),  h = rmsnorm(x) * ffn_norm
        ops::rms_norm(x, L.ffn_norm, n, n_embd, eps, h);
        ops::matmul(L.gate, h, n, a, mm);  // [n, n_ff]
        ops::matmul(L.up, h, n, b, mm);    // [n, n_ff]
        ops::swiglu(a, b, n * n_ff, a);
        ops::matmul(L.down, a, n, h, mm);  // [n, n_embd]
        ops::add_into(x, h, n * n_embd);
    }
    output_head(x, n, hp_, out_norm_, output_, ws, logits, all_logits);
}

}  // namespace

std::unique_ptr<const Architecture> make_llama(const gguf::File &file) {
    return std::make_unique<const Llama>(file);
}

}  // namespace ember::models
