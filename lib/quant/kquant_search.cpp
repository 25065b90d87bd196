// quant/kquant_search.cpp - the K-quant quantizers (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K).
//
// A K-quant block has two levels of scale: each small sub-block (16 or 32 elements) gets
// its own f32 scale (and min) chosen by a search that minimises a weighted squared (or
// absolute) error, then those sub-block scales are themselves quantized to 4, 6 or 8 bits
// against one fp16 super-block scale, and finally every element is re-rounded against the
// scale it will really be decoded with.
//
// The searches follow the algorithm of llama.cpp's reference quantizers (its
// quantize_row_q*_K_ref), evaluated in the same floating-point order, so that ember writes
// the same bytes as `llama-quantize` does without an importance matrix. Tests check that.
#include "quant/blocks.hpp"
#include "quant/fp16.hpp"
#include "quant/kquant_scales.hpp"
#include "quant/scalar_util.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::quant {
namespace {

// Below this a group counts as all zeros (its scale would be a denormal or zero).
constexpr float k_group_eps = 1e-15f;

// ------------------------------------------------------------------ search helpers

// Asymmetric fit x ~ scale * L - min_out, L in [0, nmax], for Q2_K / Q4_K / Q5_K.
// Starts from the min/max grid, then tries nstep+1 grids whose number of levels is
// nmax + rmin + rdelta*k, solving the weighted least-squares (scale, min) for each set of
// rounded levels and keeping whichever has the lowest weighted error (|e| if use_mad,
// e^2 otherwise). The min is clamped to <= 0 (the format stores a non-negative offset).
float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *min_out,
                    float rmin, float rdelta, int nstep, bool use_mad) {
    float lo = x[0], hi = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (lo > 0) lo = 0;
    if (hi == lo) {
        std::fill(L, L + n, uint8_t{0});
        *min_out = -lo;
        return 0.f;
    }
    const float nmaxf = static_cast<float>(nmax);
    auto error_of = [&](float scale, float min, const uint8_t *levels) {
        float err = 0;
        for (int i = 0; i < n; ++i) {
            float diff = scale * static_cast<float>(levels[i]) + min - x[i];
            diff = use_mad ? std::fabs(diff) : diff * diff;
            err += w[i] * diff;
        }
        return err;
    };
    // The grid is anchored at the current best offset `min`: once a candidate improves on
    // the min/max grid, later grids start from its (refined) offset, as llama.cpp does.
    float min = lo;
    auto round_levels = [&](float iscale, uint8_t *levels) {
        for (int i = 0; i < n; ++i)
            levels[i] = static_cast<uint8_t>(std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax));
    };

    float iscale = nmaxf / (hi - min);
    float scale = 1 / iscale;
    round_levels(iscale, L);
    float best = error_of(scale, min, L);
    uint8_t trial[32];
    for (int step = 0; step <= nstep; ++step) {
        iscale = (rmin + rdelta * static_cast<float>(step) + nmaxf) / (hi - min);
        round_levels(iscale, trial);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const float l = trial[i];
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        // Weighted least squares for x ~ s*l + m over (s, m), via Cramer's rule.
        const float det = sum_w * sum_l2 - sum_l * sum_l;
        if (!(det > 0)) continue;
        float s = (sum_w * sum_xl - sum_x * sum_l) / det;
        float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
        if (m > 0) {  // a positive offset is not representable: refit the scale alone
            m = 0;
            s = sum_xl / sum_l2;
        }
        const float err = error_of(s, m, trial);
        if (err < best) {
            std::copy(trial, trial + n, L);
            best = err;
            scale = s;
            min = m;
        }
    }
    *min_out = -min;
    return scale;
}

// Symmetric fit x ~ scale * (L - nmax), L in [0, 2*nmax), weights x^2, for Q6_K.
// Tries 19 grids around the one that puts the extreme value on -nmax and keeps the one
// maximising (sum w x l)^2 / sum w l^2, i.e. with the least weighted squared error at its
// optimal scale.
float fit_symmetric(int n, int nmax, const float *x, int8_t *L) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    if (amax < k_group_eps) {
        std::fill(L, L + n, int8_t{0});
        return 0.f;
    }
    const float nmaxf = static_cast<float>(nmax);
    auto level = [&](float iscale, int i) { return std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1); };
    auto sums = [&](float iscale, float &sumlx, float &suml2) {
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const float l = static_cast<float>(level(iscale, i));
            const float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
    };
    auto store = [&](float iscale) {
        for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + level(iscale, i));
    };

    float iscale = -nmaxf / max;
    float sumlx, suml2;
    sums(iscale, sumlx, suml2);
    store(iscale);
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int step = -9; step <= 9; ++step) {
        if (step == 0) continue;
        iscale = -(nmaxf + 0.1f * static_cast<float>(step)) / max;
        sums(iscale, sumlx, suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            store(iscale);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// Symmetric fit for Q3_K: levels in [-nmax, nmax) (returned +nmax), weights x^2, improved
// by coordinate descent: each level in turn moves to the value that is optimal given the
// others, if that raises (sum w x l)^2 / sum w l^2. Up to five sweeps.
float fit_symmetric_descent(int n, int nmax, const float *x, int8_t *L) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i) {
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    if (amax < k_group_eps) {
        std::fill(L, L + n, int8_t{0});
        return 0.f;
    }
    const float iscale = -static_cast<float>(nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = static_cast<int8_t>(l);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(l);
        suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    for (int sweep = 0; sweep < 5; ++sweep) {
        int changed = 0;
        for (int i = 0; i < n; ++i) {
            const float w = x[i] * x[i];
            const float li = L[i];
            float slx = sumlx - w * x[i] * li;
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * li * li;
            const int nl = std::clamp(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            const float nlf = static_cast<float>(nl);
            slx += w * x[i] * nlf;
            sl2 += w * nlf * nlf;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = static_cast<int8_t>(nl);
                sumlx = slx;
                suml2 = sl2;
                ++changed;
            }
        }
        if (changed == 0) break;
    }
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Q2_K / Q3_K 2-bit packing: byte l of each 32-byte half holds elements l, l+32, l+64, l+96.
template <class Level>
void pack_2bit(const Level *L, uint8_t *qs) {
    for (int half = 0; half < 2; ++half)
        for (int l = 0; l < 32; ++l) {
            const Level *p = L + 128 * half + l;
            qs[32 * half + l] = static_cast<uint8_t>(p[0] | (p[32] << 2) | (p[64] << 4) | (p[96] << 6));
        }
}

// Q4_K / Q5_K: per 32-element sub-block, weights emphasise large values (rms + |x|).
void subblock_weights_k(const float *x, float *w) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[l] * x[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(x[l]);
}

// Shared by Q4_K and Q5_K: fit the 8 sub-blocks, quantize their scales/mins to 6 bits
// into `scales`, set d/dmin, and re-round the levels (0..nmax) against the stored values.
void quantize_k4_common(const float *x, int nmax, float rmin, int nstep, uint16_t &d_out,
                        uint16_t &dmin_out, uint8_t packed[k_scale_size], uint8_t L[qk_k]) {
    float scales[8], mins[8], w[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        subblock_weights_k(x + 32 * j, w);
        scales[j] = fit_scale_min(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    std::memset(packed, 0, k_scale_size);
    for (int j = 0; j < 8; ++j) {
        // The 8-bit wrap before the clamp matters only for a negative scale; kept as llama.cpp.
        const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
        const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
        if (j < 4) {
            packed[j] = ls;
            packed[j + 4] = lm;
        } else {
            packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
            packed[j - 4] = static_cast<uint8_t>(packed[j - 4] | ((ls >> 4) << 6));
            packed[j] = static_cast<uint8_t>(packed[j] | ((lm >> 4) << 6));
        }
    }
    d_out = f32_to_fp16(max_scale / 63.f);
    dmin_out = f32_to_fp16(max_min / 63.f);
    const float d = fp16_to_f32(d_out), dmin = fp16_to_f32(dmin_out);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        scale_min_k4(j, packed, sc, m);
        const float ds = d * static_cast<float>(sc);
        if (ds == 0) continue;  // keep the search's levels; they decode to -dm anyway
        const float dm = dmin * static_cast<float>(m);
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + l] + dm) / ds), 0, nmax));
    }
}

}  // namespace

// ========================================================================= Q2_K

void quantize_q2_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q2_k, n, qk_k);
    auto *y = static_cast<BlockQ2_K *>(dst);
    constexpr float q4scale = 15.f;
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        uint8_t L[qk_k];
        float w[16], scales[16], mins[16];
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
            scales[j] = fit_scale_min(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        std::memset(y[i].scales, 0, sizeof(y[i].scales));
        y[i].d = f32_to_fp16(0.f);
        y[i].dmin = f32_to_fp16(0.f);
        if (max_scale > 0) {
            const float iscale = q4scale / max_scale;
            for (int j = 0; j < 16; ++j) y[i].scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
            y[i].d = f32_to_fp16(max_scale / q4scale);
        }
        if (max_min > 0) {
            const float iscale = q4scale / max_min;
            for (int j = 0; j < 16; ++j)
                y[i].scales[j] = static_cast<uint8_t>(y[i].scales[j] | (nearest_int(iscale * mins[j]) << 4));
            y[i].dmin = f32_to_fp16(max_min / q4scale);
        }
        const float d = fp16_to_f32(y[i].d), dmin = fp16_to_f32(y[i].dmin);
        for (int j = 0; j < 16; ++j) {
            const float ds = d * static_cast<float>(y[i].scales[j] & 0xF);
            if (ds == 0) continue;
            const float dm = dmin * static_cast<float>(y[i].scales[j] >> 4);
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = static_cast<uint8_t>(std::clamp(nearest_int((x[16 * j + l] + dm) / ds), 0, 3));
        }
        pack_2bit(L, y[i].qs);
    }
}

// ========================================================================= Q3_K

void quantize_q3_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q3_k, n, qk_k);
    auto *y = static_cast<BlockQ3_K *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        int8_t L[qk_k];
        float scales[16];
        float amax = 0, max_scale = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = fit_symmetric_descent(16, 4, x + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > amax) {
                amax = std::fabs(scales[j]);
                max_scale = scales[j];
            }
        }
        std::memset(y[i].scales, 0, sizeof(y[i].scales));
        y[i].d = f32_to_fp16(0.f);
        if (max_scale != 0) {
            // 6-bit signed scales, biased by 32; layout as unpack_scales_q3_k reads it.
            const float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; ++j) {
                const auto l8 = static_cast<int8_t>(nearest_int(iscale * scales[j]));
                const int l = std::clamp<int>(l8, -32, 31) + 32;
                if (j < 8)
                    y[i].scales[j] = static_cast<uint8_t>(l & 0xF);
                else
                    y[i].scales[j - 8] = static_cast<uint8_t>(y[i].scales[j - 8] | ((l & 0xF) << 4));
                y[i].scales[8 + j % 4] = static_cast<uint8_t>(y[i].scales[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
            }
            y[i].d = f32_to_fp16(1 / iscale);
        }
        int8_t sc[16];
        unpack_scales_q3_k(y[i].scales, sc);
        const float d = fp16_to_f32(y[i].d);
        for (int j = 0; j < 16; ++j) {
            const float ds = d * static_cast<float>(sc[j]);
            if (ds == 0) continue;
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + l] / ds), -4, 3) + 4);
        }
        // High bit of element j goes to hmask[j % 32], bit j / 32; qs keeps the low 2 bits.
        std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
        for (int j = 0; j < qk_k; ++j) {
            if (L[j] > 3) {
                y[i].hmask[j % 32] = static_cast<uint8_t>(y[i].hmask[j % 32] | (1u << (j / 32)));
                L[j] = static_cast<int8_t>(L[j] - 4);
            }
        }
        pack_2bit(L, y[i].qs);
    }
}

// ========================================================================= Q4_K

void quantize_q4_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_k, n, qk_k);
    auto *y = static_cast<BlockQ4_K *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        uint8_t L[qk_k];
        quantize_k4_common(x, 15, -1.f, 20, y[i].d, y[i].dmin, y[i].scales, L);
        // 64-element chunks: element l in the low nibble, element l+32 in the high nibble.
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l)
                y[i].qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

// ========================================================================= Q5_K

void quantize_q5_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_k, n, qk_k);
    auto *y = static_cast<BlockQ5_K *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        uint8_t L[qk_k];
        quantize_k4_common(x, 31, -0.5f, 15, y[i].d, y[i].dmin, y[i].scales, L);
        // As Q4_K, plus the fifth bit of sub-block s (= element / 32) in bit s of qh[l].
        std::memset(y[i].qh, 0, sizeof(y[i].qh));
        for (int c = 0; c < 4; ++c)
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                y[i].qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
                y[i].qh[l] = static_cast<uint8_t>(y[i].qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

// ========================================================================= Q6_K

void quantize_q6_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q6_k, n, qk_k);
    auto *y = static_cast<BlockQ6_K *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        int8_t L[qk_k];
        float scales[16];
        float max_abs = 0, max_scale = 0;
        for (int j = 0; j < 16; ++j) {
            scales[j] = fit_symmetric(16, 32, x + 16 * j, L + 16 * j);
            if (std::fabs(scales[j]) > max_abs) {
                max_abs = std::fabs(scales[j]);
                max_scale = scales[j];
            }
        }
        std::memset(&y[i], 0, sizeof(BlockQ6_K));
        if (max_abs < k_group_eps) continue;  // all-zero block (d = +0)
        // 8-bit signed sub-block scales; -128/max puts the largest on -128 exactly.
        const float iscale = -128.f / max_scale;
        y[i].d = f32_to_fp16(1 / iscale);
        for (int j = 0; j < 16; ++j)
            y[i].scales[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[j])));
        const float d = fp16_to_f32(y[i].d);
        for (int j = 0; j < 16; ++j) {
            const float ds = d * static_cast<float>(y[i].scales[j]);
            if (ds == 0) continue;
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = static_cast<int8_t>(std::clamp(nearest_int(x[16 * j + l] / ds), -32, 31) + 32);
        }
        // Low nibbles: ql[l] holds elements l (low) and l+64 (high), ql[l+32] holds l+32 and
        // l+96; qh[l] holds the top 2 bits of l, l+32, l+64, l+96. Per 128-element half.
        for (int half = 0; half < 2; ++half) {
            const int8_t *p = L + 128 * half;
            uint8_t *ql = y[i].ql + 64 * half;
            uint8_t *qh = y[i].qh + 32 * half;
            for (int l = 0; l < 32; ++l) {
                ql[l] = static_cast<uint8_t>((p[l] & 0xF) | ((p[l + 64] & 0xF) << 4));
                ql[l + 32] = static_cast<uint8_t>((p[l + 32] & 0xF) | ((p[l + 96] & 0xF) << 4));
                qh[l] = static_cast<uint8_t>((p[l] >> 4) | ((p[l + 32] >> 4) << 2) | ((p[l + 64] >> 4) << 4) |
                                             ((p[l + 96] >> 4) << 6));
            }
        }
    }
}

}  // namespace ember::quant
