// quant/fp16.hpp - IEEE binary16 and bfloat16 conversions, bit for bit as ggml's scalar code.
//
// Integer-only so they are constexpr and give the same bits on every compiler and ISA; the
// kernels layer has its own vector fast paths (F16C, AVX-512) and tests them against these.
//
// Behaviour that matters for bit-exactness with llama.cpp:
//   fp16 -> f32: exact; a NaN keeps sign and payload and comes back quiet (as F16C does).
//   f32 -> fp16: round to nearest, ties to even; overflow to infinity; any NaN becomes the
//                canonical quiet NaN 0x7E00 with the input's sign.
//   f32 -> bf16: round to nearest, ties to even; a NaN keeps its top bits and is made quiet.
//   bf16 -> f32: exact (the bf16 bits are the high half of the f32).
#pragma once

#include <bit>
#include <cstdint>

namespace ember::quant {

constexpr float fp16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0x1F) {                       // infinity or NaN (NaN made quiet)
        bits = 0x7F800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
    } else if (exp != 0) {                   // normal: rebias 15 -> 127
        bits = ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {                  // signed zero
        bits = 0;
    } else {                                 // subnormal: value = mant * 2^-24, normalise it
        uint32_t e = 113;                    // biased f32 exponent of 2^-14
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --e;
        }
        bits = (e << 23) | ((mant & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(sign | bits);
}

constexpr uint16_t f32_to_fp16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u);  // NaN
    const uint32_t e = a >> 23;
    if (e >= 143) return static_cast<uint16_t>(sign | 0x7C00u);       // >= 2^16: infinity
    if (e >= 113) {                                                    // normal half range
        uint32_t h = ((e - 112u) << 10) | ((a >> 13) & 0x3FFu);
        const uint32_t rest = a & 0x1FFFu;
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
        return static_cast<uint16_t>(sign | h);
    }
    if (e < 102) return sign;                // below 2^-25: rounds to (signed) zero
    // Subnormal half: value = m * 2^(e-150), result = round(value / 2^-24).
    const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - e;         // 14..24
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (h & 1u))) ++h;  // may round up to 2^-14: still right
    return static_cast<uint16_t>(sign | h);
}

constexpr float bf16_to_f32(uint16_t b) {
    return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

constexpr uint16_t f32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
    return static_cast<uint16_t>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace ember::quant
