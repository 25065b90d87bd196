// ops/elementwise.hpp - small per-element steps of a block (residual adds, bias adds).
#pragma once

#include <cstdint>

namespace ember::ops {

// y[i] += x[i] for i < n.
inline void add_into(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

// Each of n_rows rows of n (ld apart) gets b added (a bias).
inline void add_bias(float *y, const float *b, int64_t n_rows, int64_t n, int64_t ld) {
    for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t i = 0; i < n; ++i) y[r * ld + i] += b[i];
}

}  // namespace ember::ops
