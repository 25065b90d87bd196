// gguf_sample.hpp - a small GGUF file exercising every metadata type, built with the writer.
// Shared by the GGUF tests (round trip, truncation) and used to regenerate the fuzz seeds.
#pragma once

#include "gguf/names.hpp"
#include "gguf/writer.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ember::test {

// Deterministic tensor bytes: distinct per tensor so a mix-up shows.
inline std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = 2166136261u ^ seed;
    for (auto &b : v) {
        x = x * 16777619u + 0x9e37u;
        b = static_cast<uint8_t>(x >> 24);
    }
    return v;
}

// n_tokens: size of the vocabulary arrays (keeps the file small for byte-wise truncation).
inline gguf::Writer sample_writer(uint32_t alignment = 32, int n_tokens = 6) {
    using namespace gguf;
    Writer w(alignment);
    w.set_string(key::architecture, "llama");
    w.set_string(key::name, "sample");
    w.set_u32(arch_key("llama", arch::block_count), 2);
    w.set_u32(arch_key("llama", arch::context_length), 128);
    w.set_f32(arch_key("llama", arch::layer_norm_rms_epsilon), 1e-5f);
    w.set_u8("test.u8", 200);
    w.set_i8("test.i8", -100);
    w.set_u16("test.u16", 60000);
    w.set_i16("test.i16", -30000);
    w.set_i32("test.i32", -2000000000);
    w.set_u64("test.u64", 1ull << 40);
    w.set_i64("test.i64", -(1ll << 40));
    w.set_f64("test.f64", 3.25);
    w.set_bool("test.bool", true);
    w.set_string("test.unicode", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x94\xa5");
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (int i = 0; i < n_tokens; ++i) {
        tokens.push_back(i == 0 ? "<unk>" : "tok" + std::to_string(i));
        scores.push_back(-static_cast<float>(i));
        types.push_back(i == 0 ? 2 : 1);
    }
    w.set_string_array(key::tokenizer_tokens, tokens);
    w.set_array<float>(key::tokenizer_scores, scores);
    w.set_array<int32_t>(key::tokenizer_token_type, types);
    const std::array<bool, 3> flags{true, false, true};
    w.set_bool_array("test.bools", flags);
    const std::array<double, 2> f64s{0.5, -1.5};
    w.set_array<double>("test.f64s", f64s);
    const std::array<uint64_t, 2> u64s{1, 1ull << 63};
    w.set_array<uint64_t>("test.u64s", u64s);
    // An array of arrays (legal GGUF, used by no model ember knows): [[1, 2], [3]].
    Value inner1, inner2, outer;
    inner1.type_ = inner2.type_ = ValueType::array;
    inner1.elem_type_ = inner2.elem_type_ = ValueType::u16;
    inner1.count_ = 2;
    inner1.array_bytes_ = {1, 0, 2, 0};
    inner2.count_ = 1;
    inner2.array_bytes_ = {3, 0};
    outer.type_ = ValueType::array;
    outer.elem_type_ = ValueType::array;
    outer.count_ = 2;
    outer.items_ = {inner1, inner2};
    w.set_value("test.nested", outer);

    w.add_tensor_owned(tensor::token_embd, DType::f32, {8, 6}, pattern_bytes(8 * 6 * 4, 1));
    w.add_tensor_owned(blk_tensor(0, tensor::attn_q), DType::q4_0, {64, 2}, pattern_bytes(2 * 2 * 18, 2));
    w.add_tensor_owned(blk_tensor(0, tensor::ffn_up), DType::q8_0, {32, 3}, pattern_bytes(3 * 34, 3));
    w.add_tensor_owned(blk_tensor(1, tensor::attn_norm), DType::f16, {8}, pattern_bytes(16, 4));
    w.add_tensor_owned("test.i32_3d", DType::i32, {2, 2, 2}, pattern_bytes(32, 5));
    w.add_tensor_owned(tensor::output, DType::q4_k, {256, 1, 1, 1}, pattern_bytes(144, 6));
    return w;
}

}  // namespace ember::test
