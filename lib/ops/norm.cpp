// ops/norm.cpp - RMSNorm rows.
#include "ops/norm.hpp"

#include <cmath>

namespace ember::ops {

void rms_norm(const float *x, const float *w, int64_t n_rows, int64_t n, float eps, float *y,
              int64_t ld) {
    if (ld == 0) ld = n;
    for (int64_t r = 0; r < n_rows; ++r) {
        const float *xr = x + r * ld;
        float *yr = y + r * ld;
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
        const float mean = static_cast<float>(sum / static_cast<double>(n));
        const float scale = 1.0f / std::sqrt(mean + eps);
        if (w) {
            for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * scale) * w[i];
        } else {
            for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale;
        }
    }
}

}  // namespace ember::ops
