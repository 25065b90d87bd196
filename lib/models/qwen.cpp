// models/qwen.cpp - Qwen 2/2.5 and Qwen 3 over the shared pre-norm decoder (decoder.cpp).
//
// qwen2: biases on the Q, K and V projections (attn_{q,k,v}.bias, added after the
//        matmuls); RoPE in neox pairing (i, i + n_rot/2); usually tied output.
// qwen3: no biases; each query and key head is RMS-normalised over its head_dim values
//        (attn_q_norm / attn_k_norm) before RoPE; head_dim from key_length, so
//        n_head*head_dim may differ from n_embd; neox RoPE.
#include "models/qwen.hpp"

#include "models/decoder.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_qwen2(const gguf::File &file) {
    return make_decoder(file, {.arch = "qwen2", .rope_style = ops::RopeStyle::neox});
}

std::unique_ptr<const Architecture> make_qwen3(const gguf::File &file) {
    return make_decoder(file, {.arch = "qwen3", .rope_style = ops::RopeStyle::neox, .qk_norm = true});
}

}  // namespace ember::models
