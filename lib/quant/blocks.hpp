// quant/blocks.hpp - quantized block layouts, byte for byte as GGUF stores them.
//
// Half-precision fields are raw IEEE binary16 bits (uint16_t); see quant/fp16.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ember::quant {

inline constexpr int qk4_0 = 32, qk4_1 = 32, qk5_0 = 32, qk5_1 = 32, qk8_0 = 32, qk8_1 = 32;
inline constexpr int qk_k = 256;          // super-block size of the K-quants
inline constexpr int k_scale_size = 12;   // packed 6-bit scales/mins of Q4_K and Q5_K

struct BlockQ4_0 {            // x = d * (q - 8)
    uint16_t d;
    uint8_t qs[qk4_0 / 2];    // element j in low nibble of qs[j], element j+16 in high nibble
};
struct BlockQ4_1 {            // x = d * q + m
    uint16_t d, m;
    uint8_t qs[qk4_1 / 2];
};
struct BlockQ5_0 {            // x = d * (q - 16), fifth bit in qh
    uint16_t d;
    uint8_t qh[4];
    uint8_t qs[qk5_0 / 2];
};
struct BlockQ5_1 {            // x = d * q + m
    uint16_t d, m;
    uint8_t qh[4];
    uint8_t qs[qk5_1 / 2];
};
struct BlockQ8_0 {            // x = d * q
    uint16_t d;
    int8_t qs[qk8_0];
};
struct BlockQ8_1 {            // activations for Q4_1/Q5_1 dots: s = d * sum(qs)
    uint16_t d, s;
    int8_t qs[qk8_1];
};
struct BlockQ2_K {
    uint8_t scales[qk_k / 16];  // 4-bit scale and 4-bit min per 16 elements
    uint8_t qs[qk_k / 4];
    uint16_t d, dmin;
};
struct BlockQ3_K {
    uint8_t hmask[qk_k / 8];
    uint8_t qs[qk_k / 4];
    uint8_t scales[12];
    uint16_t d;
};
struct BlockQ4_K {            // 8 sub-blocks of 32: x = d*sc*q - dmin*m
    uint16_t d, dmin;
    uint8_t scales[k_scale_size];
    uint8_t qs[qk_k / 2];
};
struct BlockQ5_K {
    uint16_t d, dmin;
    uint8_t scales[k_scale_size];
    uint8_t qh[qk_k / 8];
    uint8_t qs[qk_k / 2];
};
struct BlockQ6_K {            // 16 sub-blocks of 16: x = d * sc * (q - 32)
    uint8_t ql[qk_k / 2];
    uint8_t qh[qk_k / 4];
    int8_t scales[qk_k / 16];
    uint16_t d;
};
struct BlockQ8_K {            // activations for K-quant dots
    float d;
    int8_t qs[qk_k];
    int16_t bsums[qk_k / 16];  // sums of each 16 qs
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace ember::quant
