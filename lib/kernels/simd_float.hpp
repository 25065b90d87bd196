// kernels/simd_float.hpp - F32, F16 and BF16 weights against activations of the same type
// (llama.cpp rounds activations to the weight's 16-bit type before the dot, so do we).
// Included by the per-ISA files after simd_q8.hpp. No repacking: rows are read in the GGUF
// layout. The ISA file provides load_f16(p) and load_bf16(p) (f32v from size 16-bit values).
//
// Activation layouts ("f16x"/"bf16x"): the reference conversion's 16-bit values (padded to
// 64 bytes), then the same values widened to f32 so the inner loop widens only the weights.
// F32 activations are a plain copy.
//
// Per output element, on every ISA (kernels/float_order.hpp): 16 lanes, lane l summing
// w[i] * a[i] for i = l (mod 16) with fma in increasing i (one 16-float accumulator with
// AVX-512, two 8-float ones with AVX2), then the fixed tree reduce16, then the tail elements
// (cols mod 16) one by one with fma. Every tile shape does exactly this, and so does the
// scalar kernel: float matmuls give the same bits on every x86 CPU.
#pragma once

#include "kernels/float_order.hpp"
#include "kernels/kernels.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::kernels {
namespace {

template <DType W>
struct FloatFormat;
template <>
struct FloatFormat<DType::f32> {
    static constexpr size_t bytes = 4;
    static f32v load(const uint8_t *p) { return f32v::load_unaligned(reinterpret_cast<const float *>(p)); }
    static float scalar(const uint8_t *p) { float v; std::memcpy(&v, p, 4); return v; }
};
template <>
struct FloatFormat<DType::f16> {
    static constexpr size_t bytes = 2;
    static f32v load(const uint8_t *p) { return load_f16(reinterpret_cast<const uint16_t *>(p)); }
    static float scalar(const uint8_t *p) { uint16_t v; std::memcpy(&v, p, 2); return from_fp16(v); }
};
template <>
struct FloatFormat<DType::bf16> {
    static constexpr size_t bytes = 2;
    static f32v load(const uint8_t *p) { return load_bf16(reinterpret_cast<const uint16_t *>(p)); }
    static float scalar(const uint8_t *p) {
        uint16_t v;
        std::memcpy(&v, p, 2);
        const uint32_t bits = static_cast<uint32_t>(v) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
};

template <DType W>
size_t float_f32_offset(int64_t cols) {
    return W == DType::f32 ? 0 : round64(static_cast<size_t>(cols) * 2);
}
template <DType W>
size_t float_act_row_bytes(int64_t cols) {
    return float_f32_offset<W>(cols) + round64(static_cast<size_t>(cols) * 4);
}

// The reference conversion (quant traits' from_float of the activation type), then f32.
template <DType W>
void float_quantize(const float *x, void *dst, int64_t cols) {
    auto *base = static_cast<uint8_t *>(dst);
    auto *f = reinterpret_cast<float *>(base + float_f32_offset<W>(cols));
    if constexpr (W == DType::f32) {
        std::memcpy(f, x, static_cast<size_t>(cols) * 4);
    } else {
        quant::traits(W).from_float(x, base, cols);
        for (int64_t i = 0; i < cols; ++i) f[i] = FloatFormat<W>::scalar(base + i * 2);
    }
}

template <DType W, int R>
struct FloatTile {
    template <int NT>
    struct Tokens {
        // rows: R row pointers; act: NT f32 activation rows (stride act_stride floats)
        static void run(const uint8_t *const *rows, const float *act, size_t act_stride, int64_t cols,
                        float *out /* [NT][R] */) {
            constexpr int L = f32v::size;
            constexpr int S = k_float_lanes / L;  // accumulators per 16 lanes
            static_assert(S * L == k_float_lanes);
            f32v acc[R][NT][S];
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < NT; ++t)
                    for (int k = 0; k < S; ++k) acc[r][t][k] = f32v(0.f);
            const int64_t vec_end = cols / k_float_lanes * k_float_lanes;
            for (int64_t i = 0; i < vec_end; i += k_float_lanes) {
                for (int k = 0; k < S; ++k) {
                    f32v w[R];
                    for (int r = 0; r < R; ++r)
                        w[r] = FloatFormat<W>::load(rows[r] + (i + k * L) * FloatFormat<W>::bytes);
                    for (int t = 0; t < NT; ++t) {
                        const f32v a = f32v::load_unaligned(act + t * act_stride + i + k * L);
                        for (int r = 0; r < R; ++r) acc[r][t][k] = fmadd(w[r], a, acc[r][t][k]);
                    }
                }
            }
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < NT; ++t) {
                    float lanes[k_float_lanes];
                    for (int k = 0; k < S; ++k) acc[r][t][k].store_unaligned(lanes + k * L);
                    float s = reduce16(lanes);
                    for (int64_t i = vec_end; i < cols; ++i)
                        s = std::fma(FloatFormat<W>::scalar(rows[r] + i * FloatFormat<W>::bytes),
                                     act[t * act_stride + i], s);
                    out[t * R + r] = s;
                }
        }
    };
};

template <DType W, int R, int N, int TMax>
void float_dispatch(int nt, const uint8_t *const *rows, const float *act, size_t stride, int64_t cols, float *out) {
    if constexpr (N < TMax) {
        if (nt != N) return float_dispatch<W, R, N + 1, TMax>(nt, rows, act, stride, cols, out);
    }
    FloatTile<W, R>::template Tokens<N>::run(rows, act, stride, cols, out);
}

template <DType W, int R, int TMax>
void float_rows(const GemmArgs &g, int64_t r) {
    const auto *w = static_cast<const uint8_t *>(g.weight);
    const auto *act = static_cast<const uint8_t *>(g.act) + float_f32_offset<W>(g.cols);
    const size_t stride = g.act_row_bytes / 4;
    const uint8_t *rows[R];
    for (int i = 0; i < R; ++i) rows[i] = w + (r + i) * g.w_row_bytes;
    float out[TMax * R];
    for (int64_t t = 0; t < g.n_tokens; t += TMax) {
        const int nt = static_cast<int>(std::min<int64_t>(TMax, g.n_tokens - t));
        float_dispatch<W, R, 1, TMax>(nt, rows, reinterpret_cast<const float *>(act + t * g.act_row_bytes),
                                      stride, g.cols, out);
        for (int k = 0; k < nt; ++k)
            for (int i = 0; i < R; ++i) g.y[(t + k) * g.ldy + r + i] = out[k * R + i];
    }
}

template <DType W, int TMax>
void float_gemm(const GemmArgs &g) {
    constexpr int R = 4;
    int64_t r = g.r0;
    for (; r + R <= g.r1; r += R) float_rows<W, R, TMax>(g, r);
    for (; r < g.r1; ++r) float_rows<W, 1, TMax>(g, r);
}

}  // namespace
}  // namespace ember::kernels
