// kernels/matmul_avxvnni.cpp - kernels for AVX2 + AVX-VNNI: the AVX2 kernels with the integer
// dots done by VEX-encoded vpdpbusd / vpdpwssd on ymm (Intel client CPUs since Alder Lake,
// which have no AVX-512, and Zen 5). Same arithmetic as every other ISA: exact integer dots,
// then the shared float steps, so the same bits.
//
// The file is also compiled a second time, with EMBER_AVXVNNI_EVEX defined and AVX-512 VL +
// VNNI flags, into the kernels test (tests/unit/kernels_avxvnni_evex.cpp): there the same
// instructions take their EVEX encoding, which a CPU that hides AVX-VNNI (this project's CI
// VMs) still runs, so every line here but the two intrinsic names below is tested on such
// hosts. Each build declares its own xsimd arch, so their template instances never merge with
// each other or with the AVX2 object's.
#include <immintrin.h>
#include <xsimd/xsimd.hpp>

#if defined(EMBER_AVXVNNI_EVEX)
#define EMBER_VNNI_ARCH ember_avxvnni_evex
#define EMBER_DPBUSD _mm256_dpbusd_epi32
#define EMBER_DPWSSD _mm256_dpwssd_epi32
#define EMBER_VNNI_ENTRY avxvnni_evex_kernel
#else
#define EMBER_VNNI_ARCH ember_avxvnni
#define EMBER_DPBUSD _mm256_dpbusd_avx_epi32
#define EMBER_DPWSSD _mm256_dpwssd_avx_epi32
#define EMBER_VNNI_ENTRY avxvnni_kernel
#endif

namespace xsimd {
struct EMBER_VNNI_ARCH : fma3<avx2> {
    static constexpr bool supported() noexcept { return true; }
    static constexpr bool available() noexcept { return true; }
    static constexpr unsigned version() noexcept { return generic::version(2, 2, 2); }
    static constexpr char const *name() noexcept { return "ember_avxvnni"; }
};
namespace types {
XSIMD_DECLARE_SIMD_REGISTER_ALIAS(EMBER_VNNI_ARCH, avx2);
}  // namespace types
}  // namespace xsimd

#include "kernels/kernels.hpp"

#include <cstdint>

namespace ember::kernels {
namespace {

struct Tag {
    using arch = xsimd::EMBER_VNNI_ARCH;
    static constexpr bool vnni = true;
    static constexpr Isa isa = Isa::avxvnni;
};
using f32v = xsimd::batch<float, Tag::arch>;
using i32v = xsimd::batch<int32_t, Tag::arch>;

// (Plain __m256i operands: GCC spells the EVEX intrinsics as macros with C casts, which do not
// see xsimd's conversion operator.)
inline i32v dot_u8s8(i32v acc, i32v u, i32v s) {
    const __m256i a = acc, x = u, y = s;
    return EMBER_DPBUSD(a, x, y);
}
inline i32v dot_q8w(i32v acc, i32v wu, i32v s) { return dot_u8s8(acc, wu, s); }
inline i32v dot_i16(i32v acc, i32v a, i32v b) {
    const __m256i c = acc, x = a, y = b;
    return EMBER_DPWSSD(c, x, y);
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

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *EMBER_VNNI_ENTRY(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
