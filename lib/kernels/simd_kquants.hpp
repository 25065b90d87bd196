// kernels/simd_kquants.hpp - Q4_K and Q6_K weights against Q8_K activations, written once
// over xsimd for an ISA tag; included by the per-ISA files after simd_q8.hpp (whose helpers,
// layout conventions and tile driver this reuses). Additional helpers the ISA file defines:
//   widen_u8(p)         i32v of f32v::size bytes at p, zero-extended
//   widen_pairs_u8(p)   i32v whose lanes are 16-bit pairs from 2 * size bytes, zero-extended
//   widen_pairs_s8(p)   the same, sign-extended
//   dot_i16(acc, a, b)  acc + per 32-bit lane a.lo16*b.lo16 + a.hi16*b.hi16
//
// Weight layouts (16 interleaved rows per group, per 256-element super-block):
//   Q5_K  as Q4_K, then 8 lines of fifth bits (see pack_q45_k) = 180 bytes a row (GGUF: 176).
//   Q4_K  d[16] dmin[16] (fp16) | scale[8 sub-blocks][16 rows] u8 | min pairs[4][16 rows][2] u8
//         | 32 lines: line 8j+c = bytes qs[32j+4c .. +3] of each row (low nibbles: elements
//           64j+4c.., sub-block 2j; high nibbles: 64j+32+4c.., sub-block 2j+1)
//         = 148 bytes a row (GGUF: 144).
//   Q6_K  d[16] (fp16) | scale pairs[8][16 rows][2] s8
//         | 32 "A" lines: line i, byte k = low nibble of element 4i+k | that of 4(i+32)+k << 4
//         | 16 "H" lines: line i, byte k = top 2 bits of elements 4i+k, 4(i+16)+k, 4(i+32)+k,
//           4(i+48)+k at bits 0, 2, 4, 6
//         = 210 bytes a row (as GGUF).
// Per output element: for each super-block in order, the exact integer sums
//   Q4_K/Q5_K: isum = sum_j sc_j * dot(q_j, a_j), msum = sum_j m_j * asum_j
//         acc = fma(isum, dw*da, acc); acc = acc - msum * (dmin*da)
//   Q6_K: isum = sum_j sc_j * dot(q_j, a_j) - 32 * sum_j sc_j * bsum_j
//         acc = fma(isum, dw*da, acc)
#pragma once

#include "kernels/kernels.hpp"
#include "quant/blocks.hpp"
#include "quant/kquant_scales.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ember::kernels {
namespace {

// --------------------------------------------------------------------- activations
// "q8_kx": the nb BlockQ8_K of the reference quantizer, then per super-block 4 int32 lanes
// holding the 16-bit pairs (s0,s1) (s2,s3) (s4,s5) (s6,s7), s_j = sum of the 32 qs of
// sub-block j (what the Q4_K/Q5_K mins multiply).
struct Q8kOffsets {
    size_t pairs, total;
};
inline Q8kOffsets q8k_offsets(int64_t cols) {
    const size_t nb = static_cast<size_t>(cols) / quant::qk_k;
    Q8kOffsets o;
    o.pairs = round64(nb * sizeof(quant::BlockQ8_K));
    o.total = o.pairs + round64(nb * 16);
    return o;
}
inline size_t q8k_row_bytes(int64_t cols) { return q8k_offsets(cols).total; }

// Reproduces quant::quantize_q8_k byte for byte: the first element of largest magnitude sets
// iscale = -127 / max, q = min(127, round-half-even(iscale * x)), d = 1 / iscale.
inline void quantize_q8kx(const float *x, void *dst, int64_t cols) {
    constexpr int L = f32v::size;
    const int64_t nb = cols / quant::qk_k;
    const Q8kOffsets o = q8k_offsets(cols);
    auto *base = static_cast<uint8_t *>(dst);
    auto *blocks = reinterpret_cast<quant::BlockQ8_K *>(base);
    auto *pairs = reinterpret_cast<int16_t *>(base + o.pairs);
    for (int64_t b = 0; b < nb; ++b, x += quant::qk_k) {
        quant::BlockQ8_K &y = blocks[b];
        f32v m(0.f);
        for (int i = 0; i < quant::qk_k; i += L) m = xsimd::max(m, xsimd::abs(f32v::load_unaligned(x + i)));
        const float amax = hmax(m);
        if (amax == 0.f) {
            std::memset(&y, 0, sizeof y);
            std::memset(pairs + b * 8, 0, 16);
            continue;
        }
        int first = 0;
        while (std::fabs(x[first]) != amax) ++first;  // amax is attained, so this stops
        const float iscale = -127.f / x[first];
        for (int g = 0; g < quant::qk_k / 16; ++g) {
            i32v sum(0);
            for (int i = 0; i < 16; i += L) {
                f32v q = xsimd::nearbyint(f32v::load_unaligned(x + g * 16 + i) * f32v(iscale));
                q = xsimd::min(q, f32v(127.f));
                const i32v qi = xsimd::batch_cast<int32_t>(q);
                sum += qi;
                store_i8(qi, y.qs + g * 16 + i);
            }
            y.bsums[g] = static_cast<int16_t>(xsimd::hadd(sum));
        }
        y.d = 1 / iscale;
        for (int j = 0; j < 8; ++j) pairs[b * 8 + j] = static_cast<int16_t>(y.bsums[2 * j] + y.bsums[2 * j + 1]);
    }
}

// ------------------------------------------------------------------------- packing
constexpr size_t k_q4k_group_sb = 64 + 128 + 128 + 32 * 64;   // bytes per group per super-block
constexpr size_t k_q5k_group_sb = k_q4k_group_sb + 8 * 64;
constexpr size_t k_q6k_group_sb = 32 + 256 + 32 * 64 + 16 * 64;

template <size_t PerSb>
size_t packed_bytes_k(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + k_group - 1) / k_group;
    return static_cast<size_t>(groups) * static_cast<size_t>(cols / quant::qk_k) * PerSb;
}

// Q4_K and Q5_K (Block = BlockQ4_K / BlockQ5_K); Q5_K adds 8 lines of fifth bits after the
// quants: line c holds each row's raw qh[4c..4c+3], whose bit s is the fifth bit of element
// 32s + 4c + k (sub-block s, chunk c).
template <class Block, size_t PerSb>
void pack_q45_k(const void *weight, int64_t rows, int64_t cols, void *dst) {
    constexpr bool five = PerSb == k_q5k_group_sb;
    const int64_t nb = cols / quant::qk_k;
    const auto *w = static_cast<const Block *>(weight);
    auto *out = static_cast<uint8_t *>(dst);
    std::memset(out, 0, packed_bytes_k<PerSb>(rows, cols));
    for (int64_t r = 0; r < rows; ++r) {
        const int i = static_cast<int>(r % k_group);
        for (int64_t b = 0; b < nb; ++b) {
            const Block &blk = w[r * nb + b];
            uint8_t *g = out + (static_cast<size_t>(r / k_group) * nb + b) * PerSb;
            std::memcpy(g + i * 2, &blk.d, 2);
            std::memcpy(g + 32 + i * 2, &blk.dmin, 2);
            uint8_t sc[8], mn[8];
            quant::unpack_scales_mins_k4(blk.scales, sc, mn);
            for (int j = 0; j < 8; ++j) g[64 + j * 16 + i] = sc[j];
            for (int p = 0; p < 4; ++p) {
                g[192 + p * 32 + i * 2] = mn[2 * p];
                g[192 + p * 32 + i * 2 + 1] = mn[2 * p + 1];
            }
            for (int line = 0; line < 32; ++line)
                std::memcpy(g + 320 + line * 64 + i * 4, blk.qs + line * 4, 4);
            if constexpr (five) {
                for (int c = 0; c < 8; ++c) std::memcpy(g + 320 + 32 * 64 + c * 64 + i * 4, blk.qh + c * 4, 4);
            }
        }
    }
}

inline void pack_q6_k(const void *weight, int64_t rows, int64_t cols, void *dst) {
    const int64_t nb = cols / quant::qk_k;
    const auto *w = static_cast<const quant::BlockQ6_K *>(weight);
    auto *out = static_cast<uint8_t *>(dst);
    std::memset(out, 0, packed_bytes_k<k_q6k_group_sb>(rows, cols));
    for (int64_t r = 0; r < rows; ++r) {
        const int i = static_cast<int>(r % k_group);
        for (int64_t b = 0; b < nb; ++b) {
            const quant::BlockQ6_K &blk = w[r * nb + b];
            uint8_t *g = out + (static_cast<size_t>(r / k_group) * nb + b) * k_q6k_group_sb;
            std::memcpy(g + i * 2, &blk.d, 2);
            for (int p = 0; p < 8; ++p) {
                g[32 + p * 32 + i * 2] = static_cast<uint8_t>(blk.scales[2 * p]);
                g[32 + p * 32 + i * 2 + 1] = static_cast<uint8_t>(blk.scales[2 * p + 1]);
            }
            uint8_t q[quant::qk_k];  // the 6-bit values 0..63, in element order
            for (int half = 0; half < 2; ++half) {
                const uint8_t *ql = blk.ql + 64 * half, *qh = blk.qh + 32 * half;
                uint8_t *o = q + 128 * half;
                for (int l = 0; l < 32; ++l) {
                    o[l] = static_cast<uint8_t>((ql[l] & 0xF) | ((qh[l] & 3) << 4));
                    o[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                    o[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                    o[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                }
            }
            uint8_t *a = g + 288, *h = a + 32 * 64;
            for (int c = 0; c < 32; ++c)
                for (int k = 0; k < 4; ++k)
                    a[c * 64 + i * 4 + k] =
                        static_cast<uint8_t>((q[4 * c + k] & 0xF) | ((q[4 * (c + 32) + k] & 0xF) << 4));
            for (int c = 0; c < 16; ++c)
                for (int k = 0; k < 4; ++k)
                    h[c * 64 + i * 4 + k] = static_cast<uint8_t>(
                        (q[4 * c + k] >> 4) | ((q[4 * (c + 16) + k] >> 4) << 2) |
                        ((q[4 * (c + 32) + k] >> 4) << 4) | ((q[4 * (c + 48) + k] >> 4) << 6));
        }
    }
}

// ------------------------------------------------------------------------ micro-kernels
template <size_t PerSb>
struct TileQ45_K {
template <int NT>
struct Tile {
    static void run(const TileArgs &a, float *out) {
        constexpr bool five = PerSb == k_q5k_group_sb;
        constexpr int L = f32v::size;
        const Q8kOffsets off = q8k_offsets(a.nb * quant::qk_k);
        const i32v mask(0x0F0F0F0F);
        f32v acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = f32v(0.f);
        for (int64_t b = 0; b < a.nb; ++b) {
            const uint8_t *g = a.group + b * PerSb;
            const uint8_t *lines = g + 320 + a.h * L * 4;
            const uint8_t *hlines = lines + 32 * 64;
            i32v isum[NT];
            for (int t = 0; t < NT; ++t) isum[t] = i32v(0);
            // Unrolled so that the lo/hi choice and the fifth-bit shift are constants.
#pragma GCC unroll 8
            for (int s = 0; s < 8; ++s) {
                const i32v sc = widen_u8(g + 64 + s * 16 + a.h * L);
                i32v w[8];
                for (int c = 0; c < 8; ++c) {
                    const i32v raw = i32v::load_unaligned(
                        reinterpret_cast<const int32_t *>(lines + ((s / 2) * 8 + c) * 64));
                    w[c] = (s % 2 == 0) ? (raw & mask) : ((raw >> 4) & mask);
                    if constexpr (five) {
                        const i32v hb = i32v::load_unaligned(reinterpret_cast<const int32_t *>(hlines + c * 64));
                        w[c] = w[c] | (((hb >> s) & i32v(0x01010101)) << 4);
                    }
                }
                for (int t = 0; t < NT; ++t) {
                    const auto *q8 = reinterpret_cast<const quant::BlockQ8_K *>(a.act + t * a.act_row_bytes) + b;
                    const int8_t *aq = q8->qs + 32 * s;
                    i32v d(0);
                    for (int c = 0; c < 8; ++c) d = dot_u8s8(d, w[c], i32v(load_i32(aq + 4 * c)));
                    isum[t] += d * sc;
                }
            }
            const f32v dw = load_f16(reinterpret_cast<const uint16_t *>(g) + a.h * L);
            const f32v dmw = load_f16(reinterpret_cast<const uint16_t *>(g + 32) + a.h * L);
            i32v mp[4];
            for (int p = 0; p < 4; ++p) mp[p] = widen_pairs_u8(g + 192 + p * 32 + a.h * L * 2);
            for (int t = 0; t < NT; ++t) {
                const uint8_t *row = a.act + t * a.act_row_bytes;
                const auto *q8 = reinterpret_cast<const quant::BlockQ8_K *>(row) + b;
                const uint8_t *sp = row + off.pairs + b * 16;
                i32v msum(0);
                for (int p = 0; p < 4; ++p) msum = dot_i16(msum, mp[p], i32v(load_i32(sp + 4 * p)));
                const f32v da(q8->d);
                acc[t] = fmadd(xsimd::batch_cast<float>(isum[t]), dw * da, acc[t]);
                acc[t] = fnmadd(xsimd::batch_cast<float>(msum), dmw * da, acc[t]);
            }
        }
        for (int t = 0; t < NT; ++t) acc[t].store_unaligned(out + t * L);
    }
};
};

template <int NT>
struct TileQ6_K {
    static void run(const TileArgs &a, float *out) {
        constexpr int L = f32v::size;
        const i32v m4(0x0F0F0F0F), m2(0x30303030);
        f32v acc[NT];
        for (int t = 0; t < NT; ++t) acc[t] = f32v(0.f);
        for (int64_t b = 0; b < a.nb; ++b) {
            const uint8_t *g = a.group + b * k_q6k_group_sb;
            const uint8_t *al = g + 288 + a.h * L * 4, *hl = al + 32 * 64;
            auto line = [&](const uint8_t *base, int c) {
                return i32v::load_unaligned(reinterpret_cast<const int32_t *>(base + c * 64));
            };
            i32v isum[NT];
            for (int t = 0; t < NT; ++t) isum[t] = i32v(0);
            // Unrolled so that every chunk's line, nibble and 2-bit field are constants
            // (rolled, the field choice is a branch per chunk).
#pragma GCC unroll 8
            for (int p = 0; p < 8; ++p) {
                const i32v pair = widen_pairs_s8(g + 32 + p * 32 + a.h * L * 2);
#pragma GCC unroll 2
                for (int half = 0; half < 2; ++half) {
                    const int j = 2 * p + half;                // sub-block of 16: chunks 4j..4j+3
                    const i32v sc = half == 0 ? ((pair << 16) >> 16) : (pair >> 16);
                    i32v w[4];
#pragma GCC unroll 4
                    for (int k = 0; k < 4; ++k) {
                        const int c = 4 * j + k;
                        const i32v hi = line(hl, c % 16);
                        const int quarter = c / 16;            // which 2-bit field of H
                        const i32v lo = line(al, c % 32);
                        const i32v nib = c < 32 ? (lo & m4) : ((lo >> 4) & m4);
                        i32v top;
                        switch (quarter) {
                        case 0: top = (hi << 4) & m2; break;
                        case 1: top = (hi << 2) & m2; break;
                        case 2: top = hi & m2; break;
                        default: top = (hi >> 2) & m2; break;
                        }
                        w[k] = nib | top;
                    }
                    for (int t = 0; t < NT; ++t) {
                        const auto *q8 = reinterpret_cast<const quant::BlockQ8_K *>(a.act + t * a.act_row_bytes) + b;
                        const int8_t *aq = q8->qs + 16 * j;
                        i32v d(0);
                        for (int k = 0; k < 4; ++k) d = dot_u8s8(d, w[k], i32v(load_i32(aq + 4 * k)));
                        isum[t] += d * sc;
                    }
                }
            }
            const f32v dw = load_f16(reinterpret_cast<const uint16_t *>(g) + a.h * L);
            i32v sp[8];
            for (int p = 0; p < 8; ++p) sp[p] = widen_pairs_s8(g + 32 + p * 32 + a.h * L * 2);
            for (int t = 0; t < NT; ++t) {
                const auto *q8 = reinterpret_cast<const quant::BlockQ8_K *>(a.act + t * a.act_row_bytes) + b;
                i32v corr(0);
                for (int p = 0; p < 8; ++p) corr = dot_i16(corr, sp[p], i32v(load_i32(q8->bsums + 2 * p)));
                const i32v total = isum[t] - (corr << 5);
                acc[t] = fmadd(xsimd::batch_cast<float>(total), dw * f32v(q8->d), acc[t]);
            }
        }
        for (int t = 0; t < NT; ++t) acc[t].store_unaligned(out + t * L);
    }
};

// Tile driver for the K-quants: like gemm_q, with per-super-block group strides.
template <size_t PerSb, int TMax, template <int> class Tile>
void gemm_k(const GemmArgs &g) {
    constexpr int L = f32v::size;
    const int64_t nb = g.cols / quant::qk_k;
    const size_t gb = static_cast<size_t>(nb) * PerSb;
    const auto *packed = static_cast<const uint8_t *>(g.packed);
    const auto *act = static_cast<const uint8_t *>(g.act);
    alignas(64) float out[TMax * L];
    for (int64_t t0 = 0; t0 < g.n_tokens; t0 += k_token_chunk) {
        const int64_t t1 = std::min(g.n_tokens, t0 + k_token_chunk);
        for (int64_t r = g.r0; r < g.r1; r += k_group) {
            const uint8_t *grp = packed + static_cast<size_t>(r / k_group) * gb;
            for (int h = 0; h < k_group / L; ++h) {
                const int64_t rh = r + h * L;
                if (rh >= g.r1) break;
                const int nrow = static_cast<int>(std::min<int64_t>(L, g.r1 - rh));
                for (int64_t t = t0; t < t1; t += TMax) {
                    const int nt = static_cast<int>(std::min<int64_t>(TMax, t1 - t));
                    const TileArgs ta{grp, nb, act + t * g.act_row_bytes, g.act_row_bytes, Q8xOffsets{}, h};
                    dispatch_tile<1, TMax, Tile>(nt, ta, out);
                    for (int k = 0; k < nt; ++k)
                        std::memcpy(g.y + (t + k) * g.ldy + rh, out + k * L, nrow * sizeof(float));
                }
            }
        }
    }
}

}  // namespace
}  // namespace ember::kernels
