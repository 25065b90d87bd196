// quant/kquants.cpp - K-quant super-blocks (256 elements): dequantize, the Q8_K activation
// format, and the scalar reference dots against Q8_K.
//
// Dequantizers reproduce llama.cpp's dequantize_row_q*_K arithmetic exactly. The dots follow
// its scalar (generic) code: integer sums per sub-block, and for Q3_K..Q6_K eight f32 lane
// accumulators (lane = element index mod 8) summed at the end, so results match it bit for
// bit. The quantizers for Q2_K..Q6_K are in kquant_search.cpp.
#include "quant/blocks.hpp"
#include "quant/fp16.hpp"
#include "quant/kquant_scales.hpp"
#include "quant/scalar_util.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::quant {

// ======================================================================== Q8_K

void quantize_q8_k(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_k, n, qk_k);
    auto *y = static_cast<BlockQ8_K *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk_k) {
        float amax = 0.f, max = 0.f;
        for (int j = 0; j < qk_k; ++j) {
            if (std::fabs(x[j]) > amax) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        if (amax == 0.f) {
            std::memset(&y[i], 0, sizeof(BlockQ8_K));
            continue;
        }
        // -127/max rather than 127/amax: the extreme value lands exactly on -127 or 127.
        const float iscale = -127.f / max;
        for (int j = 0; j < qk_k; ++j)
            y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
        for (int g = 0; g < qk_k / 16; ++g) {
            int sum = 0;
            for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
            y[i].bsums[g] = static_cast<int16_t>(sum);
        }
        y[i].d = 1 / iscale;
    }
}

void dequantize_q8_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_k, n, qk_k);
    const auto *x = static_cast<const BlockQ8_K *>(src);
    for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < qk_k; ++j) *y++ = x[i].d * static_cast<float>(x[i].qs[j]);
}

// ================================================================== dequantize
// Element order inside a super-block, shared by Q2_K/Q3_K: 128-element halves; in each,
// four 32-element groups take successive 2-bit fields (shift 0,2,4,6) of the same 32 bytes.

void dequantize_q2_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q2_k, n, qk_k);
    const auto *x = static_cast<const BlockQ2_K *>(src);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part) {  // two sub-blocks of 16
                    const uint8_t sc = x[i].scales[is++];
                    const float dl = d * static_cast<float>(sc & 0xF);
                    const float ml = dmin * static_cast<float>(sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * static_cast<float>((q[16 * part + l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void dequantize_q3_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q3_k, n, qk_k);
    const auto *x = static_cast<const BlockQ3_K *>(src);
    for (int64_t i = 0; i < nb; ++i) {
        const float d_all = fp16_to_f32(x[i].d);
        int8_t scales[16];
        unpack_scales_q3_k(x[i].scales, scales);
        const uint8_t *q = x[i].qs;
        uint8_t m = 1;  // hmask bit for the current 32-element group
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1)) {
                for (int part = 0; part < 2; ++part) {
                    const float dl = d_all * static_cast<float>(scales[is++]);
                    for (int l = 16 * part; l < 16 * part + 16; ++l) {
                        const int v = ((q[l] >> shift) & 3) - ((x[i].hmask[l] & m) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
            }
        }
    }
}

void dequantize_q4_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_k, n, qk_k);
    const auto *x = static_cast<const BlockQ4_K *>(src);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
        const uint8_t *q = x[i].qs;
        // 64-element chunks: low nibbles are sub-block 2c, high nibbles sub-block 2c+1.
        for (int c = 0; c < 4; ++c, q += 32) {
            uint8_t sc, m;
            scale_min_k4(2 * c, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            scale_min_k4(2 * c + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

void dequantize_q5_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_k, n, qk_k);
    const auto *x = static_cast<const BlockQ5_K *>(src);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_f32(x[i].d), dmin = fp16_to_f32(x[i].dmin);
        const uint8_t *ql = x[i].qs;
        const uint8_t *qh = x[i].qh;
        for (int c = 0; c < 4; ++c, ql += 32) {
            // Fifth bits: sub-block s uses bit s of qh[l].
            const auto u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
            uint8_t sc, m;
            scale_min_k4(2 * c, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            scale_min_k4(2 * c + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

namespace {
// The 256 signed 6-bit values of a Q6_K block, in element order (-32..31).
inline void unpack_q6_k(const BlockQ6_K &b, int8_t out[qk_k]) {
    const uint8_t *ql = b.ql;
    const uint8_t *qh = b.qh;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, out += 128) {
        for (int l = 0; l < 32; ++l) {
            out[l + 0] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
            out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
}
}  // namespace

void dequantize_q6_k(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q6_k, n, qk_k);
    const auto *x = static_cast<const BlockQ6_K *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk_k) {
        const float d = fp16_to_f32(x[i].d);
        int8_t q[qk_k];
        unpack_q6_k(x[i], q);
        for (int j = 0; j < qk_k; ++j)
            y[j] = d * static_cast<float>(x[i].scales[j / 16]) * static_cast<float>(q[j]);
    }
}

// ===================================================================== vec_dot

float vec_dot_q2_k_q8_k(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q2_k, n, qk_k);
    const auto *x = static_cast<const BlockQ2_K *>(w);
    const auto *y = static_cast<const BlockQ8_K *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        // Mins enter through the activation's 16-element sums: sum(q8 * m) = m * bsum.
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * (x[i].scales[j] >> 4);
        const float dall = y[i].d * fp16_to_f32(x[i].d);
        const float dmin = y[i].d * fp16_to_f32(x[i].dmin);
        const uint8_t *q2 = x[i].qs;
        const int8_t *q8 = y[i].qs;
        int isum = 0, is = 0;
        for (int half = 0; half < 2; ++half, q2 += 32) {
            for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
                for (int part = 0; part < 2; ++part) {
                    int s = 0;
                    for (int l = 16 * part; l < 16 * part + 16; ++l) s += q8[l] * ((q2[l] >> shift) & 3);
                    isum += (x[i].scales[is++] & 0xF) * s;
                }
            }
        }
        sum += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
    }
    return sum;
}

namespace {
// The common tail of the Q3_K..Q6_K dots: for one block, lane l (l < 8) gets
// sum over elements e with e % 8 == l of scale[e / 16] * q[e] * q8[e], all in integers.
inline void lane_sums(const int8_t q[qk_k], const int scale16[16], const int8_t *q8, int32_t lanes[8]) {
    for (int l = 0; l < 8; ++l) lanes[l] = 0;
    for (int e = 0; e < qk_k; ++e) lanes[e % 8] += scale16[e / 16] * (q[e] * q8[e]);
}
}  // namespace

float vec_dot_q3_k_q8_k(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q3_k, n, qk_k);
    const auto *x = static_cast<const BlockQ3_K *>(w);
    const auto *y = static_cast<const BlockQ8_K *>(a);
    float sums[8] = {};
    for (int64_t i = 0; i < nb; ++i) {
        int8_t q[qk_k];
        int8_t *out = q;
        const uint8_t *q3 = x[i].qs;
        uint8_t m = 1;
        for (int half = 0; half < 2; ++half, q3 += 32)
            for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1), out += 32)
                for (int l = 0; l < 32; ++l)
                    out[l] = static_cast<int8_t>(((q3[l] >> shift) & 3) - ((x[i].hmask[l] & m) ? 0 : 4));
        int8_t sc8[16];
        unpack_scales_q3_k(x[i].scales, sc8);
        int sc[16];
        for (int j = 0; j < 16; ++j) sc[j] = sc8[j];
        int32_t lanes[8];
        lane_sums(q, sc, y[i].qs, lanes);
        const float d = fp16_to_f32(x[i].d) * y[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(lanes[l]);
    }
    float sum = 0.f;
    for (float s : sums) sum += s;
    return sum;
}

namespace {
// Q4_K and Q5_K differ only in the fifth bit; with_high adds it.
template <class Block, bool with_high>
float dot_q45_k(int64_t nb, const Block *x, const BlockQ8_K *y) {
    float sums[8] = {};
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        int8_t q[qk_k];
        for (int c = 0; c < 4; ++c) {
            for (int l = 0; l < 32; ++l) {
                int lo = x[i].qs[32 * c + l] & 0xF, hi = x[i].qs[32 * c + l] >> 4;
                if constexpr (with_high) {
                    lo += (x[i].qh[l] >> (2 * c)) & 1 ? 16 : 0;
                    hi += (x[i].qh[l] >> (2 * c + 1)) & 1 ? 16 : 0;
                }
                q[64 * c + l] = static_cast<int8_t>(lo);
                q[64 * c + 32 + l] = static_cast<int8_t>(hi);
            }
        }
        uint8_t scales[8], mins[8];
        unpack_scales_mins_k4(x[i].scales, scales, mins);
        int sc16[16];
        for (int j = 0; j < 16; ++j) sc16[j] = scales[j / 2];
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * mins[j / 2];
        int32_t lanes[8];
        lane_sums(q, sc16, y[i].qs, lanes);
        const float d = fp16_to_f32(x[i].d) * y[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(lanes[l]);
        const float dmin = fp16_to_f32(x[i].dmin) * y[i].d;
        sum -= dmin * static_cast<float>(summs);
    }
    for (float s : sums) sum += s;
    return sum;
}
}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q4_k, n, qk_k);
    return dot_q45_k<BlockQ4_K, false>(nb, static_cast<const BlockQ4_K *>(w), static_cast<const BlockQ8_K *>(a));
}

float vec_dot_q5_k_q8_k(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q5_k, n, qk_k);
    return dot_q45_k<BlockQ5_K, true>(nb, static_cast<const BlockQ5_K *>(w), static_cast<const BlockQ8_K *>(a));
}

float vec_dot_q6_k_q8_k(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q6_k, n, qk_k);
    const auto *x = static_cast<const BlockQ6_K *>(w);
    const auto *y = static_cast<const BlockQ8_K *>(a);
    float sums[8] = {};
    for (int64_t i = 0; i < nb; ++i) {
        int8_t q[qk_k];
        unpack_q6_k(x[i], q);
        int sc[16];
        for (int j = 0; j < 16; ++j) sc[j] = x[i].scales[j];
        int32_t lanes[8];
        lane_sums(q, sc, y[i].qs, lanes);
        const float d = fp16_to_f32(x[i].d) * y[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(lanes[l]);
    }
    float sum = 0.f;
    for (float s : sums) sum += s;
    return sum;
}

}  // namespace ember::quant
