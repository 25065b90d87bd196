// ops/norm.hpp - RMSNorm, with llama.cpp's summation and rounding order.
#pragma once

#include <cstdint>

namespace ember::ops {

// y[i] = (x[i] * s) * w[i], s = 1 / sqrt(mean(x^2) + eps), for each of n_rows rows of n.
// The sum of squares is accumulated in double in index order (as ggml does), so a row's
// result never depends on how rows are batched or threaded. w may be nullptr (no weight).
// x and y may alias. Rows are ld floats apart (ld 0 means n).
void rms_norm(const float *x, const float *w, int64_t n_rows, int64_t n, float eps, float *y,
              int64_t ld = 0);

}  // namespace ember::ops
