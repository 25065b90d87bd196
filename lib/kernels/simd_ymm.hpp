// kernels/simd_ymm.hpp - the per-ISA helpers (see simd_q8.hpp) that AVX2 and AVX-VNNI share:
// everything on 256-bit vectors but the integer dots. Included by matmul_avx2.cpp and
// matmul_avxvnni.cpp after they define Tag, f32v and i32v.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace ember::kernels {
namespace {

inline f32v load_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
inline f32v fmadd(f32v a, f32v b, f32v c) { return _mm256_fmadd_ps(a, b, c); }
inline f32v fnmadd(f32v a, f32v b, f32v c) { return _mm256_fnmadd_ps(a, b, c); }
inline float hmax(f32v v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}
inline void store_i8(i32v v, int8_t *dst) {
    // Values are already in [-128, 127]: narrow 32 -> 16 -> 8 and undo the lane interleave.
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    const __m128i w16 = _mm_packs_epi32(lo, hi);
    _mm_storel_epi64(reinterpret_cast<__m128i *>(dst), _mm_packs_epi16(w16, w16));
}
inline uint16_t to_fp16(float f) {  // round to nearest even, as quant::f32_to_fp16
    return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
inline float from_fp16(uint16_t h) { return _cvtsh_ss(h); }
inline f32v load_bf16(const uint16_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
inline i32v widen_u8(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
}
inline i32v widen_pairs_u8(const uint8_t *p) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
inline i32v widen_pairs_s8(const uint8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

}  // namespace
}  // namespace ember::kernels
