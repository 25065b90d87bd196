// kernels/scalar_dots.cpp - the SIMD kernels' per-element arithmetic in scalar code (see
// scalar_dots.hpp). Each function decodes a block's quants to plain integers, forms the
// block's exact integer sums, then applies the same float operations in the same order as the
// SIMD tiles. std::fma keeps the fused roundings (a library call where the target has no FMA).
#include "kernels/scalar_dots.hpp"

#include "kernels/float_order.hpp"
#include "quant/blocks.hpp"
#include "quant/fp16.hpp"
#include "quant/kquant_scales.hpp"
#include "quant/traits.hpp"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace ember::kernels {
namespace {

using quant::fp16_to_f32;

// Unsigned 4-bit quants of a 32-element block: element j in the low nibble of qs[j], element
// j + 16 in the high nibble.
void nibbles32(const uint8_t *qs, int q[32]) {
    for (int j = 0; j < 16; ++j) {
        q[j] = qs[j] & 0xF;
        q[j + 16] = qs[j] >> 4;
    }
}

// Adds the fifth bits: bit j of the little-endian qh word belongs to element j.
void fifth_bits32(const uint8_t qh_bytes[4], int q[32]) {
    uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 32; ++j) q[j] |= static_cast<int>((qh >> j) & 1u) << 4;
}

int dot32(const int q[32], const int8_t *a) {
    int s = 0;
    for (int j = 0; j < 32; ++j) s += q[j] * a[j];
    return s;
}

// Q8_0, Q4_0, Q5_0 against Q8_0: isum = sum (q - offset) * a; acc = fma(isum, dw * da, acc).
template <class Block, int Offset>
float dot_q32_q8_0(int64_t n, const void *w, const void *act) {
    const auto *x = static_cast<const Block *>(w);
    const auto *y = static_cast<const quant::BlockQ8_0 *>(act);
    float acc = 0.f;
    for (int64_t b = 0; b < n / 32; ++b) {
        int q[32];
        if constexpr (std::is_same_v<Block, quant::BlockQ8_0>) {
            for (int j = 0; j < 32; ++j) q[j] = x[b].qs[j];
        } else {
            nibbles32(x[b].qs, q);
            if constexpr (std::is_same_v<Block, quant::BlockQ5_0>) fifth_bits32(x[b].qh, q);
            for (int j = 0; j < 32; ++j) q[j] -= Offset;
        }
        const float dd = fp16_to_f32(x[b].d) * fp16_to_f32(y[b].d);
        acc = std::fma(static_cast<float>(dot32(q, y[b].qs)), dd, acc);
    }
    return acc;
}

// Unsigned quants of a Q4_K / Q5_K super-block: sub-block s (32 elements) is the low (s even)
// or high (s odd) nibbles of qs[32 (s / 2) ..], plus, for Q5_K, bit s of qh[l] as the fifth bit.
template <class Block>
float dot_q45_k(int64_t n, const void *w, const void *act) {
    constexpr bool five = std::is_same_v<Block, quant::BlockQ5_K>;
    const auto *x = static_cast<const Block *>(w);
    const auto *y = static_cast<const quant::BlockQ8_K *>(act);
    float acc = 0.f;
    for (int64_t b = 0; b < n / quant::qk_k; ++b) {
        uint8_t sc[8], mn[8];
        quant::unpack_scales_mins_k4(x[b].scales, sc, mn);
        int isum = 0, msum = 0;
        for (int s = 0; s < 8; ++s) {
            int sub = 0;
            for (int l = 0; l < 32; ++l) {
                const uint8_t byte = x[b].qs[32 * (s / 2) + l];
                int q = (s % 2 == 0) ? (byte & 0xF) : (byte >> 4);
                if constexpr (five) q |= ((x[b].qh[l] >> s) & 1) << 4;
                sub += q * y[b].qs[32 * s + l];
            }
            isum += sc[s] * sub;
            msum += mn[s] * (y[b].bsums[2 * s] + y[b].bsums[2 * s + 1]);
        }
        const float da = y[b].d;
        acc = std::fma(static_cast<float>(isum), fp16_to_f32(x[b].d) * da, acc);
        acc = std::fma(-static_cast<float>(msum), fp16_to_f32(x[b].dmin) * da, acc);
    }
    return acc;
}

// Q6_K: element e = 128 h + 32 k + l (h half, k quadrant) has its low 4 bits in ql[64 h + l +
// 32 (k & 1)] (low nibble for k < 2), its top 2 bits at bit 2k of qh[32 h + l], and the scale
// of its 16-element sub-block e / 16.
float dot_q6_k(int64_t n, const void *w, const void *act) {
    const auto *x = static_cast<const quant::BlockQ6_K *>(w);
    const auto *y = static_cast<const quant::BlockQ8_K *>(act);
    float acc = 0.f;
    for (int64_t b = 0; b < n / quant::qk_k; ++b) {
        int sub[16] = {};
        for (int e = 0; e < quant::qk_k; ++e) {
            const int h = e / 128, k = (e % 128) / 32, l = e % 32;
            const uint8_t lo = x[b].ql[64 * h + l + 32 * (k & 1)];
            const int q = (k < 2 ? (lo & 0xF) : (lo >> 4)) | (((x[b].qh[32 * h + l] >> (2 * k)) & 3) << 4);
            sub[e / 16] += q * y[b].qs[e];
        }
        int isum = 0, corr = 0;
        for (int j = 0; j < 16; ++j) {
            isum += x[b].scales[j] * sub[j];
            corr += x[b].scales[j] * y[b].bsums[j];
        }
        acc = std::fma(static_cast<float>(isum - 32 * corr), fp16_to_f32(x[b].d) * y[b].d, acc);
    }
    return acc;
}

// Float weights against activations of the same type (F16 and BF16 activations are the
// weight's 16-bit values): float_order.hpp's 16 lanes, reduce16, then the tail.
template <class T, float (*ToFloat)(T)>
float dot_float(int64_t n, const void *w, const void *act) {
    const auto *x = static_cast<const T *>(w);
    const auto *y = static_cast<const T *>(act);
    float lanes[k_float_lanes] = {};
    const int64_t vec_end = n / k_float_lanes * k_float_lanes;
    for (int64_t i = 0; i < vec_end; i += k_float_lanes)
        for (int l = 0; l < k_float_lanes; ++l) lanes[l] = std::fma(ToFloat(x[i + l]), ToFloat(y[i + l]), lanes[l]);
    float s = reduce16(lanes);
    for (int64_t i = vec_end; i < n; ++i) s = std::fma(ToFloat(x[i]), ToFloat(y[i]), s);
    return s;
}

float f32_value(float v) { return v; }
float f16_value(uint16_t v) { return fp16_to_f32(v); }
float bf16_value(uint16_t v) { return quant::bf16_to_f32(v); }

}  // namespace

ScalarDot kernel_order_dot(DType type) {
    switch (type) {
    case DType::f32: return &dot_float<float, f32_value>;
    case DType::f16: return &dot_float<uint16_t, f16_value>;
    case DType::bf16: return &dot_float<uint16_t, bf16_value>;
    case DType::q8_0: return &dot_q32_q8_0<quant::BlockQ8_0, 0>;
    case DType::q4_0: return &dot_q32_q8_0<quant::BlockQ4_0, 8>;
    case DType::q5_0: return &dot_q32_q8_0<quant::BlockQ5_0, 16>;
    // The x86 lane order the Q4_1 / Q5_1 tiles follow is already the quant layer's.
    case DType::q4_1: return quant::vec_dot_q4_1_q8_1_x86;
    case DType::q5_1: return quant::vec_dot_q5_1_q8_1_x86;
    case DType::q4_k: return &dot_q45_k<quant::BlockQ4_K>;
    case DType::q5_k: return &dot_q45_k<quant::BlockQ5_K>;
    case DType::q6_k: return &dot_q6_k;
    default: return nullptr;
    }
}

}  // namespace ember::kernels
