// kernels/matmul_avx2.cpp - kernels for AVX2 + FMA + F16C.
#include <immintrin.h>
#include <xsimd/xsimd.hpp>

#include "kernels/kernels.hpp"

#include <cstdint>

namespace ember::kernels {
namespace {

struct Tag {
    using arch = xsimd::fma3<xsimd::avx2>;
    static constexpr bool vnni = false;
    static constexpr Isa isa = Isa::avx2;
};
using f32v = xsimd::batch<float, Tag::arch>;
using i32v = xsimd::batch<int32_t, Tag::arch>;

// vpmaddubsw gives 16-bit sums of two u8*s8 products; vpmaddwd with ones widens pairs of
// them into the 32-bit lane. Exact while u <= 127.
inline i32v dot_u8s8(i32v acc, i32v u, i32v s) {
    const __m256i p16 = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}
// Signed x signed via |w| * sign(s, w): |w| <= 127 keeps vpmaddubsw exact.
inline i32v dot_q8w(i32v acc, i32v wu, i32v s) {
    const __m256i w = _mm256_xor_si256(wu, _mm256_set1_epi8(static_cast<char>(0x80)));
    return dot_u8s8(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(s, w));
}
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
inline i32v dot_i16(i32v acc, i32v a, i32v b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *avx2_kernel(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
