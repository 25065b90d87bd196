// ops/activation.hpp - gated FFN activations with llama.cpp's CPU numerics.
#pragma once

#include <cstdint>

namespace ember::ops {

// y[i] = silu(gate[i]) * up[i], silu(x) = x / (1 + e^-x). y may alias gate or up.
void swiglu(const float *gate, const float *up, int64_t n, float *y);

// y[i] = gelu(gate[i]) * up[i] with GELU in its tanh form evaluated the way ggml's CPU
// backend does: through an fp16 table, i.e. the input rounded to fp16 and the result
// rounded to fp16, except |x| >= 10 (x for x >= 10, 0 for x <= -10).
void geglu(const float *gate, const float *up, int64_t n, float *y);

// gelu as above, one value (exposed for tests).
float gelu_fp16_table(float x);

}  // namespace ember::ops
