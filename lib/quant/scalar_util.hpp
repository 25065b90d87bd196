// quant/scalar_util.hpp - small helpers shared by the scalar quantizers (internal to lib/quant
// and lib/kernels; not part of any public header).
#pragma once

#include "core/fail.hpp"
#include "core/dtype.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace ember::quant {

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 leaves the rounded
// integer in the low mantissa bits. This is the rounding every llama.cpp K-quantizer uses;
// roundf (ties away from zero) would give different blocks at exact halves.
inline int nearest_int(float x) {
    const float biased = x + 12582912.f;
    return static_cast<int>(std::bit_cast<uint32_t>(biased) & 0x007FFFFFu) - 0x00400000;
}

// Reject a row length that is not a whole number of blocks, naming the type.
inline int64_t whole_blocks(DType type, int64_t n, int block_elems) {
    if (n < 0 || n % block_elems != 0)
        fail(Errc::invalid_argument, "{}: {} elements is not a whole number of {}-element blocks",
             dtype_name(type), n, block_elems);
    return n / block_elems;
}

// Unaligned little-endian loads/stores of the packed fields (GGUF data is not aligned).
inline uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline void store_u32(uint8_t *p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace ember::quant
