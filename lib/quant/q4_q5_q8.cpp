// quant/q4_q5_q8.cpp - the 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
//
// Quantizers reproduce llama.cpp's quantize_row_*_ref bit for bit (same search for the
// extreme value, same scale expression, same truncating conversions); dequantizers and dots
// reproduce its dequantize_row_* and scalar vec_dot arithmetic order, so float results match.
#include "quant/blocks.hpp"
#include "quant/fp16.hpp"
#include "quant/scalar_util.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace ember::quant {
namespace {

// C's (int8_t)/(uint8_t) conversion of a float as llama.cpp writes it, for values in range
// (truncation toward zero). Out-of-range values and NaN (only from non-finite inputs) are
// saturated instead of being undefined behaviour.
inline int trunc_to_int(float v) {
    if (!(v > -256.f)) return v != v ? 0 : -256;
    if (v >= 256.f) return 256;
    return static_cast<int>(v);
}

// amax and the signed value that attains it (the first one, like llama.cpp's strict '<').
inline float signed_absmax(const float *x, int n) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

inline void min_max(const float *x, int n, float &min, float &max) {
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int j = 0; j < n; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
}

}  // namespace

// ===================================================================== quantize

void quantize_q4_0(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_0, n, qk4_0);
    auto *y = static_cast<BlockQ4_0 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk4_0) {
        // The extreme value maps to -8, so the full range [-8, 7] is used on its side.
        const float d = signed_absmax(x, qk4_0) / -8;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < qk4_0 / 2; ++j) {
            const int lo = std::min(15, trunc_to_int(x[j] * id + 8.5f));
            const int hi = std::min(15, trunc_to_int(x[j + qk4_0 / 2] * id + 8.5f));
            y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
        }
    }
}

void quantize_q4_1(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_1, n, qk4_1);
    auto *y = static_cast<BlockQ4_1 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk4_1) {
        float min, max;
        min_max(x, qk4_1, min, max);
        const float d = (max - min) / 15;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        y[i].m = f32_to_fp16(min);
        for (int j = 0; j < qk4_1 / 2; ++j) {
            const int lo = std::min(15, trunc_to_int((x[j] - min) * id + 0.5f));
            const int hi = std::min(15, trunc_to_int((x[j + qk4_1 / 2] - min) * id + 0.5f));
            y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
        }
    }
}

void quantize_q5_0(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_0, n, qk5_0);
    auto *y = static_cast<BlockQ5_0 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk5_0) {
        const float d = signed_absmax(x, qk5_0) / -16;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < qk5_0 / 2; ++j) {
            const int lo = std::min(31, trunc_to_int(x[j] * id + 16.5f));
            const int hi = std::min(31, trunc_to_int(x[j + qk5_0 / 2] * id + 16.5f));
            y[i].qs[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;               // bit 4 of element j
            qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + qk5_0 / 2);  // ... of j + 16
        }
        store_u32(y[i].qh, qh);
    }
}

void quantize_q5_1(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_1, n, qk5_1);
    auto *y = static_cast<BlockQ5_1 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk5_1) {
        float min, max;
        min_max(x, qk5_1, min, max);
        const float d = (max - min) / 31;
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        y[i].m = f32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < qk5_1 / 2; ++j) {
            // No clamp to 31 here, as in llama.cpp: the value is kept to 8 bits and its low
            // 5 bits stored (a rounding overshoot to 32 therefore stores 0, identically).
            const auto lo = static_cast<uint8_t>(trunc_to_int((x[j] - min) * id + 0.5f));
            const auto hi = static_cast<uint8_t>(trunc_to_int((x[j + qk5_1 / 2] - min) * id + 0.5f));
            y[i].qs[j] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
            qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
            qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + qk5_1 / 2);
        }
        store_u32(y[i].qh, qh);
    }
}

namespace {
// Q8_0 and Q8_1 share the scale: amax / 127, rounding half away from zero (roundf).
inline float q8_scale(const float *x, int n) {
    float amax = 0.f;
    for (int j = 0; j < n; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
    return amax / 127;
}
inline int8_t q8_round(float v) {
    return static_cast<int8_t>(std::max(-128, std::min(127, trunc_to_int(std::round(v)))));
}
}  // namespace

void quantize_q8_0(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_0, n, qk8_0);
    auto *y = static_cast<BlockQ8_0 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk8_0) {
        const float d = q8_scale(x, qk8_0);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        for (int j = 0; j < qk8_0; ++j) y[i].qs[j] = q8_round(x[j] * id);
    }
}

void quantize_q8_1(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_1, n, qk8_1);
    auto *y = static_cast<BlockQ8_1 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk8_1) {
        const float d = q8_scale(x, qk8_1);
        const float id = d != 0.f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < qk8_1; ++j) {
            y[i].qs[j] = q8_round(x[j] * id);
            sum += y[i].qs[j];
        }
        // s = d * sum(q): lets the Q4_1/Q5_1 dot add the weight's offset m in one product.
        y[i].s = f32_to_fp16(static_cast<float>(sum) * d);
    }
}

// The activation quantizers of llama.cpp's x86 CPU backend (its AVX/AVX2/AVX-512 builds,
// which the reference logits come from) differ from the generic reference above in two
// ways that flip a quant now and then: the multiplier is 127 / amax (not 1 / (amax / 127))
// and x * id is rounded half to EVEN (vroundps), not half away from zero. Matmuls use these.
namespace {
inline float q8_act_block(const float *x, int8_t *q, int &sum) {
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    sum = 0;
    for (int j = 0; j < 32; ++j) {
        // nearbyint under the default rounding mode rounds half to even; |x * id| <= 127.
        q[j] = static_cast<int8_t>(std::max(-128.f, std::min(127.f, std::nearbyint(x[j] * id))));
        sum += q[j];
    }
    return amax / 127.f;
}
}  // namespace

void quantize_q8_0_act(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_0, n, qk8_0);
    auto *y = static_cast<BlockQ8_0 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk8_0) {
        int sum;
        y[i].d = f32_to_fp16(q8_act_block(x, y[i].qs, sum));
    }
}

void quantize_q8_1_act(const float *x, void *dst, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_1, n, qk8_1);
    auto *y = static_cast<BlockQ8_1 *>(dst);
    for (int64_t i = 0; i < nb; ++i, x += qk8_1) {
        int sum;
        const float d = q8_act_block(x, y[i].qs, sum);
        y[i].d = f32_to_fp16(d);
        y[i].s = f32_to_fp16(d * static_cast<float>(sum));
    }
}

// =================================================================== dequantize

void dequantize_q4_0(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_0, n, qk4_0);
    const auto *x = static_cast<const BlockQ4_0 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk4_0) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < qk4_0 / 2; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 0xF) - 8) * d;
            y[j + qk4_0 / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantize_q4_1(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q4_1, n, qk4_1);
    const auto *x = static_cast<const BlockQ4_1 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk4_1) {
        const float d = fp16_to_f32(x[i].d), m = fp16_to_f32(x[i].m);
        for (int j = 0; j < qk4_1 / 2; ++j) {
            y[j] = static_cast<float>(x[i].qs[j] & 0xF) * d + m;
            y[j + qk4_1 / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

namespace {
// Element j of a Q5 block: low nibble from qs, fifth bit from qh (bit j).
inline int q5_value(const uint8_t *qs, uint32_t qh, int j) {
    const int nib = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
    return nib | static_cast<int>(((qh >> j) & 1u) << 4);
}
}  // namespace

void dequantize_q5_0(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_0, n, qk5_0);
    const auto *x = static_cast<const BlockQ5_0 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk5_0) {
        const float d = fp16_to_f32(x[i].d);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < qk5_0; ++j) y[j] = static_cast<float>(q5_value(x[i].qs, qh, j) - 16) * d;
    }
}

void dequantize_q5_1(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q5_1, n, qk5_1);
    const auto *x = static_cast<const BlockQ5_1 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk5_1) {
        const float d = fp16_to_f32(x[i].d), m = fp16_to_f32(x[i].m);
        const uint32_t qh = load_u32(x[i].qh);
        for (int j = 0; j < qk5_1; ++j) y[j] = static_cast<float>(q5_value(x[i].qs, qh, j)) * d + m;
    }
}

void dequantize_q8_0(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_0, n, qk8_0);
    const auto *x = static_cast<const BlockQ8_0 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk8_0) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < qk8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

void dequantize_q8_1(const void *src, float *y, int64_t n) {
    const int64_t nb = whole_blocks(DType::q8_1, n, qk8_1);
    const auto *x = static_cast<const BlockQ8_1 *>(src);
    for (int64_t i = 0; i < nb; ++i, y += qk8_1) {
        const float d = fp16_to_f32(x[i].d);
        for (int j = 0; j < qk8_1; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

// ====================================================================== vec_dot
// Each mirrors the factor order of llama.cpp's scalar code; f32 products are not
// associative, so the order is part of the reference.

float vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q4_0, n, qk4_0);
    const auto *x = static_cast<const BlockQ4_0 *>(w);
    const auto *y = static_cast<const BlockQ8_0 *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        int sumi = 0;
        for (int j = 0; j < qk4_0 / 2; ++j) {
            sumi += ((x[i].qs[j] & 0xF) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + qk4_0 / 2];
        }
        sum += static_cast<float>(sumi) * fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d);
    }
    return sum;
}

namespace {
// llama.cpp's x86 Q4_1/Q5_1 x Q8_1 dot (the reference logits come from it) keeps 8 f32 lanes,
// lane k accumulating fma(isum of elements 4k..4k+3, d_w * d_a) over the blocks, sums the
// offset terms m * s separately, and ends with a fixed horizontal sum plus that separate sum.
// The two parts nearly cancel (m is about -8 d), so this order is visible in the result and
// is reproduced for matmuls (matmul_vec_dot); the generic per-block sum stays in the table.
struct LaneDot {
    float acc[8] = {};
    float summs = 0.f;
    void add_block(const int q[32], const int8_t *a, float dwda, float m_w, float s_a) {
        summs += m_w * s_a;  // rounded product, then the sum (as in llama.cpp's C source)
        for (int k = 0; k < 8; ++k) {
            int isum = 0;
            for (int j = 4 * k; j < 4 * k + 4; ++j) isum += q[j] * a[j];
            acc[k] = std::fma(static_cast<float>(isum), dwda, acc[k]);
        }
    }
    float result() const {
        float r[4];
        for (int i = 0; i < 4; ++i) r[i] = acc[i + 4] + acc[i];
        return ((r[0] + r[2]) + (r[1] + r[3])) + summs;
    }
};
}  // namespace

float vec_dot_q4_1_q8_1_x86(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q4_1, n, qk4_1);
    const auto *x = static_cast<const BlockQ4_1 *>(w);
    const auto *y = static_cast<const BlockQ8_1 *>(a);
    LaneDot dot;
    for (int64_t i = 0; i < nb; ++i) {
        int q[32];
        for (int j = 0; j < qk4_1 / 2; ++j) {
            q[j] = x[i].qs[j] & 0xF;
            q[j + qk4_1 / 2] = x[i].qs[j] >> 4;
        }
        dot.add_block(q, y[i].qs, fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d),
                      fp16_to_f32(x[i].m), fp16_to_f32(y[i].s));
    }
    return dot.result();
}

float vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q4_1, n, qk4_1);
    const auto *x = static_cast<const BlockQ4_1 *>(w);
    const auto *y = static_cast<const BlockQ8_1 *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        int sumi = 0;
        for (int j = 0; j < qk4_1 / 2; ++j) {
            sumi += (x[i].qs[j] & 0xF) * y[i].qs[j];
            sumi += (x[i].qs[j] >> 4) * y[i].qs[j + qk4_1 / 2];
        }
        sum += (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d)) * static_cast<float>(sumi) +
               fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
    }
    return sum;
}

float vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q5_0, n, qk5_0);
    const auto *x = static_cast<const BlockQ5_0 *>(w);
    const auto *y = static_cast<const BlockQ8_0 *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        const uint32_t qh = load_u32(x[i].qh);
        int sumi = 0;
        for (int j = 0; j < qk5_0; ++j) sumi += (q5_value(x[i].qs, qh, j) - 16) * y[i].qs[j];
        sum += (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d)) * static_cast<float>(sumi);
    }
    return sum;
}

float vec_dot_q5_1_q8_1_x86(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q5_1, n, qk5_1);
    const auto *x = static_cast<const BlockQ5_1 *>(w);
    const auto *y = static_cast<const BlockQ8_1 *>(a);
    LaneDot dot;
    for (int64_t i = 0; i < nb; ++i) {
        const uint32_t qh = load_u32(x[i].qh);
        int q[32];
        for (int j = 0; j < qk5_1; ++j) q[j] = q5_value(x[i].qs, qh, j);
        dot.add_block(q, y[i].qs, fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d),
                      fp16_to_f32(x[i].m), fp16_to_f32(y[i].s));
    }
    return dot.result();
}

float vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q5_1, n, qk5_1);
    const auto *x = static_cast<const BlockQ5_1 *>(w);
    const auto *y = static_cast<const BlockQ8_1 *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        const uint32_t qh = load_u32(x[i].qh);
        int sumi = 0;
        for (int j = 0; j < qk5_1; ++j) sumi += q5_value(x[i].qs, qh, j) * y[i].qs[j];
        sum += (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d)) * static_cast<float>(sumi) +
               fp16_to_f32(x[i].m) * fp16_to_f32(y[i].s);
    }
    return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *a) {
    const int64_t nb = whole_blocks(DType::q8_0, n, qk8_0);
    const auto *x = static_cast<const BlockQ8_0 *>(w);
    const auto *y = static_cast<const BlockQ8_0 *>(a);
    float sum = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
        int sumi = 0;
        for (int j = 0; j < qk8_0; ++j) sumi += x[i].qs[j] * y[i].qs[j];
        sum += static_cast<float>(sumi) * (fp16_to_f32(x[i].d) * fp16_to_f32(y[i].d));
    }
    return sum;
}

}  // namespace ember::quant
