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

}  // namespace
}  // namespace ember::kernels

#include "kernels/simd_ymm.hpp"
#include "kernels/simd_q8.hpp"
#include "kernels/simd_q5.hpp"
#include "kernels/simd_kquants.hpp"
#include "kernels/simd_float.hpp"
#include "kernels/simd_table.hpp"

namespace ember::kernels {
const MatmulKernel *EMBER_VNNI_ENTRY(DType type) { return simd_kernel(type); }
}  // namespace ember::kernels
