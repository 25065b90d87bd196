// models/decoder.cpp - the pre-norm decoder of the llama family.
//
//   x = embed(tokens)
//   for each layer:
//       h = rmsnorm(x) * attn_norm
//       q, k, v = Wq h + bq, Wk h + bk, Wv h + bv        (biases optional; phi3's fused Wqkv split at load)
//       q, k = rmsnorm_per_head(q, k)                     (config.qk_norm: qwen3)
//       q, k = rope(q), rope(k)                           (config.rope_style: adjacent pairs or neox)
//       x = x + Wo attention(q, K, V)                     (grouped-query, causal)
//       h = rmsnorm(x) * ffn_norm
//       x = x + Wdown (silu(Wgate h) * Wup h)             (SwiGLU; phi3's fused gate|up split at load)
//   logits = Wout (rmsnorm(x) * output_norm) + bout        (Wout = token_embd if tied)
//
// Llama 3.1/3.2 rope scaling arrives as rope_freqs (one divisor per frequency); older
// linear scaling as rope.scaling.{type,factor}.
#include "models/decoder.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "models/blocks.hpp"
#include "models/loader.hpp"
#include "ops/activation.hpp"
#include "ops/attention.hpp"
#include "ops/elementwise.hpp"
#include "ops/norm.hpp"

#include <cmath>
#include <vector>

namespace ember::models {
namespace {

namespace key = gguf::arch;
namespace tn = gguf::tensor;

struct Layer {
    const float *attn_norm;         // [n_embd]
    ops::Weight wq, wk, wv;         // [q_dim, n_embd], [kv_dim, n_embd] x2 (phi3: rows of attn_qkv)
    const float *bq, *bk, *bv;      // [q_dim], [kv_dim], [kv_dim] or null
    const float *q_norm, *k_norm;   // [head_dim] (config.qk_norm)
    ops::Weight wo;                 // [n_embd, q_dim]
    const float *ffn_norm;          // [n_embd]
    ops::Weight gate, up;           // [n_ff, n_embd] each (phi3: the two halves of ffn_up)
    ops::Weight down;               // [n_embd, n_ff]
};

class Decoder final : public Architecture {
public:
    Decoder(const gguf::File &file, const DecoderConfig &config);
    const HParams &hparams() const override { return hp_; }
    WorkspaceShape workspace_shape(int64_t n_batch, int64_t n_ctx) const override;
    void forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv, Workspace &ws,
                 float *logits, bool all_logits) const override;

private:
    DecoderConfig cfg_;
    HParams hp_;
    ops::Rope rope_;
    ops::AttentionShape attn_;
    float q_scale_ = 1.0f;      // config.scale_q
    ops::Weight tok_embd_;      // [n_vocab, n_embd]
    const float *out_norm_;     // [n_embd]
    ops::Weight output_;        // [n_vocab, n_embd]; token_embd when tied
    const float *out_bias_;     // [n_vocab] or null
    std::vector<Layer> layers_;
};

// ---- hyper-parameters and weights ----------------------------------------------------------

Decoder::Decoder(const gguf::File &file, const DecoderConfig &config)
    : cfg_(config), hp_(read_decoder_hparams(file, config.arch)) {
    const HParamReader r(file, hp_.architecture);
    if (hp_.head_dim_k != hp_.head_dim_v)
        fail(Errc::invalid_model, "{} = {} differs from {} = {}", r.key(key::key_length),
             hp_.head_dim_k, r.key(key::value_length), hp_.head_dim_v);
    const int hd = hp_.head_dim_k;

    rope_.style = cfg_.rope_style;
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
    if (file.find_tensor(tn::rope_factors_long) || file.find_tensor(tn::rope_factors_short))
        fail(Errc::unsupported, "long/short rope factors ({}) are not supported", tn::rope_factors_long);
    rope_.freq_factors = bind_vector_optional(file, tn::rope_freqs, rope_.n_rot / 2);

    const float inv_sqrt_hd = 1.0f / std::sqrt(static_cast<float>(hd));
    attn_ = {hp_.n_head, hp_.n_head_kv, hd, hd, cfg_.scale_q ? 1.0f : inv_sqrt_hd, 0};
    if (cfg_.scale_q) q_scale_ = inv_sqrt_hd;

    const int64_t n_embd = hp_.n_embd, q_dim = int64_t{hp_.n_head} * hd, kv_dim = hp_.k_dim();
    tok_embd_ = bind_matrix(file, tn::token_embd, hp_.n_vocab, n_embd);
    out_norm_ = bind_vector(file, tn::output_norm, n_embd);
    output_ = bind_matrix_optional(file, tn::output, hp_.n_vocab, n_embd);
    if (output_.rows() == 0) output_ = tok_embd_;  // tied embeddings
    out_bias_ = bind_vector_optional(file, tn::output_bias, hp_.n_vocab);

    // phi3 stores q|k|v as one attn_qkv and gate|up as one ffn_up: bound as separate parts.
    const bool fused_qkv = file.find_tensor(gguf::blk_tensor(0, tn::attn_qkv)) != nullptr;
    const bool fused_up = file.find_tensor(gguf::blk_tensor(0, tn::ffn_gate)) == nullptr;
    layers_.reserve(static_cast<size_t>(hp_.n_layer));
    for (int il = 0; il < hp_.n_layer; ++il) {
        auto name = [il](std::string_view suffix) { return gguf::blk_tensor(il, suffix); };
        Layer L{};
        L.attn_norm = bind_vector(file, name(tn::attn_norm), n_embd);
        if (fused_qkv) {
            auto qkv = bind_matrix_parts(file, name(tn::attn_qkv), {q_dim, kv_dim, kv_dim}, n_embd);
            L.wq = std::move(qkv[0]), L.wk = std::move(qkv[1]), L.wv = std::move(qkv[2]);
        } else {
            L.wq = bind_matrix(file, name(tn::attn_q), q_dim, n_embd);
            L.wk = bind_matrix(file, name(tn::attn_k), kv_dim, n_embd);
            L.wv = bind_matrix(file, name(tn::attn_v), kv_dim, n_embd);
            L.bq = bind_vector_optional(file, name(tn::attn_q_bias), q_dim);
            L.bk = bind_vector_optional(file, name(tn::attn_k_bias), kv_dim);
            L.bv = bind_vector_optional(file, name(tn::attn_v_bias), kv_dim);
        }
        if (cfg_.qk_norm) {
            L.q_norm = bind_vector(file, name(tn::attn_q_norm), hd);
            L.k_norm = bind_vector(file, name(tn::attn_k_norm), hd);
        }
        L.wo = bind_matrix(file, name(tn::attn_output), n_embd, q_dim);
        L.ffn_norm = bind_vector(file, name(tn::ffn_norm), n_embd);
        if (fused_up) {
            auto gate_up = bind_matrix_parts(file, name(tn::ffn_up), {hp_.n_ff, hp_.n_ff}, n_embd);
            L.gate = std::move(gate_up[0]), L.up = std::move(gate_up[1]);
        } else {
            L.gate = bind_matrix(file, name(tn::ffn_gate), hp_.n_ff, n_embd);
            L.up = bind_matrix(file, name(tn::ffn_up), hp_.n_ff, n_embd);
        }
        L.down = bind_matrix(file, name(tn::ffn_down), n_embd, hp_.n_ff);
        layers_.push_back(std::move(L));
    }
}

WorkspaceShape Decoder::workspace_shape(int64_t n_batch, int64_t n_ctx) const {
    std::vector<const ops::Weight *> w{&output_}, ffn;
    for (const Layer &L : layers_) {
        w.insert(w.end(), {&L.wq, &L.wk, &L.wv, &L.wo});
        ffn.insert(ffn.end(), {&L.gate, &L.up, &L.down});
    }
    return decoder_workspace(hp_, attn_, n_batch, n_ctx, w, ffn);
}

// ---- forward pass ------------------------------------------------------------------------

void Decoder::forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv,
                      Workspace &ws, float *logits, bool all_logits) const {
    const int64_t n = static_cast<int64_t>(tokens.size());
    const int64_t n_embd = hp_.n_embd, q_dim = int64_t{hp_.n_head} * hp_.head_dim_k;
    const int64_t kv_dim = hp_.k_dim(), hd = hp_.head_dim_k;
    const float eps = hp_.norm_eps;
    float *x = ws.x.data(), *h = ws.xn.data(), *a = ws.ff_a.data(), *b = ws.ff_b.data();
    std::span<std::byte> mm = ws.mm_scratch;

    embed(tok_embd_, tokens, x);  // [n, n_embd]
    for (int il = 0; il < hp_.n_layer; ++il) {
        ws.check_cancel();
        const Layer &L = layers_[static_cast<size_t>(il)];
        // h = rmsnorm(x) * attn_norm;  q, k, v = projections of h
        ops::rms_norm(x, L.attn_norm, n, n_embd, eps, h);
        const Qkv io{ws.q.data(), q_dim, ws.k.data(), kv_dim, ws.v.data(), kv_dim};
        const ops::Product qkv[] = {{&L.wq, io.q}, {&L.wk, io.k}, {&L.wv, io.v}};  // [n, q_dim], [n, kv_dim] x2
        ops::matmul(qkv, h, n, mm);
        if (L.bq) ops::add_bias(io.q, L.bq, n, q_dim, io.ldq);
        if (L.bk) ops::add_bias(io.k, L.bk, n, kv_dim, io.ldk);
        if (L.bv) ops::add_bias(io.v, L.bv, n, kv_dim, io.ldv);
        if (cfg_.qk_norm) {
            for (int64_t t = 0; t < n; ++t) {
                ops::rms_norm(io.q + t * io.ldq, L.q_norm, hp_.n_head, hd, eps, io.q + t * io.ldq);
                ops::rms_norm(io.k + t * io.ldk, L.k_norm, hp_.n_head_kv, hd, eps, io.k + t * io.ldk);
            }
        }
        // x = x + Wo attention(rope(q), rope(k), v)
        if (cfg_.scale_q) {  // phi3: q scaled after RoPE, softmax unscaled (llama.cpp's order)
            ops::rope(rope_, io.q, n, pos0, hp_.n_head, static_cast<int>(hd), io.ldq);
            for (int64_t t = 0; t < n; ++t)
                for (int64_t i = 0; i < q_dim; ++i) io.q[t * io.ldq + i] *= q_scale_;
            ops::rope(rope_, io.k, n, pos0, hp_.n_head_kv, static_cast<int>(hd), io.ldk);
            kv.store(il, pos0, n, io.k, io.ldk, io.v, io.ldv);
            ops::attention(attn_, kv, il, io.q, io.ldq, n, pos0, ws.attn.data(), ws.shape.attn,
                           ws.attn_scratch.data());
        } else {
            rope_store_attend(rope_, attn_, kv, il, n, pos0, io, ws);
        }
        ops::matmul(L.wo, ws.attn.data(), n, h, mm);  // [n, n_embd]
        ops::add_into(x, h, n * n_embd);
        // x = x + Wdown (silu(Wgate h) * Wup h),  h = rmsnorm(x) * ffn_norm
        ops::rms_norm(x, L.ffn_norm, n, n_embd, eps, h);
        in_ffn_slices(ws, h, n, n_embd, [&](float *hs, int64_t m) {
            ops::matmul_glu(L.gate, L.up, ops::swiglu, hs, m, a, b, mm);  // [m, n_ff]
            ops::matmul(L.down, a, m, hs, mm);                            // [m, n_embd]
        });
        ops::add_into(x, h, n * n_embd);
    }
    output_head(x, n, hp_, out_norm_, output_, ws, logits, all_logits);
    if (logits && out_bias_) ops::add_bias(logits, out_bias_, all_logits ? n : 1, hp_.n_vocab, hp_.n_vocab);
}

}  // namespace

std::unique_ptr<const Architecture> make_decoder(const gguf::File &file, const DecoderConfig &config) {
    return std::make_unique<const Decoder>(file, config);
}

}  // namespace ember::models
