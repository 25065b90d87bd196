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
inline i32v dot_i16(i32v acc, i32v a, i32v b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_ymm.hpp"
#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *avx2_kernel(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
