// kernels/simd_q5.hpp - Q4_1, Q5_0 and Q5_1 weights (against Q8_1, Q8_0, Q8_1 activations),
// written once over xsimd for an ISA tag; included by the per-ISA files after simd_q8.hpp,
// whose helpers, 16-row groups and tile driver this reuses.
//
// Weight layout, per group of 16 rows, per block: the 16 fp16 scales d (and, for Q4_1/Q5_1,
// the 16 fp16 mins m right after them), stored before the quants of each pair of blocks (see
// Q32Layout); the quants: the 4 nibble lines of Q4_0's layout and, for Q5_0/Q5_1, one line of fifth bits: byte k of a
// row's 4 bytes has, at bit c, the fifth bit of element 4c + k (c = 0..7: chunk c is line c%4,
// low nibbles for c < 4, high for c >= 4). Bytes a row: 20, 22, 24 (as GGUF).
//
// Per output element, for each block in order: isum = exact integer dot of the unsigned
// quants with the activation (minus 16 * sum(a) for Q5_0), then
//   acc = fma(float(isum), dw * da, acc)            and, with a min,   acc = fma(m, s, acc)
// where s = the activation block's stored d * sum(a) (Q8_1's s field).
#pragma once

#include "kernels/kernels.hpp"
#include "quant/blocks.hpp"

#include <algorithm>
#include <cstring>

namespace ember::kernels {
namespace {

// "q8_1x": the nb BlockQ8_1 of quant::quantize_q8_1_act, then per block the f32 values of
// its fp16 d and s.
struct Q81Offsets {
    size_t d, s, total;
};
inline Q81Offsets q81_offsets(int64_t cols) {
    const size_t nb = static_cast<size_t>(cols) / quant::qk8_1;
    Q81Offsets o;
    o.d = round64(nb * sizeof(quant::BlockQ8_1));
    o.s = o.d + round64(nb * 4);
    o.total = o.s + round64(nb * 4);
    return o;
}
inline size_t q81_row_bytes(int64_t cols) { return q81_offsets(cols).total; }

inline void quantize_q81x(const float *x, void *dst, int64_t cols) {
    const int64_t nb = cols / quant::qk8_1;
    const Q81Offsets o = q81_offsets(cols);
    auto *base = static_cast<uint8_t *>(dst);
    auto *blocks = reinterpret_cast<quant::BlockQ8_1 *>(base);
    auto *ds = reinterpret_cast<float *>(base + o.d);
    auto *ss = reinterpret_cast<float *>(base + o.s);
    for (int64_t b = 0; b < nb; ++b, x += quant::qk8_1) {
        int8_t q[quant::qk8_1];
        int32_t sum;
        const float d = quantize_block32(x, q, sum);
        const uint16_t dh = to_fp16(d), sh = to_fp16(static_cast<float>(sum) * d);
        std::memcpy(&blocks[b].d, &dh, 2);
        std::memcpy(&blocks[b].s, &sh, 2);
        std::memcpy(blocks[b].qs, q, sizeof q);
        ds[b] = from_fp16(dh);
        ss[b] = from_fp16(sh);
    }
}

// Source block geometry: offsets of d, m (or -1), qh (or -1), qs within the GGUF block.
template <DType T>
struct Q32Format;
template <>
struct Q32Format<DType::q4_1> {
    static constexpr int bytes = 20, m = 2, qh = -1, qs = 4;
};
template <>
struct Q32Format<DType::q5_0> {
    static constexpr int bytes = 22, m = -1, qh = 2, qs = 6;
};
template <>
struct Q32Format<DType::q5_1> {
    static constexpr int bytes = 24, m = 2, qh = 4, qs = 8;
};

// Blocks in pairs, [scales b][scales b+1][quants b][quants b+1]: one stream of whole 64-byte
// lines per group, read in address order (as simd_q8.hpp's layout).
template <DType T>
struct Q32Layout {
    using F = Q32Format<T>;
    static constexpr size_t scale_bytes = F::m >= 0 ? 64 : 32;  // per block per group
    static constexpr size_t quant_bytes = 256 + (F::qh >= 0 ? 64 : 0);
    static constexpr size_t pair = 2 * (scale_bytes + quant_bytes);
    static constexpr size_t quants_at(int64_t b) {
        return static_cast<size_t>(b / 2) * pair + 2 * scale_bytes + (b % 2) * quant_bytes;
    }
    static constexpr size_t scales_at(int64_t b) { return static_cast<size_t>(b / 2) * pair + (b % 2) * scale_bytes; }
    static size_t group_bytes(int64_t nb) { return static_cast<size_t>((nb + 1) / 2) * pair; }
};

template <DType T>
size_t packed_bytes_q32(int64_t rows, int64_t cols) {
    const int64_t groups = (rows + k_group - 1) / k_group;
    return static_cast<size_t>(groups) * Q32Layout<T>::group_bytes(cols / 32);
}

template <DType T>
void pack_q32(const void *weight, int64_t rows, int64_t cols, void *dst) {
    using F = Q32Format<T>;
    using Lay = Q32Layout<T>;
    const int64_t nb = cols / 32;
    const size_t gb = Lay::group_bytes(nb);
    const auto *w = static_cast<const uint8_t *>(weight);
    auto *out = static_cast<uint8_t *>(dst);
    std::memset(out, 0, packed_bytes_q32<T>(rows, cols));
    for (int64_t r = 0; r < rows; ++r) {
        uint8_t *g = out + static_cast<size_t>(r / k_group) * gb;
        const int i = static_cast<int>(r % k_group);
        for (int64_t b = 0; b < nb; ++b) {
            const uint8_t *blk = w + (r * nb + b) * F::bytes;
            std::memcpy(g + Lay::scales_at(b) + i * 2, blk, 2);
            if constexpr (F::m >= 0) std::memcpy(g + Lay::scales_at(b) + 32 + i * 2, blk + F::m, 2);
            uint8_t *q = g + Lay::quants_at(b);
            for (int j = 0; j < 4; ++j) std::memcpy(q + j * 64 + i * 4, blk + F::qs + j * 4, 4);
            if constexpr (F::qh >= 0) {
                uint32_t qh;
                std::memcpy(&qh, blk + F::qh, 4);
                for (int k = 0; k < 4; ++k) {
                    uint8_t byte = 0;
                    for (int c = 0; c < 8; ++c) {
                        // chunk c: elements 4(c%4)+k from the low nibbles (c < 4) or
                        // 16 + 4(c%4)+k from the high nibbles (c >= 4)
                        const int e = (c < 4 ? 0 : 16) + 4 * (c % 4) + k;
                        byte = static_cast<uint8_t>(byte | (((qh >> e) & 1u) << c));
                    }
                    q[256 + i * 4 + k] = byte;
                }
            }
        }
    }
}

template <DType T>
struct TileQ32 {
    template <int NT>
    struct Tile {
        static void run(const TileArgs &a, float *out) {
            using F = Q32Format<T>;
            using Lay = Q32Layout<T>;
            constexpr int L = f32v::size;
            constexpr bool has_min = F::m >= 0, has_hb = F::qh >= 0;
            const uint8_t *q0 = a.group + a.h * L * 4;
            const uint8_t *s0 = a.group + a.h * L * 2;
            const Q81Offsets o1 = q81_offsets(a.nb * 32);
            const i32v mask(0x0F0F0F0F), bit(0x01010101);
            // With a minimum (Q4_1, Q5_1) the sum follows llama.cpp's x86 dot, as
            // quant::vec_dot_q4_1_q8_1_x86 documents: per row 8 accumulators (one per 4-element
            // chunk c of a block), the m * s terms summed apart, a fixed final reduction.
            // The two parts nearly cancel, so the order shows in the logits.
            constexpr int C = has_min ? 8 : 1;
            f32v acc[NT], lane[C][NT];
            for (int t = 0; t < NT; ++t) {
                acc[t] = f32v(0.f);
                for (int c = 0; c < C; ++c) lane[c][t] = f32v(0.f);
            }
            for (int64_t b = 0; b < a.nb; ++b) {
                const uint8_t *q = q0 + Lay::quants_at(b);
                const f32v dw = load_f16(reinterpret_cast<const uint16_t *>(s0 + Lay::scales_at(b)));
                i32v w[8];
                for (int j = 0; j < 4; ++j) {
                    const i32v raw = i32v::load_unaligned(reinterpret_cast<const int32_t *>(q + j * 64));
                    w[j] = raw & mask;
                    w[j + 4] = (raw >> 4) & mask;
                }
                if constexpr (has_hb) {
                    const i32v hb = i32v::load_unaligned(reinterpret_cast<const int32_t *>(q + 256));
                    for (int c = 0; c < 8; ++c) w[c] = w[c] | (((hb >> c) & bit) << 4);
                }
                for (int t = 0; t < NT; ++t) {
                    const uint8_t *row = a.act + t * a.act_row_bytes;
                    const size_t bb = has_min ? sizeof(quant::BlockQ8_1) : sizeof(quant::BlockQ8_0);
                    const int8_t *aq = reinterpret_cast<const int8_t *>(row + b * bb + (has_min ? 4 : 2));
                    float da;
                    std::memcpy(&da, row + (has_min ? o1.d : a.off.d) + b * 4, 4);
                    if constexpr (has_min) {
                        const f32v dd = dw * f32v(da);
                        for (int c = 0; c < 8; ++c) {
                            const i32v sc = dot_u8s8(i32v(0), w[c], i32v(load_i32(aq + 4 * c)));
                            lane[c][t] = fmadd(xsimd::batch_cast<float>(sc), dd, lane[c][t]);
                        }
                        const f32v mw = load_f16(reinterpret_cast<const uint16_t *>(s0 + Lay::scales_at(b) + 32));
                        float sa;
                        std::memcpy(&sa, row + o1.s + b * 4, 4);
                        acc[t] = acc[t] + mw * f32v(sa);  // separate product, then the sum
                    } else {
                        i32v s = i32v(load_i32(row + a.off.c16 + b * 4)), s2(0);
                        for (int c = 0; c < 4; ++c) {
                            s = dot_u8s8(s, w[c], i32v(load_i32(aq + 4 * c)));
                            s2 = dot_u8s8(s2, w[c + 4], i32v(load_i32(aq + 16 + 4 * c)));
                        }
                        s += s2;
                        acc[t] = fmadd(xsimd::batch_cast<float>(s), dw * f32v(da), acc[t]);
                    }
                }
            }
            if constexpr (has_min) {
                for (int t = 0; t < NT; ++t) {
                    f32v r[4];
                    for (int i = 0; i < 4; ++i) r[i] = lane[i + 4][t] + lane[i][t];
                    acc[t] = ((r[0] + r[2]) + (r[1] + r[3])) + acc[t];
                }
            }
            for (int t = 0; t < NT; ++t) acc[t].store_unaligned(out + t * L);
        }
    };
};

// Tile driver: gemm_q with this family's group size.
template <DType T, int TMax>
void gemm_q32(const GemmArgs &g) {
    constexpr int L = f32v::size;
    const int64_t nb = g.cols / 32;
    const size_t gb = Q32Layout<T>::group_bytes(nb);
    const Q8xOffsets off = q8x_offsets(g.cols);
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
                    const TileArgs ta{grp, nb, act + t * g.act_row_bytes, g.act_row_bytes, off, h};
                    dispatch_tile<1, TMax, TileQ32<T>::template Tile>(nt, ta, out);
                    for (int k = 0; k < nt; ++k)
                        std::memcpy(g.y + (t + k) * g.ldy + rh, out + k * L, nrow * sizeof(float));
                }
            }
        }
    }
}

}  // namespace
}  // namespace ember::kernels
