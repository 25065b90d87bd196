// quant/kquant_scales.hpp - unpacking the packed sub-block scales of the K-quants.
//
// Shared by the scalar reference (lib/quant) and the SIMD kernels (lib/kernels), so the bit
// layout is written down once.
#pragma once

#include <cstdint>
#include <cstring>

namespace ember::quant {

// Q4_K / Q5_K: 8 sub-blocks, each with a 6-bit scale and a 6-bit min packed into 12 bytes.
// Bytes 0-3: low 6 bits = scale 0-3, top 2 bits = high bits of scale 4-7.
// Bytes 4-7: low 6 bits = min 0-3,   top 2 bits = high bits of min 4-7.
// Bytes 8-11: low nibble = low 4 bits of scale 4-7, high nibble = low 4 bits of min 4-7.
inline void scale_min_k4(int j, const uint8_t *q, uint8_t &scale, uint8_t &min) {
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// All 8 scales and 8 mins of a Q4_K/Q5_K block at once.
inline void unpack_scales_mins_k4(const uint8_t *q, uint8_t scales[8], uint8_t mins[8]) {
    for (int j = 0; j < 8; ++j) scale_min_k4(j, q, scales[j], mins[j]);
}

// Q3_K: 16 sub-blocks with 6-bit scales stored with a +32 bias in 12 bytes.
// Bytes 0-7 hold the low nibbles (scale j in byte j%8, low nibble for j<8, high for j>=8);
// bytes 8-11 hold the top 2 bits (scale j at byte 8 + j%4, bit pair j/4). Returns the
// signed scales (bias removed).
inline void unpack_scales_q3_k(const uint8_t *q, int8_t scales[16]) {
    for (int j = 0; j < 16; ++j) {
        const int low = j < 8 ? (q[j] & 0xF) : (q[j - 8] >> 4);
        const int high = (q[8 + j % 4] >> (2 * (j / 4))) & 3;
        scales[j] = static_cast<int8_t>((low | (high << 4)) - 32);
    }
}

}  // namespace ember::quant
