// models/decoder.hpp - the pre-norm decoder shared by the llama family (llama, qwen2, qwen3,
// phi3). Each architecture file states its variations as a DecoderConfig.
#pragma once

#include "models/model.hpp"
#include "ops/rope.hpp"

#include <string_view>

namespace ember::models {

struct DecoderConfig {
    std::string_view arch;                    // general.architecture, prefix of its keys
    ops::RopeStyle rope_style = ops::RopeStyle::norm;
    bool qk_norm = false;   // RMSNorm of each query/key head before RoPE (attn_q_norm, attn_k_norm)
    bool scale_q = false;   // q *= 1/sqrt(head_dim) before attention (phi3) instead of in softmax
};

// Read and validate hyper-parameters, bind every weight, return the forward pass.
std::unique_ptr<const Architecture> make_decoder(const gguf::File &file, const DecoderConfig &config);

}  // namespace ember::models
