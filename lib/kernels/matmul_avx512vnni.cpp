// kernels/matmul_avx512vnni.cpp - kernels for AVX-512 with VNNI (compiled with those flags).
//
// xsimd 8.1 has no VNNI arch, so this file declares its own arch deriving from avx512bw:
// every xsimd template instantiated here then has a name of its own, and the linker cannot
// merge it with the avx512 object's copies (which must not contain VNNI instructions).
// GCC 12's AVX-512 intrinsic headers start some operations from _mm512_undefined_*(), which
// -Wmaybe-uninitialized then reports at every use (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <immintrin.h>
#include <xsimd/xsimd.hpp>

namespace xsimd {
struct ember_avx512vnni : avx512bw {
    static constexpr bool supported() noexcept { return true; }
    static constexpr bool available() noexcept { return true; }
    static constexpr unsigned version() noexcept { return generic::version(3, 4, 1); }
    static constexpr char const *name() noexcept { return "ember_avx512vnni"; }
};
namespace types {
template <class T>
struct get_bool_simd_register<T, ember_avx512vnni> {
    using type = simd_avx512_bool_register<T>;
};
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(ember_avx512vnni, avx512bw);
}  // namespace types
}  // namespace xsimd

#include "kernels/kernels.hpp"

#include <cstdint>

namespace ember::kernels {
namespace {

struct Tag {
    using arch = xsimd::ember_avx512vnni;
    static constexpr bool vnni = true;
    static constexpr Isa isa = Isa::avx512vnni;
};
using f32v = xsimd::batch<float, Tag::arch>;
using i32v = xsimd::batch<int32_t, Tag::arch>;

inline i32v dot_u8s8(i32v acc, i32v u, i32v s) { return _mm512_dpbusd_epi32(acc, u, s); }
inline i32v dot_q8w(i32v acc, i32v wu, i32v s) { return _mm512_dpbusd_epi32(acc, wu, s); }
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
inline i32v dot_i16(i32v acc, i32v a, i32v b) { return _mm512_dpwssd_epi32(acc, a, b); }

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *avx512vnni_kernel(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
