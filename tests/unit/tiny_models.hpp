// tiny_models.hpp - whole GGUF models of a few tens of KB, built in memory: the fuzz_models
// seed corpus (tests/fuzz/corpus/models/) and the hostile-model tests start from these.
// The vocabulary is stories260K's (512 SentencePiece tokens), the weights small
// deterministic pseudo-random values.
#pragma once

#include "core/dtype.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "quant/traits.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ember::test {

struct TinySpec {
    std::string arch = "llama";  // llama, qwen2 (q/k/v biases), qwen3 (q/k norms)
    uint32_t n_embd = 16, n_head = 2, n_head_kv = 1, n_ff = 32, n_layer = 1, n_ctx = 64;
    DType matrix_type = DType::f16;  // every 2-D weight; norms and biases stay f32
    bool tied_output = true;         // no output.weight: the embedding is reused
};

inline std::vector<uint8_t> tiny_model(const gguf::File &vocab_donor, const TinySpec &s) {
    gguf::Writer w;
    const std::string a = s.arch;
    w.set_string("general.architecture", a);
    w.set_string("general.name", "tiny " + a);
    w.set_u32(a + ".context_length", s.n_ctx);
    w.set_u32(a + ".embedding_length", s.n_embd);
    w.set_u32(a + ".feed_forward_length", s.n_ff);
    w.set_u32(a + ".block_count", s.n_layer);
    w.set_u32(a + ".attention.head_count", s.n_head);
    w.set_u32(a + ".attention.head_count_kv", s.n_head_kv);
    w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    for (const auto &kv : vocab_donor.metadata())
        if (std::string_view(kv.key).starts_with("tokenizer.")) w.set_value(kv.key, kv.value);
    const uint64_t n_vocab = vocab_donor.get_string_array("tokenizer.ggml.tokens").size();

    uint32_t state = 12345;
    auto values = [&](uint64_t n, float scale) {
        std::vector<float> v(n);
        for (auto &x : v) {
            state = state * 1664525u + 1013904223u;
            x = scale * (static_cast<float>(state >> 8) / 16777216.0f - 0.5f);
        }
        return v;
    };
    auto add = [&](const std::string &name, DType type, std::vector<uint64_t> ne, std::vector<float> f) {
        const auto &tr = quant::traits(type);
        std::vector<uint8_t> bytes(static_cast<size_t>(f.size() / tr.block_elems * tr.block_bytes));
        tr.from_float(f.data(), bytes.data(), static_cast<int64_t>(f.size()));
        w.add_tensor_owned(name, type, std::span<const uint64_t>(ne), std::move(bytes));
    };
    auto matrix = [&](const std::string &name, uint64_t cols, uint64_t rows) {
        add(name, s.matrix_type, {cols, rows}, values(cols * rows, 0.5f));
    };
    auto norm = [&](const std::string &name, uint64_t n) {
        std::vector<float> ones(n, 1.0f);
        add(name, DType::f32, {n}, ones);
    };
    const uint64_t hd = s.n_embd / s.n_head, kv = uint64_t{s.n_head_kv} * hd;
    matrix("token_embd.weight", s.n_embd, n_vocab);
    norm("output_norm.weight", s.n_embd);
    if (!s.tied_output) matrix("output.weight", s.n_embd, n_vocab);
    for (uint32_t l = 0; l < s.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        norm(b + "attn_norm.weight", s.n_embd);
        matrix(b + "attn_q.weight", s.n_embd, s.n_embd);
        matrix(b + "attn_k.weight", s.n_embd, kv);
        matrix(b + "attn_v.weight", s.n_embd, kv);
        if (a == "qwen2") {
            add(b + "attn_q.bias", DType::f32, {s.n_embd}, values(s.n_embd, 0.1f));
            add(b + "attn_k.bias", DType::f32, {kv}, values(kv, 0.1f));
            add(b + "attn_v.bias", DType::f32, {kv}, values(kv, 0.1f));
        }
        if (a == "qwen3") {
            norm(b + "attn_q_norm.weight", hd);
            norm(b + "attn_k_norm.weight", hd);
        }
        matrix(b + "attn_output.weight", s.n_embd, s.n_embd);
        norm(b + "ffn_norm.weight", s.n_embd);
        matrix(b + "ffn_gate.weight", s.n_embd, s.n_ff);
        matrix(b + "ffn_up.weight", s.n_embd, s.n_ff);
        matrix(b + "ffn_down.weight", s.n_ff, s.n_embd);
    }
    return w.to_bytes();
}

}  // namespace ember::test
