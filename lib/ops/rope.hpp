// ops/rope.hpp - rotary position embeddings, both pairings llama.cpp uses.
#pragma once

#include <cstdint>

namespace ember::ops {

enum class RopeStyle {
    norm,  // rotate adjacent pairs (2i, 2i+1): llama
    neox,  // rotate pairs (i, i + n_rot/2): qwen2/3, gemma3, phi3
};

// Rotation of the first n_rot values of each head. Pair i turns by
//   theta_i = freq_scale * pos * base^(-2i/n_rot) / freq_factors[i]
// computed as ggml does (the power by repeated float multiplication), so angles match
// llama.cpp bit for bit.
struct Rope {
    int n_rot = 0;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;               // 1 / linear scaling factor
    RopeStyle style = RopeStyle::norm;
    const float *freq_factors = nullptr;   // [n_rot/2] divisors (Llama 3.1 rope_freqs), or null
};

inline constexpr int rope_max_dims = 1024;  // models are refused above this (head size bound)

// x: [n_tokens, ld] holding n_heads heads of head_dim each per token; token t is at
// position pos0 + t. Rotates in place.
void rope(const Rope &r, float *x, int64_t n_tokens, int64_t pos0, int n_heads, int head_dim,
          int64_t ld);

}  // namespace ember::ops
