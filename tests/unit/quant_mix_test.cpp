// The per-tensor type rules of the quantization file types (llama-quantize's choices), on
// synthetic tensor lists shaped like real models. End-to-end byte comparisons with
// llama.cpp's quantizer are in tests/quant_cli.cmake.
#include "quant/mix.hpp"
#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace ember;
using namespace ember::quant;

namespace {

// A Llama-like model: n_layer blocks, tied embeddings unless with_output.
std::vector<TensorDesc> llama_like(int n_layer, uint64_t n_embd, uint64_t n_ff, bool with_output) {
    std::vector<TensorDesc> t;
    auto add = [&](std::string name, std::initializer_list<uint64_t> ne) {
        TensorDesc d{std::move(name), DType::f16, static_cast<uint32_t>(ne.size()), {1, 1, 1, 1}};
        size_t i = 0;
        for (uint64_t v : ne) d.ne[i++] = v;
        if (d.n_dims == 1) d.type = DType::f32;
        t.push_back(std::move(d));
    };
    add("token_embd.weight", {n_embd, 1000});
    add("output_norm.weight", {n_embd});
    if (with_output) add("output.weight", {n_embd, 1000});
    for (int l = 0; l < n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", {n_embd});
        add(p + "attn_q.weight", {n_embd, n_embd});
        add(p + "attn_k.weight", {n_embd, n_embd / 4});
        add(p + "attn_v.weight", {n_embd, n_embd / 4});
        add(p + "attn_output.weight", {n_embd, n_embd});
        add(p + "ffn_norm.weight", {n_embd});
        add(p + "ffn_gate.weight", {n_embd, n_ff});
        add(p + "ffn_up.weight", {n_embd, n_ff});
        add(p + "ffn_down.weight", {n_ff, n_embd});
    }
    return t;
}

std::map<std::string, DType> plan_by_name(FileType f, const ModelFacts &facts, std::vector<TensorDesc> tensors,
                                          bool pure = false) {
    std::vector<std::string> names;
    for (const TensorDesc &d : tensors) names.push_back(d.name);
    std::vector<TensorDesc> ordered;
    for (size_t i : quantize_order(names)) ordered.push_back(tensors[i]);
    const std::vector<TypeChoice> plan = plan_types(f, facts, ordered, pure);
    std::map<std::string, DType> out;
    for (size_t i = 0; i < ordered.size(); ++i) out[ordered[i].name] = plan[i].type;
    return out;
}

}  // namespace

TEST_CASE("file type names parse as llama-quantize spells them") {
    CHECK(parse_file_type("Q4_K_M") == FileType::q4_k_m);
    CHECK(parse_file_type("q4_k_m") == FileType::q4_k_m);
    CHECK(parse_file_type("Q4_K") == FileType::q4_k_m);   // llama-quantize's alias
    CHECK(parse_file_type("Q5_K") == FileType::q5_k_m);
    CHECK(parse_file_type("q8_0") == FileType::q8_0);
    CHECK(parse_file_type("15") == FileType::q4_k_m);     // numeric ftype
    CHECK(parse_file_type("bf16") == FileType::mostly_bf16);
    CHECK_FALSE(parse_file_type("Q4_K_X").has_value());
    CHECK_FALSE(parse_file_type("19").has_value());        // IQ2_XXS: not offered
    CHECK(file_type_info(FileType::q5_k_m).default_type == DType::q5_k);
}

TEST_CASE("processing order: whole-model tensors, then by layer number, then by name") {
    const std::vector<std::string> names = {"blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight",
                                            "blk.2.attn_k.weight", "output.weight", "blk.0.x"};
    const std::vector<size_t> order = quantize_order(names);
    std::vector<std::string> got;
    for (size_t i : order) got.push_back(names[i]);
    CHECK(got == std::vector<std::string>{"output.weight", "token_embd.weight", "blk.0.x", "blk.2.attn_k.weight",
                                          "blk.2.ffn_up.weight", "blk.10.attn_q.weight"});
}

TEST_CASE("Q4_K_M on a 16-layer model with tied embeddings (Llama-3.2-1B's shape)") {
    ModelFacts facts{"llama", 16, 32, 8, 0};
    const auto plan = plan_by_name(FileType::q4_k_m, facts, llama_like(16, 2048, 8192, false));
    // Tied: token_embd plays the output projection's role and gets Q6_K.
    CHECK(plan.at("token_embd.weight") == DType::q6_k);
    CHECK(plan.at("output_norm.weight") == DType::f32);
    // attn_v and ffn_down: Q6_K in layers 0,1 (first eighth), 14,15 (last eighth) and every
    // third layer between (4, 7, 10, 13); Q4_K elsewhere.
    const std::vector<int> more = {0, 1, 4, 7, 10, 13, 14, 15};
    for (int l = 0; l < 16; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const bool m = std::find(more.begin(), more.end(), l) != more.end();
        INFO("layer " << l);
        CHECK(plan.at(p + "attn_v.weight") == (m ? DType::q6_k : DType::q4_k));
        CHECK(plan.at(p + "ffn_down.weight") == (m ? DType::q6_k : DType::q4_k));
        CHECK(plan.at(p + "attn_q.weight") == DType::q4_k);
        CHECK(plan.at(p + "ffn_up.weight") == DType::q4_k);
        CHECK(plan.at(p + "attn_norm.weight") == DType::f32);
    }
}

TEST_CASE("Q5_K_M and Q4_K_S, with a separate output tensor") {
    ModelFacts facts{"llama", 8, 32, 8, 0};
    const auto m5 = plan_by_name(FileType::q5_k_m, facts, llama_like(8, 512, 1024, true));
    CHECK(m5.at("output.weight") == DType::q6_k);
    CHECK(m5.at("token_embd.weight") == DType::q5_k);  // untied: the default type
    CHECK(m5.at("blk.0.attn_v.weight") == DType::q6_k);  // 8 layers: 0 and 7, and 3, 6
    CHECK(m5.at("blk.1.attn_v.weight") == DType::q5_k);
    CHECK(m5.at("blk.3.ffn_down.weight") == DType::q6_k);
    CHECK(m5.at("blk.7.ffn_down.weight") == DType::q6_k);
    const auto s4 = plan_by_name(FileType::q4_k_s, facts, llama_like(8, 512, 1024, true));
    CHECK(s4.at("blk.3.attn_v.weight") == DType::q5_k);  // the first four attn_v
    CHECK(s4.at("blk.4.attn_v.weight") == DType::q4_k);
    CHECK(s4.at("blk.0.ffn_down.weight") == DType::q5_k);  // the first eighth
    CHECK(s4.at("blk.1.ffn_down.weight") == DType::q4_k);
}

TEST_CASE("Q8_0 keeps the output in Q8_0; F16 converts every 2-D weight; pure means no mix") {
    ModelFacts facts{"llama", 4, 8, 8, 0};
    const auto q8 = plan_by_name(FileType::q8_0, facts, llama_like(4, 256, 512, true));
    CHECK(q8.at("output.weight") == DType::q8_0);
    CHECK(q8.at("blk.3.ffn_down.weight") == DType::q8_0);
    const auto f16 = plan_by_name(FileType::mostly_f16, facts, llama_like(4, 256, 512, true));
    CHECK(f16.at("output.weight") == DType::f16);
    CHECK(f16.at("blk.0.attn_norm.weight") == DType::f32);
    const auto pure = plan_by_name(FileType::q4_k_m, facts, llama_like(4, 256, 512, true), true);
    for (const auto &[name, type] : pure)
        CHECK(type == (name.find("norm") != std::string::npos ? DType::f32 : DType::q4_k));
}

TEST_CASE("rows that do not fit a type's blocks fall back as llama.cpp does") {
    ModelFacts facts{"llama", 2, 4, 2, 0};
    // n_embd 96: not a multiple of 256; n_ff 200: not even a multiple of 32.
    const auto p = plan_by_name(FileType::q4_k_m, facts, llama_like(2, 96, 200, true));
    CHECK(p.at("output.weight") == DType::q8_0);          // output: Q8_0 when K blocks do not fit
    CHECK(p.at("token_embd.weight") == DType::q5_0);      // Q4_K -> Q5_0
    CHECK(p.at("blk.0.attn_q.weight") == DType::q5_0);
    CHECK(p.at("blk.1.attn_v.weight") == DType::q8_0);    // Q6_K -> Q8_0
    CHECK(p.at("blk.0.ffn_down.weight") == DType::f16);   // row 200: Q5_0 does not fit either
    const auto q5 = plan_by_name(FileType::q5_k_s, facts, llama_like(2, 96, 200, true));
    CHECK(q5.at("blk.0.attn_q.weight") == DType::q5_1);   // Q5_K -> Q5_1
    const auto q2 = plan_by_name(FileType::q2_k, facts, llama_like(2, 96, 200, true));
    CHECK(q2.at("blk.0.attn_q.weight") == DType::q4_0);   // Q2_K -> Q4_0
}

TEST_CASE("Q2_K and Q3_K_M raise the sensitive tensors") {
    ModelFacts gqa4{"llama", 4, 32, 8, 0};
    const auto q2 = plan_by_name(FileType::q2_k, gqa4, llama_like(4, 256, 512, true));
    CHECK(q2.at("blk.0.attn_v.weight") == DType::q4_k);       // n_gqa >= 4
    CHECK(q2.at("blk.0.ffn_down.weight") == DType::q3_k);
    CHECK(q2.at("blk.0.attn_output.weight") == DType::q3_k);
    CHECK(q2.at("blk.0.attn_q.weight") == DType::q2_k);
    ModelFacts mha{"llama", 4, 8, 8, 0};
    CHECK(plan_by_name(FileType::q2_k, mha, llama_like(4, 256, 512, true)).at("blk.0.attn_v.weight") == DType::q3_k);
    const auto q3m = plan_by_name(FileType::q3_k_m, mha, llama_like(4, 256, 512, true));
    CHECK(q3m.at("blk.0.attn_v.weight") == DType::q5_k);       // the first two attn_v
    CHECK(q3m.at("blk.2.attn_v.weight") == DType::q4_k);
    CHECK(q3m.at("blk.0.attn_output.weight") == DType::q4_k);
}

TEST_CASE("tensors that are never quantized keep their type") {
    ModelFacts facts{"llama", 1, 4, 4, 0};
    std::vector<TensorDesc> t = llama_like(1, 256, 512, true);
    t.push_back({"blk.0.ffn_gate_inp.weight", DType::f32, 2, {256, 8, 1, 1}});
    t.push_back({"rope_freqs.weight", DType::f32, 1, {32, 1, 1, 1}});
    t.push_back({"blk.0.attn_q.bias", DType::f32, 2, {256, 1, 1, 1}});
    t.push_back({"blk.0.attn_q_norm.weight", DType::f32, 2, {256, 1, 1, 1}});
    const auto p = plan_by_name(FileType::q4_k_m, facts, t);
    CHECK(p.at("blk.0.ffn_gate_inp.weight") == DType::f32);
    CHECK(p.at("rope_freqs.weight") == DType::f32);
    CHECK(p.at("blk.0.attn_q.bias") == DType::f32);
    CHECK(p.at("blk.0.attn_q_norm.weight") == DType::f32);
}
