// models/phi3.cpp - Phi-3 over the shared pre-norm decoder (decoder.cpp).
//
// One fused projection attn_qkv gives Q (n_embd rows), then K and V (kv_dim rows each);
// one fused ffn_up gives gate (n_ff rows) then up, and the FFN is silu(gate) * up. RoPE in
// neox pairing; Q is multiplied by 1/sqrt(head_dim) after RoPE and the softmax is unscaled,
// as llama.cpp orders it. Long/short rope factors (128k-context variants) are refused.
#include "models/phi3.hpp"

#include "models/decoder.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_phi3(const gguf::File &file) {
    return make_decoder(file, {.arch = "phi3", .rope_style = ops::RopeStyle::neox, .scale_q = true});
}

}  // namespace ember::models
