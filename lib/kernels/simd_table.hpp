// kernels/simd_table.hpp - the kernel table of one ISA, included last by each per-ISA file
// (after simd_*.hpp) so the table entries point at that ISA's own instantiations.
#pragma once

#include "kernels/kernels.hpp"

namespace ember::kernels {
namespace {

// Tokens per tile: enough accumulators to hide the dot latency, few enough to stay in
// registers (32 vector registers on AVX-512, 16 on AVX2).
constexpr int k_tile_tokens = f32v::size == 16 ? 8 : 4;
// Q4_0 / Q8_0 tiles: slices of L rows x tokens (see simd_q8.hpp). On AVX-512 2 x 4 and 1 x 8
// measured the same (about 310 GFLOP/s a core at 512 tokens, against 250 for the 1 x 8 tile
// this replaced, whose loops GCC left rolled with the accumulators in memory).
constexpr int k_q_slices = f32v::size == 16 ? 2 : 1;
constexpr int k_q_tokens = 4;

const MatmulKernel k_q4_0{DType::q4_0, Tag::isa, ActLayout::q8_0x, k_group, &q8x_row_bytes,
                          &quantize_q8x, &packed_bytes_q<4>, &pack_q<4, sizeof(quant::BlockQ4_0), 0>,
                          &gemm_q<4, k_q_slices, k_q_tokens>};
const MatmulKernel k_q8_0{DType::q8_0, Tag::isa, ActLayout::q8_0x, k_group, &q8x_row_bytes,
                          &quantize_q8x, &packed_bytes_q<8>, &pack_q<8, sizeof(quant::BlockQ8_0), 0x80>,
                          &gemm_q<8, k_q_slices, k_q_tokens>};

const MatmulKernel k_q4_k{DType::q4_k, Tag::isa, ActLayout::q8_kx, k_group, &q8k_row_bytes,
                          &quantize_q8kx, &packed_bytes_k<k_q4k_group_sb>,
                          &pack_q45_k<quant::BlockQ4_K, k_q4k_group_sb>,
                          &gemm_k<k_q4k_group_sb, k_tile_tokens, TileQ45_K<k_q4k_group_sb>::Tile>};
const MatmulKernel k_q5_k{DType::q5_k, Tag::isa, ActLayout::q8_kx, k_group, &q8k_row_bytes,
                          &quantize_q8kx, &packed_bytes_k<k_q5k_group_sb>,
                          &pack_q45_k<quant::BlockQ5_K, k_q5k_group_sb>,
                          &gemm_k<k_q5k_group_sb, k_tile_tokens, TileQ45_K<k_q5k_group_sb>::Tile>};
const MatmulKernel k_q6_k{DType::q6_k, Tag::isa, ActLayout::q8_kx, k_group, &q8k_row_bytes,
                          &quantize_q8kx, &packed_bytes_k<k_q6k_group_sb>, &pack_q6_k,
                          &gemm_k<k_q6k_group_sb, k_tile_tokens, TileQ6_K>};

const MatmulKernel k_q4_1{DType::q4_1, Tag::isa, ActLayout::q8_1x, k_group, &q81_row_bytes,
                          &quantize_q81x, &packed_bytes_q32<DType::q4_1>, &pack_q32<DType::q4_1>,
                          &gemm_q32<DType::q4_1, k_tile_tokens>};
const MatmulKernel k_q5_0{DType::q5_0, Tag::isa, ActLayout::q8_0x, k_group, &q8x_row_bytes,
                          &quantize_q8x, &packed_bytes_q32<DType::q5_0>, &pack_q32<DType::q5_0>,
                          &gemm_q32<DType::q5_0, k_tile_tokens>};
const MatmulKernel k_q5_1{DType::q5_1, Tag::isa, ActLayout::q8_1x, k_group, &q81_row_bytes,
                          &quantize_q81x, &packed_bytes_q32<DType::q5_1>, &pack_q32<DType::q5_1>,
                          &gemm_q32<DType::q5_1, k_tile_tokens>};

// Float weights: tiles of 4 rows x up to 6 (AVX-512) or 2 (AVX2) tokens.
constexpr int k_float_tokens = f32v::size == 16 ? 6 : 2;
const MatmulKernel k_f32{DType::f32, Tag::isa, ActLayout::f32, 1, &float_act_row_bytes<DType::f32>,
                         &float_quantize<DType::f32>, nullptr, nullptr, &float_gemm<DType::f32, k_float_tokens>};
const MatmulKernel k_f16{DType::f16, Tag::isa, ActLayout::f16x, 1, &float_act_row_bytes<DType::f16>,
                         &float_quantize<DType::f16>, nullptr, nullptr, &float_gemm<DType::f16, k_float_tokens>};
const MatmulKernel k_bf16{DType::bf16, Tag::isa, ActLayout::bf16x, 1, &float_act_row_bytes<DType::bf16>,
                          &float_quantize<DType::bf16>, nullptr, nullptr, &float_gemm<DType::bf16, k_float_tokens>};

const MatmulKernel *simd_kernel(DType type) {
    switch (type) {
    case DType::q4_1: return &k_q4_1;
    case DType::q5_0: return &k_q5_0;
    case DType::q5_1: return &k_q5_1;
    case DType::f32: return &k_f32;
    case DType::f16: return &k_f16;
    case DType::bf16: return &k_bf16;
    case DType::q4_k: return &k_q4_k;
    case DType::q5_k: return &k_q5_k;
    case DType::q6_k: return &k_q6_k;
    case DType::q4_0: return &k_q4_0;
    case DType::q8_0: return &k_q8_0;
    default: return nullptr;
    }
}

}  // namespace
}  // namespace ember::kernels
