// quant/traits.cpp - the one table of what each type can do (STYLE.md #5).
#include "quant/traits.hpp"

#include "core/fail.hpp"
#include "quant/blocks.hpp"

#include <array>

namespace ember::quant {
namespace {

constexpr TypeTraits k_table[] = {
    // type        name     elems  bytes              quantized vec_dot_type
    {DType::f32, "f32", 1, 4, false, DType::f32, to_float_f32, from_float_f32, vec_dot_f32},
    {DType::f16, "f16", 1, 2, false, DType::f16, to_float_f16, from_float_f16, vec_dot_f16},
    {DType::bf16, "bf16", 1, 2, false, DType::bf16, to_float_bf16, from_float_bf16, vec_dot_bf16},
    {DType::q4_0, "q4_0", qk4_0, sizeof(BlockQ4_0), true, DType::q8_0,
     dequantize_q4_0, quantize_q4_0, vec_dot_q4_0_q8_0},
    {DType::q4_1, "q4_1", qk4_1, sizeof(BlockQ4_1), true, DType::q8_1,
     dequantize_q4_1, quantize_q4_1, vec_dot_q4_1_q8_1},
    {DType::q5_0, "q5_0", qk5_0, sizeof(BlockQ5_0), true, DType::q8_0,
     dequantize_q5_0, quantize_q5_0, vec_dot_q5_0_q8_0},
    {DType::q5_1, "q5_1", qk5_1, sizeof(BlockQ5_1), true, DType::q8_1,
     dequantize_q5_1, quantize_q5_1, vec_dot_q5_1_q8_1},
    {DType::q8_0, "q8_0", qk8_0, sizeof(BlockQ8_0), true, DType::q8_0,
     dequantize_q8_0, quantize_q8_0, vec_dot_q8_0_q8_0},
    // Activation-only formats: quantize and read back, no weight dot of their own.
    {DType::q8_1, "q8_1", qk8_1, sizeof(BlockQ8_1), true, DType::q8_1,
     dequantize_q8_1, quantize_q8_1, nullptr},
    {DType::q8_k, "q8_K", qk_k, sizeof(BlockQ8_K), true, DType::q8_k,
     dequantize_q8_k, quantize_q8_k, nullptr},
    {DType::q2_k, "q2_K", qk_k, sizeof(BlockQ2_K), true, DType::q8_k,
     dequantize_q2_k, quantize_q2_k, vec_dot_q2_k_q8_k},
    {DType::q3_k, "q3_K", qk_k, sizeof(BlockQ3_K), true, DType::q8_k,
     dequantize_q3_k, quantize_q3_k, vec_dot_q3_k_q8_k},
    {DType::q4_k, "q4_K", qk_k, sizeof(BlockQ4_K), true, DType::q8_k,
     dequantize_q4_k, quantize_q4_k, vec_dot_q4_k_q8_k},
    {DType::q5_k, "q5_K", qk_k, sizeof(BlockQ5_K), true, DType::q8_k,
     dequantize_q5_k, quantize_q5_k, vec_dot_q5_k_q8_k},
    {DType::q6_k, "q6_K", qk_k, sizeof(BlockQ6_K), true, DType::q8_k,
     dequantize_q6_k, quantize_q6_k, vec_dot_q6_k_q8_k},
};

// The table must agree with core/dtype.hpp's geometry, which the GGUF reader checks files by.
constexpr bool table_matches_dtype_info() {
    for (const TypeTraits &t : k_table) {
        const DTypeInfo info = dtype_info(t.type);
        if (info.name != t.name || static_cast<int>(info.block_elems) != t.block_elems ||
            static_cast<int>(info.block_bytes) != t.block_bytes)
            return false;
    }
    return true;
}
static_assert(table_matches_dtype_info());

// Direct index by type id (ids are small; see core/dtype.hpp).
constexpr size_t k_max_id = 40;
constexpr std::array<const TypeTraits *, k_max_id> make_index() {
    std::array<const TypeTraits *, k_max_id> index{};
    for (const TypeTraits &t : k_table) index[static_cast<size_t>(t.type)] = &t;
    return index;
}
constexpr auto k_index = make_index();

}  // namespace

const TypeTraits *find_traits(DType type) {
    const auto id = static_cast<size_t>(type);
    return id < k_max_id ? k_index[id] : nullptr;
}

const TypeTraits &traits(DType type) {
    if (const TypeTraits *t = find_traits(type)) return *t;
    const auto info = dtype_info(static_cast<uint32_t>(type));
    fail(Errc::unsupported, "tensor type {} (id {}) is not supported by ember",
         info ? info->name : std::string_view("unknown"), static_cast<uint32_t>(type));
}

FromFloat activation_quantizer(DType vec_dot_type) {
    switch (vec_dot_type) {
    case DType::q8_0: return quantize_q8_0_act;
    case DType::q8_1: return quantize_q8_1_act;
    default: return traits(vec_dot_type).from_float;
    }
}

VecDot matmul_vec_dot(DType type) {
    switch (type) {
    case DType::q4_1: return vec_dot_q4_1_q8_1_x86;
    case DType::q5_1: return vec_dot_q5_1_q8_1_x86;
    default: return traits(type).vec_dot;
    }
}

}  // namespace ember::quant
