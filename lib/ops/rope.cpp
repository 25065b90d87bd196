// ops/rope.cpp - rotary position embeddings.
#include "ops/rope.hpp"

#include <cmath>

namespace ember::ops {

void rope(const Rope &r, float *x, int64_t n_tokens, int64_t pos0, int n_heads, int head_dim,
          int64_t ld) {
    const float theta_scale = std::pow(r.freq_base, -2.0f / static_cast<float>(r.n_rot));
    float cs[rope_max_dims];  // cos, sin of pair i at [2i], [2i+1]
    const int n_pairs = r.n_rot / 2;
    for (int64_t t = 0; t < n_tokens; ++t) {
        float theta = static_cast<float>(pos0 + t);
        for (int i = 0; i < n_pairs; ++i) {
            const float ff = r.freq_factors ? r.freq_factors[i] : 1.0f;
            const float angle = r.freq_scale * (theta / ff);
            cs[2 * i] = std::cos(angle);
            cs[2 * i + 1] = std::sin(angle);
            theta *= theta_scale;
        }
        float *row = x + t * ld;
        for (int h = 0; h < n_heads; ++h) {
            float *v = row + static_cast<int64_t>(h) * head_dim;
            for (int i = 0; i < n_pairs; ++i) {
                // norm pairs (2i, 2i+1); neox pairs (i, i + n_rot/2)
                const int a = r.style == RopeStyle::norm ? 2 * i : i;
                const int b = r.style == RopeStyle::norm ? 2 * i + 1 : i + n_pairs;
                const float c = cs[2 * i], s = cs[2 * i + 1];
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * c - x1 * s;
                v[b] = x0 * s + x1 * c;
            }
        }
    }
}

}  // namespace ember::ops
