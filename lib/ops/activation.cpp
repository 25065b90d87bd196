// ops/activation.cpp - gated FFN activations.
#include "ops/activation.hpp"

#include "quant/fp16.hpp"

#include <array>
#include <cmath>
#include <cstdint>

namespace ember::ops {

void swiglu(const float *gate, const float *up, int64_t n, float *y) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        y[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
}

namespace {
float gelu_tanh(float x) {
    constexpr float coef_a = 0.044715f;
    constexpr float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * x * (1.0f + coef_a * x * x)));
}

// ggml tabulates gelu at every fp16 input and stores fp16 outputs; evaluating the same
// expression at the rounded input and rounding the result gives the table's entry. So does
// this table, built once (128 KiB, 65536 tanh calls): per element, one conversion and one
// load instead of a tanh (which was 40% of Gemma 3's prompt time).
const std::array<uint16_t, 65536> &gelu_table() {
    static const std::array<uint16_t, 65536> table = [] {
        std::array<uint16_t, 65536> t{};
        for (uint32_t h = 0; h < 65536; ++h)
            t[h] = quant::f32_to_fp16(gelu_tanh(quant::fp16_to_f32(static_cast<uint16_t>(h))));
        return t;
    }();
    return table;
}
}  // namespace

float gelu_fp16_table(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    return quant::fp16_to_f32(gelu_table()[quant::f32_to_fp16(x)]);
}

void geglu(const float *gate, const float *up, int64_t n, float *y) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = gate[i];
        y[i] = g >= 10.0f ? g * up[i] : gelu_fp16_table(g) * up[i];
    }
}

}  // namespace ember::ops
