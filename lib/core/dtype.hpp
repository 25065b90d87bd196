// core/dtype.hpp - tensor element types, numbered as ggml/GGUF number them.
//
// This table knows the block geometry of every type a GGUF file may name, so the reader can
// check tensor sizes even for types ember cannot compute with. What ember can *do* with a
// type (dequantize, dot products) lives in lib/quant/traits.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ember {

enum class DType : uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3,
    // 4, 5: removed Q4_2/Q4_3
    q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
    q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
    iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22,
    iq4_xs = 23, i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30,
    // 31-33: removed Q4_0_4_4 / Q4_0_4_8 / Q4_0_8_8
    tq1_0 = 34, tq2_0 = 35,
    // 36-38: removed IQ4_NL_4_4 / _4_8 / _8_8
    mxfp4 = 39,
};

struct DTypeInfo {
    std::string_view name;   // as llama.cpp prints it: "q4_0", "f16", "q4_K"
    uint32_t block_elems;    // elements per block (1 for plain types)
    uint32_t block_bytes;    // bytes per block
};

// Geometry of a type id read from a file; nullopt for ids no GGUF writer uses.
constexpr std::optional<DTypeInfo> dtype_info(uint32_t id) {
    switch (id) {
    case 0: return DTypeInfo{"f32", 1, 4};
    case 1: return DTypeInfo{"f16", 1, 2};
    case 2: return DTypeInfo{"q4_0", 32, 18};
    case 3: return DTypeInfo{"q4_1", 32, 20};
    case 6: return DTypeInfo{"q5_0", 32, 22};
    case 7: return DTypeInfo{"q5_1", 32, 24};
    case 8: return DTypeInfo{"q8_0", 32, 34};
    case 9: return DTypeInfo{"q8_1", 32, 36};
    case 10: return DTypeInfo{"q2_K", 256, 84};
    case 11: return DTypeInfo{"q3_K", 256, 110};
    case 12: return DTypeInfo{"q4_K", 256, 144};
    case 13: return DTypeInfo{"q5_K", 256, 176};
    case 14: return DTypeInfo{"q6_K", 256, 210};
    case 15: return DTypeInfo{"q8_K", 256, 292};
    case 16: return DTypeInfo{"iq2_xxs", 256, 66};
    case 17: return DTypeInfo{"iq2_xs", 256, 74};
    case 18: return DTypeInfo{"iq3_xxs", 256, 98};
    case 19: return DTypeInfo{"iq1_s", 256, 50};
    case 20: return DTypeInfo{"iq4_nl", 32, 18};
    case 21: return DTypeInfo{"iq3_s", 256, 110};
    case 22: return DTypeInfo{"iq2_s", 256, 82};
    case 23: return DTypeInfo{"iq4_xs", 256, 136};
    case 24: return DTypeInfo{"i8", 1, 1};
    case 25: return DTypeInfo{"i16", 1, 2};
    case 26: return DTypeInfo{"i32", 1, 4};
    case 27: return DTypeInfo{"i64", 1, 8};
    case 28: return DTypeInfo{"f64", 1, 8};
    case 29: return DTypeInfo{"iq1_m", 256, 56};
    case 30: return DTypeInfo{"bf16", 1, 2};
    case 34: return DTypeInfo{"tq1_0", 256, 54};
    case 35: return DTypeInfo{"tq2_0", 256, 66};
    case 39: return DTypeInfo{"mxfp4", 32, 17};
    default: return std::nullopt;
    }
}

// Geometry of a known type (every enumerator above has one).
constexpr DTypeInfo dtype_info(DType t) { return *dtype_info(static_cast<uint32_t>(t)); }
constexpr std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Bytes of a row of n elements, or nullopt if n is not a whole number of blocks or the
// size does not fit in 64 bits (n may come from an untrusted file).
constexpr std::optional<uint64_t> row_bytes(DType t, uint64_t n) {
    const DTypeInfo info = dtype_info(t);
    if (n % info.block_elems != 0) return std::nullopt;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(n / info.block_elems, uint64_t{info.block_bytes}, &bytes)) return std::nullopt;
    return bytes;
}

}  // namespace ember
