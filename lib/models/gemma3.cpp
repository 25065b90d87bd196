// models/gemma3.cpp - Gemma 3.
//
//   x = embed(tokens) * sqrt(n_embd)
//   for each layer (sliding-window "local" layers, every N-th one "global"):
//       h = rmsnorm(x) * attn_norm
//       q, k, v = Wq h, Wk h, Wv h
//       q, k = rmsnorm_per_head(q) * q_norm, rmsnorm_per_head(k) * k_norm
//       q, k = rope(q), rope(k)             (neox; local: base_swa, scale 1; global: base, linear scale)
//       q = q / sqrt(head_dim)
//       x = x + rmsnorm(Wo attention(q, K, V)) * post_attention_norm   (local: last `window` keys)
//       h = rmsnorm(x) * ffn_norm
//       x = x + rmsnorm(Wdown (gelu(Wgate h) * Wup h)) * post_ffw_norm
//   logits = Wout (rmsnorm(x) * output_norm)   (tied; optional final soft-capping)
//
// Norm weights are stored as the multiplier itself (the converter already added Gemma's
// "1 +"). GELU is the tanh form through ggml's fp16 table (ops::geglu). Layer il is local iff
// il % N < N - 1, N = attention.sliding_window_pattern (default 6, as llama.cpp; real GGUFs
// carry no such key). The KV cache keeps every position; local layers just read the window.
#include "models/gemma3.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "models/blocks.hpp"
#include "models/loader.hpp"
#include "ops/activation.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"

#include <cmath>
#include <vector>

namespace ember::models {
namespace {

namespace key = gguf::arch;
namespace tn = gguf::tensor;

struct Layer {
    bool local;                     // sliding-window layer
    const float *attn_norm;         // [n_embd]
    ops::Weight wq, wk, wv;         // [q_dim, n_embd], [kv_dim, n_embd] x2
    const float *q_norm, *k_norm;   // [head_dim]
    ops::Weight wo;                 // [n_embd, q_dim]
    const float *post_attn_norm;    // [n_embd]
    const float *ffn_norm;          // [n_embd]
    ops::Weight gate, up;           // [n_ff, n_embd]
    ops::Weight down;               // [n_embd, n_ff]
    const float *post_ffn_norm;     // [n_embd]
};

class Gemma3 final : public Architecture {
public:
    explicit Gemma3(const gguf::File &file);
    const HParams &hparams() const override { return hp_; }
    WorkspaceShape workspace_shape(int64_t n_batch, int64_t n_ctx) const override;
    void forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv, Workspace &ws,
                 float *logits, bool all_logits) const override;

private:
    HParams hp_;
    ops::Rope rope_local_, rope_global_;
    ops::AttentionShape attn_local_, attn_global_;
    float q_scale_ = 1.0f, embd_scale_ = 1.0f, softcap_ = 0.0f;
    ops::Weight tok_embd_;     // [n_vocab, n_embd]
    const float *out_norm_;    // [n_embd]
    ops::Weight output_;       // [n_vocab, n_embd]; token_embd when tied
    std::vector<Layer> layers_;
};

// ---- hyper-parameters and weights ----------------------------------------------------------

Gemma3::Gemma3(const gguf::File &file) : hp_(read_decoder_hparams(file, "gemma3")) {
    const HParamReader r(file, hp_.architecture);
    if (hp_.head_dim_k != hp_.head_dim_v)
        fail(Errc::invalid_model, "{} = {} differs from {} = {}", r.key(key::key_length),
             hp_.head_dim_k, r.key(key::value_length), hp_.head_dim_v);
    const int hd = hp_.head_dim_k;

    const int64_t window = r.integer_or(key::sliding_window, 0, 0, int64_t{1} << 31);
    if (const gguf::Value *p = file.find(r.key(key::sliding_window_pattern)); p && p->type() == gguf::ValueType::array)
        fail(Errc::unsupported, "{} as an array is not supported", r.key(key::sliding_window_pattern));
    const int64_t period = r.integer_or(key::sliding_window_pattern, 6, 0, 1 << 16);

    ops::Rope rope;
    rope.style = ops::RopeStyle::neox;
    rope.n_rot = static_cast<int>(r.integer_or(key::rope_dimension_count, hd, 2, hd));
    if (rope.n_rot % 2 != 0 || rope.n_rot > ops::rope_max_dims)
        fail(Errc::invalid_model, "{} = {} must be even and at most {}", r.key(key::rope_dimension_count),
             rope.n_rot, ops::rope_max_dims);
    rope_global_ = rope_local_ = rope;
    rope_global_.freq_base = r.real_or(key::rope_freq_base, 10000.0f, 1e-3, 1e12);
    const std::string scaling = r.string(key::rope_scaling_type).value_or("none");
    if (scaling == "linear") {
        rope_global_.freq_scale = 1.0f / r.real(key::rope_scaling_factor, 1e-6, 1e6);
    } else if (scaling != "none") {
        fail(Errc::unsupported, "{} = '{}' is not supported (none, linear)", r.key(key::rope_scaling_type), scaling);
    }
    rope_local_.freq_base = r.real_or(key::rope_freq_base_swa, 10000.0f, 1e-3, 1e12);  // scale 1

    // Gemma 3 27B (62 layers) scales queries by 1/sqrt(n_embd/n_head); the others by
    // 1/sqrt(head_dim) (llama.cpp's rule). The scale is applied to q, not in the softmax.
    q_scale_ = 1.0f / std::sqrt(hp_.n_layer == 62 ? static_cast<float>(hp_.n_embd / hp_.n_head)
                                                  : static_cast<float>(hd));
    attn_global_ = {hp_.n_head, hp_.n_head_kv, hd, hd, 1.0f, 0};
    attn_local_ = attn_global_;
    attn_local_.window = window;
    embd_scale_ = std::sqrt(static_cast<float>(hp_.n_embd));
    softcap_ = r.real_or(key::final_logit_softcapping, 0.0f, 0.0, 1e6);

    const int64_t n_embd = hp_.n_embd, q_dim = int64_t{hp_.n_head} * hd, kv_dim = hp_.k_dim();
    tok_embd_ = bind_matrix(file, tn::token_embd, hp_.n_vocab, n_embd);
    out_norm_ = bind_vector(file, tn::output_norm, n_embd);
    output_ = bind_matrix_optional(file, tn::output, hp_.n_vocab, n_embd);
    if (output_.rows() == 0) output_ = tok_embd_;  // tied embeddings

    layers_.reserve(static_cast<size_t>(hp_.n_layer));
    for (int il = 0; il < hp_.n_layer; ++il) {
        auto name = [il](std::string_view suffix) { return gguf::blk_tensor(il, suffix); };
        layers_.push_back(Layer{
            window > 0 && (period == 0 || il % period < period - 1),
            bind_vector(file, name(tn::attn_norm), n_embd),
            bind_matrix(file, name(tn::attn_q), q_dim, n_embd),
            bind_matrix(file, name(tn::attn_k), kv_dim, n_embd),
            bind_matrix(file, name(tn::attn_v), kv_dim, n_embd),
            bind_vector(file, name(tn::attn_q_norm), hd),
            bind_vector(file, name(tn::attn_k_norm), hd),
            bind_matrix(file, name(tn::attn_output), n_embd, q_dim),
            bind_vector(file, name(tn::attn_post_norm), n_embd),
            bind_vector(file, name(tn::ffn_norm), n_embd),
            bind_matrix(file, name(tn::ffn_gate), hp_.n_ff, n_embd),
            bind_matrix(file, name(tn::ffn_up), hp_.n_ff, n_embd),
            bind_matrix(file, name(tn::ffn_down), n_embd, hp_.n_ff),
            bind_vector(file, name(tn::ffn_post_norm), n_embd),
        });
    }
}

WorkspaceShape Gemma3::workspace_shape(int64_t n_batch, int64_t n_ctx) const {
    std::vector<const ops::Weight *> w{&output_};
    std::vector<const ops::Weight *> ffn;
    for (const Layer &L : layers_) {
        w.insert(w.end(), {&L.wq, &L.wk, &L.wv, &L.wo});
        ffn.insert(ffn.end(), {&L.gate, &L.up, &L.down});
    }
    return decoder_workspace(hp_, attn_global_, n_batch, n_ctx, w, ffn);
}

// ---- forward pass ------------------------------------------------------------------------

void Gemma3::forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv,
                     Workspace &ws, float *logits, bool all_logits) const {
    const int64_t n = static_cast<int64_t>(tokens.size());
    const int64_t n_embd = hp_.n_embd, q_dim = ws.shape.q, kv_dim = hp_.k_dim();
    const int hd = hp_.head_dim_k;
    const float eps = hp_.norm_eps;
    float *x = ws.x.data(), *h = ws.xn.data(), *a = ws.ff_a.data(), *b = ws.ff_b.data();
    float *q = ws.q.data(), *k = ws.k.data(), *v = ws.v.data();
    std::span<std::byte> mm = ws.mm_scratch;

    embed(tok_embd_, tokens, x, embd_scale_);  // [n, n_embd]
    for (int il = 0; il < hp_.n_layer; ++il) {
        ws.check_cancel();
        const Layer &L = layers_[static_cast<size_t>(il)];
        // attention, normalised before and after
        ops::rms_norm(x, L.attn_norm, n, n_embd, eps, h);
        const ops::Product qkv[] = {{&L.wq, q}, {&L.wk, k}, {&L.wv, v}};  // [n, q_dim], [n, kv_dim] x2
        ops::matmul(qkv, h, n, mm);
        ops::rms_norm(q, L.q_norm, n * hp_.n_head, hd, eps, q);     // per head
        ops::rms_norm(k, L.k_norm, n * hp_.n_head_kv, hd, eps, k);  // per head
        const ops::Rope &rope = L.local ? rope_local_ : rope_global_;
        ops::rope(rope, q, n, pos0, hp_.n_head, hd, q_dim);
        ops::rope(rope, k, n, pos0, hp_.n_head_kv, hd, kv_dim);
        for (int64_t i = 0; i < n * q_dim; ++i) q[i] *= q_scale_;
        kv.store(il, pos0, n, k, kv_dim, v, kv_dim);
        ops::attention(L.local ? attn_local_ : attn_global_, kv, il, q, q_dim, n, pos0,
                       ws.attn.data(), ws.shape.attn, ws.attn_scratch.data());
        ops::matmul(L.wo, ws.attn.data(), n, h, mm);  // [n, n_embd]
        ops::rms_norm(h, L.post_attn_norm, n, n_embd, eps, h);
        ops::add_into(x, h, n * n_embd);
        // GELU-gated feed-forward, normalised before and after
        ops::rms_norm(x, L.ffn_norm, n, n_embd, eps, h);
        in_ffn_slices(ws, h, n, n_embd, [&](float *hs, int64_t m) {
            ops::matmul_glu(L.gate, L.up, ops::geglu, hs, m, a, b, mm);  // [m, n_ff]
            ops::matmul(L.down, a, m, hs, mm);                           // [m, n_embd]
        });
        ops::rms_norm(h, L.post_ffn_norm, n, n_embd, eps, h);
        ops::add_into(x, h, n * n_embd);
    }
    output_head(x, n, hp_, out_norm_, output_, ws, logits, all_logits, softcap_);
}

}  // namespace

std::unique_ptr<const Architecture> make_gemma3(const gguf::File &file) {
    return std::make_unique<const Gemma3>(file);
}

}  // namespace ember::models
