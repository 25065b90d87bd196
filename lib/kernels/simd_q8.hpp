// kernels/simd_q8.hpp - Q4_0 and Q8_0 weights against Q8_0 activations, written once over
// xsimd for an ISA tag. Included only by the per-ISA files (matmul_avx2.cpp, ...), which
// define, before including this, in an anonymous namespace:
//   Tag          struct { using arch = <xsimd arch>; static constexpr bool vnni; }
//   f32v, i32v   xsimd batches of that arch
//   dot_u8s8(acc, u, s)    acc + per 32-bit lane sum of 4 products u8 * s8 (u <= 15 when
//                          !vnni, so the 16-bit pair sums of vpmaddubsw cannot saturate)
//   dot_q8w(acc, wu, s)    for Q8_0 weights stored as w ^ 0x80: with vnni, the u8*s8 dot
//                          of wu (the caller subtracts 128 * sum(s)); without, the exact
//                          s8*s8 dot of w = wu ^ 0x80 with s
//   load_f16(p)            f32v from f32v::size IEEE halves
//   hmax(f32v), store_i8(i32v, int8_t *), to_fp16(float), from_fp16(uint16_t)
//   fmadd(a, b, c), fnmadd(a, b, c)   a * b + c and c - a * b with one rounding (xsimd 8.1's
//                          AVX-512 fma is the generic a * b + c, i.e. two roundings now that
//                          contraction is off: each ISA file names the instruction itself)
//
// Everything here is in an anonymous namespace: each ISA's object has its own copy and the
// linker can never substitute one ISA's code for another's.
//
// Weight layout (repacked once at bind): rows in groups of 16; a group stores its nb blocks
// in pairs (see pair_bytes): the 16 fp16 scales of two blocks, then their quants. The
// quants of a block: for Q4_0 4 lines of 64 bytes, line j holding bytes qs[4j..4j+3] of
// each of the 16 rows (low nibbles: elements 4j..4j+3, high: 16+4j..16+4j+3); for Q8_0 8 lines,
// line j holding qs[4j..4j+3] of each row, stored xor 0x80 (unsigned). One 64-byte line is
// then a vector of 16 rows x 4 k-values: the activation's 4 matching bytes are broadcast to
// every lane, so each lane accumulates one row and the ISA-specific instruction (vpdpbusd or
// vpmaddubsw+vpmaddwd) does 4 k-steps at once.
//
// Per output element the arithmetic is: for each block b in order, isum_b = exact integer
// dot (Q4_0: sum (q - 8) * a, Q8_0: sum w * a), then acc = fma(float(isum_b), dw_b * da_b, acc).
// That is the same whatever the tile shape, token count or row range, hence deterministic.
#pragma once

#include "core/dtype.hpp"
#include "kernels/kernels.hpp"
#include "quant/blocks.hpp"

#include <algorithm>
#include <cstring>

namespace ember::kernels {
namespace {

constexpr int k_group = 16;            // rows per interleaved group
constexpr int64_t k_token_chunk = 64;  // tokens whose activations stay in L2 while the
                                       // weights of the thread's rows stream past

constexpr size_t round64(size_t n) { return (n + 63) / 64 * 64; }

inline int32_t load_i32(const void *p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// -------------------------------------------------------------------- activation layout
// "q8_0x": one token row is its nb BlockQ8_0 (quant::quantize_q8_0_act's bytes), then per
// block the f32 value of the fp16 scale, then -8, -16 and -128 times sum(qs) as int32 (the
// offsets of Q4_0, Q5_0 and the unsigned-stored Q8_0 weights).
struct Q8xOffsets {
    size_t d, c8, c16, c128, total;
};
inline Q8xOffsets q8x_offsets(int64_t cols) {
    const size_t nb = static_cast<size_t>(cols) / quant::qk8_0;
    Q8xOffsets o;
    o.d = round64(nb * sizeof(quant::BlockQ8_0));
    o.c8 = o.d + round64(nb * 4);
    o.c16 = o.c8 + round64(nb * 4);
    o.c128 = o.c16 + round64(nb * 4);
    o.total = o.c128 + round64(nb * 4);
    return o;
}
inline size_t q8x_row_bytes(int64_t cols) { return q8x_offsets(cols).total; }

// One 32-element block as quant::quantize_q8_0_act / quantize_q8_1_act compute it (llama.cpp's
// x86 activation quantizer), byte for byte: d = amax / 127, id = 127 / amax (0 when amax is
// 0), q = x * id rounded half to even. Returns d unrounded (Q8_1's s uses it); sum = sum of q.
inline float quantize_block32(const float *x, int8_t q[32], int32_t &sum_out) {
    constexpr int L = f32v::size;
    constexpr int V = 32 / L;  // vectors per block
    f32v v[V];
    f32v m(0.f);
    for (int i = 0; i < V; ++i) {
        v[i] = f32v::load_unaligned(x + i * L);
        m = xsimd::max(m, xsimd::abs(v[i]));
    }
    const float amax = hmax(m);
    const float d = amax / 127;
    const float id = amax != 0.f ? 127.f / amax : 0.0f;
    i32v sum(0);
    for (int i = 0; i < V; ++i) {
        f32v t = xsimd::nearbyint(v[i] * f32v(id));  // half to even (default rounding mode)
        t = xsimd::min(xsimd::max(t, f32v(-128.f)), f32v(127.f));
        const i32v qi = xsimd::batch_cast<int32_t>(t);
        sum += qi;
        store_i8(qi, q + i * L);
    }
    sum_out = xsimd::hadd(sum);
    return d;
}

inline void quantize_q8x(const float *x, void *dst, int64_t cols) {
    const int64_t nb = cols / quant::qk8_0;
    const Q8xOffsets o = q8x_offsets(cols);
    auto *base = static_cast<uint8_t *>(dst);
    auto *blocks = reinterpret_cast<quant::BlockQ8_0 *>(base);
    auto *ds = reinterpret_cast<float *>(base + o.d);
    auto *c8 = reinterpret_cast<int32_t *>(base + o.c8);
    auto *c16 = reinterpret_cast<int32_t *>(base + o.c16);
    auto *c128 = reinterpret_cast<int32_t *>(base + o.c128);
    for (int64_t b = 0; b < nb; ++b, x += quant::qk8_0) {
        int8_t q[quant::qk8_0];
        int32_t s;
        const uint16_t dh = to_fp16(quantize_block32(x, q, s));
        std::memcpy(&blocks[b].d, &dh, 2);
        std::memcpy(blocks[b].qs, q, sizeof q);
        ds[b] = from_fp16(dh);  // the f32 value of the stored fp16 scale
        c8[b] = -8 * s;
        c16[b] = -16 * s;
        c128[b] = -128 * s;
    }
}

// --------------------------------------------------------------------------- packing
// Blocks are stored in pairs, [16 scales of b][16 scales of b+1][quants of b][quants of b+1],
// so a group is one stream of whole 64-byte lines read in address order (an odd last block leaves its
// partner zero). Lines = 4 for Q4_0 (16 bytes of nibbles a row), 8 for Q8_0 (32 bytes).
template <int Lines>
constexpr size_t pair_bytes() { return 2 * Lines * 64 + 64; }
template <int Lines>
constexpr size_t quants_at(int64_t b) { return static_cast<size_t>(b / 2) * pair_bytes<Lines>() + 64 + (b % 2) * Lines * 64; }
template <int Lines>
constexpr size_t scales_at(int64_t b) { return static_cast<size_t>(b / 2) * pair_bytes<Lines>() + (b % 2) * 32; }
template <int Lines>
constexpr size_t group_bytes(int64_t nb) { return static_cast<size_t>((nb + 1) / 2) * pair_bytes<Lines>(); }

template <int Lines>
size_t packed_bytes_q(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + k_group - 1) / k_group;
    return static_cast<size_t>(groups) * group_bytes<Lines>(cols / 32);
}

// Q4_0 (Lines 4, block 18 bytes, no xor) and Q8_0 (Lines 8, block 34 bytes, xor 0x80).
template <int Lines, size_t BlockBytes, uint8_t Xor>
void pack_q(const void *weight, int64_t rows, int64_t cols, void *dst) {
    const int64_t nb = cols / 32;
    const size_t rb = static_cast<size_t>(nb) * BlockBytes;
    const size_t gb = group_bytes<Lines>(nb);
    const auto *w = static_cast<const uint8_t *>(weight);
    auto *out = static_cast<uint8_t *>(dst);
    std::memset(out, 0, packed_bytes_q<Lines>(rows, cols));
    for (int64_t r = 0; r < rows; ++r) {
        uint8_t *g = out + static_cast<size_t>(r / k_group) * gb;
        const int i = static_cast<int>(r % k_group);
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t *blk = w + r * rb + b * BlockBytes;
            std::memcpy(g + scales_at<Lines>(b) + i * 2, blk, 2);
            uint8_t *q = g + quants_at<Lines>(b);
            for (int j = 0; j < Lines; ++j)
                for (int k = 0; k < 4; ++k) q[j * 64 + i * 4 + k] = blk[2 + j * 4 + k] ^ Xor;
        }
    }
}

// ------------------------------------------------------------------------ micro-kernels
// Runs Tile<nt> for a runtime nt in [N, TMax]: every token count gets a tile whose
// accumulators all live in registers.
template <int N, int TMax, template <int> class Tile, class Args>
void dispatch_tile(int nt, const Args &a, float *out) {
    if constexpr (N < TMax) {
        if (nt != N) return dispatch_tile<N + 1, TMax, Tile>(nt, a, out);
    }
    Tile<N>::run(a, out);
}

// One tile: L rows (half h of a group) x NT tokens, all nb blocks. out[t * L + i].
struct TileArgs {
    const uint8_t *group;   // packed group base
    int64_t nb;
    const uint8_t *act;     // first token's activation row
    size_t act_row_bytes;
    Q8xOffsets off;
    int h;                  // which L-lane slice of the 16-row group
};

// Q4_0 (Lines 4) and Q8_0 (Lines 8) tiles: R slices of L rows (each slice is half h of a
// 16-row group, or the whole group when L is 16) x NT tokens, all nb blocks;
// out[(r * NT + t) * L + i]. Per block the weight lines are loaded once per slice and each
// activation word is broadcast once per token and used by all R slices; the loops are
// unrolled so every accumulator stays in a register.
template <int R>
struct SliceArgs {
    const uint8_t *group[R];  // packed group base of each slice
    int h[R];                 // which L-lane half of its group
    int64_t nb;
    const uint8_t *act;       // first token's activation row
    size_t act_row_bytes;
    Q8xOffsets off;
};

template <int Lines, int R, int NT>
struct TileQ {
static void run(const SliceArgs<R> &a, float *out) {
    constexpr int L = f32v::size;
    // With few tiles of work (decode) a second dependency chain per accumulator keeps the
    // dot latency from stalling the weight stream; exact integers, so the same sums.
    constexpr bool split = R * NT <= 2;
    const i32v mask(0x0F0F0F0F);
    const uint8_t *row[NT];
#pragma GCC unroll 16
    for (int t = 0; t < NT; ++t) row[t] = a.act + t * a.act_row_bytes;
    f32v acc[R][NT];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) acc[r][t] = f32v(0.f);
    for (int64_t b = 0; b < a.nb; ++b) {
        // Each sum starts from the block's offset correction: -8 * sum(a) for Q4_0's 0..15
        // nibbles, -128 * sum(a) for Q8_0 stored xor 0x80 and dotted unsigned (VNNI only).
        i32v s[R][NT], s2[R][NT];
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
            const i32v c = Lines == 4 ? i32v(load_i32(row[t] + a.off.c8 + b * 4))
                           : Tag::vnni ? i32v(load_i32(row[t] + a.off.c128 + b * 4))
                                       : i32v(0);
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) {
                s[r][t] = c;
                s2[r][t] = i32v(0);
            }
        }
        if constexpr (Lines == 4) {
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
                i32v lo[R], hi[R];
#pragma GCC unroll 16
                for (int r = 0; r < R; ++r) {
                    const uint8_t *q = a.group[r] + a.h[r] * L * 4 + quants_at<4>(b) + j * 64;
                    const i32v raw = i32v::load_unaligned(reinterpret_cast<const int32_t *>(q));
                    lo[r] = raw & mask;
                    hi[r] = (raw >> 4) & mask;
                }
#pragma GCC unroll 16
                for (int t = 0; t < NT; ++t) {
                    const uint8_t *aq = row[t] + b * sizeof(quant::BlockQ8_0) + 2;
                    const i32v xl(load_i32(aq + 4 * j)), xh(load_i32(aq + 16 + 4 * j));
#pragma GCC unroll 16
                    for (int r = 0; r < R; ++r) {
                        s[r][t] = dot_u8s8(s[r][t], lo[r], xl);
                        if constexpr (split) s2[r][t] = dot_u8s8(s2[r][t], hi[r], xh);
                        else s[r][t] = dot_u8s8(s[r][t], hi[r], xh);
                    }
                }
            }
        } else {
#pragma GCC unroll 8
            for (int j = 0; j < 8; ++j) {
                i32v w[R];
#pragma GCC unroll 16
                for (int r = 0; r < R; ++r)
                    w[r] = i32v::load_unaligned(reinterpret_cast<const int32_t *>(
                        a.group[r] + a.h[r] * L * 4 + quants_at<8>(b) + j * 64));
#pragma GCC unroll 16
                for (int t = 0; t < NT; ++t) {
                    const i32v x(load_i32(row[t] + b * sizeof(quant::BlockQ8_0) + 2 + 4 * j));
#pragma GCC unroll 16
                    for (int r = 0; r < R; ++r) {
                        if (split && j % 2) s2[r][t] = dot_q8w(s2[r][t], w[r], x);
                        else s[r][t] = dot_q8w(s[r][t], w[r], x);
                    }
                }
            }
        }
        f32v dw[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r)
            dw[r] = load_f16(reinterpret_cast<const uint16_t *>(a.group[r] + a.h[r] * L * 2 + scales_at<Lines>(b)));
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) {
            float da;
            std::memcpy(&da, row[t] + a.off.d + b * 4, 4);
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r)
                acc[r][t] = fmadd(xsimd::batch_cast<float>(split ? s[r][t] + s2[r][t] : s[r][t]), dw[r] * f32v(da), acc[r][t]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int t = 0; t < NT; ++t) acc[r][t].store_unaligned(out + (r * NT + t) * L);
}
};

// The same tile with R bound, as dispatch_tile takes it (a template over the token count).
template <int Lines, int R>
struct TileQOf {
    template <int NT>
    using Tile = TileQ<Lines, R, NT>;
};

// Drives the tiles over the row range and all tokens: R slices at a time (one at the end),
// TMax tokens at a time.
template <int Lines, int R, int TMax>
void gemm_q(const GemmArgs &g) {
    constexpr int L = f32v::size;
    const int64_t nb = g.cols / 32;
    const size_t gb = group_bytes<Lines>(nb);
    const Q8xOffsets off = q8x_offsets(g.cols);
    const auto *packed = static_cast<const uint8_t *>(g.packed);
    const auto *act = static_cast<const uint8_t *>(g.act);
    alignas(64) float out[R * TMax * L];
    // Slice k covers rows r0 + k * L ..; r0 is a multiple of the 16-row group.
    const int64_t n_slices = (g.r1 - g.r0 + L - 1) / L;
    // Slices k..k+RR-1 for tokens t..t+nt-1.
    auto run = [&]<int RR>(int64_t k, int64_t t, int nt) {
        SliceArgs<RR> sa;
        for (int r = 0; r < RR; ++r) {
            const int64_t rs = g.r0 + (k + r) * L;
            sa.group[r] = packed + static_cast<size_t>(rs / k_group) * gb;
            sa.h[r] = static_cast<int>(rs % k_group) / L;
        }
        sa.nb = nb;
        sa.act = act + t * g.act_row_bytes;
        sa.act_row_bytes = g.act_row_bytes;
        sa.off = off;
        dispatch_tile<1, TMax, TileQOf<Lines, RR>::template Tile>(nt, sa, out);
        for (int r = 0; r < RR; ++r) {
            const int64_t rs = g.r0 + (k + r) * L;
            const int nrow = static_cast<int>(std::min<int64_t>(L, g.r1 - rs));
            for (int i = 0; i < nt; ++i)
                std::memcpy(g.y + (t + i) * g.ldy + rs, out + (r * nt + i) * L, nrow * sizeof(float));
        }
    };
    for (int64_t t0 = 0; t0 < g.n_tokens; t0 += k_token_chunk) {
        const int64_t t1 = std::min(g.n_tokens, t0 + k_token_chunk);
        // Decode (a token or two) runs one slice at a time: measured faster there (its weights
        // stream from memory, and shorter per-block work lets more loads run ahead).
        const int64_t r_step = t1 - t0 > 2 ? R : 1;
        int64_t k = 0;
        for (; k + r_step <= n_slices; k += r_step)
            for (int64_t t = t0; t < t1; t += TMax) {
                const int nt = static_cast<int>(std::min<int64_t>(TMax, t1 - t));
                if (r_step == R) run.template operator()<R>(k, t, nt);
                else run.template operator()<1>(k, t, nt);
            }
        for (; k < n_slices; ++k)  // the last slices that do not fill a tile of R
            for (int64_t t = t0; t < t1; t += TMax)
                run.template operator()<1>(k, t, static_cast<int>(std::min<int64_t>(TMax, t1 - t)));
    }
}

}  // namespace
}  // namespace ember::kernels
