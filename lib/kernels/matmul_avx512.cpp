// kernels/matmul_avx512.cpp - kernels for AVX-512 F/BW/VL/DQ without VNNI.
// GCC 12's AVX-512 intrinsic headers start some operations from _mm512_undefined_*(), which
// -Wmaybe-uninitialized then reports at every use (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>
#include <xsimd/xsimd.hpp>

#include "kernels/kernels.hpp"

#include <cstdint>

namespace ember::kernels {
namespace {

struct Tag {
    using arch = xsimd::avx512bw;
    static constexpr bool vnni = false;
    static constexpr Isa isa = Isa::avx512;
};
using f32v = xsimd::batch<float, Tag::arch>;
using i32v = xsimd::batch<int32_t, Tag::arch>;

// vpmaddubsw gives 16-bit sums of two u8*s8 products; vpmaddwd with ones widens pairs of
// them into the 32-bit lane. Exact while |u| * 128 * 2 < 32768, i.e. u <= 127.
inline i32v dot_u8s8(i32v acc, i32v u, i32v s) {
    const __m512i p16 = _mm512_maddubs_epi16(u, s);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p16, _mm512_set1_epi16(1)));
}
// Signed x signed via |w| * (s with w's sign): |w| <= 127 keeps vpmaddubsw exact.
inline i32v dot_q8w(i32v acc, i32v wu, i32v s) {
    const __m512i w = _mm512_xor_si512(wu, _mm512_set1_epi8(static_cast<char>(0x80)));
    const __mmask64 neg = _mm512_movepi8_mask(w);
    const __m512i ss = _mm512_mask_sub_epi8(s, neg, _mm512_setzero_si512(), s);
    return dot_u8s8(acc, _mm512_abs_epi8(w), ss);
}
inline f32v load_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
inline f32v fmadd(f32v a, f32v b, f32v c) { return _mm512_fmadd_ps(a, b, c); }
inline f32v fnmadd(f32v a, f32v b, f32v c) { return _mm512_fnmadd_ps(a, b, c); }
inline float hmax(f32v v) { return _mm512_reduce_max_ps(v); }
inline void store_i8(i32v v, int8_t *dst) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), _mm512_cvtsepi32_epi8(v));
}
inline uint16_t to_fp16(float f) {  // round to nearest even, as quant::f32_to_fp16
    return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
inline float from_fp16(uint16_t h) { return _cvtsh_ss(h); }
inline f32v load_bf16(const uint16_t *p) {
    const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
inline i32v widen_u8(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
inline i32v widen_pairs_u8(const uint8_t *p) {
    return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
inline i32v widen_pairs_s8(const uint8_t *p) {
    return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}
inline i32v dot_i16(i32v acc, i32v a, i32v b) { return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b)); }

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *avx512_kernel(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
