// models_llama_test.cpp - loading the llama architecture: hyper-parameters and tensors are
// validated, and every inconsistency is an Error naming what is wrong.
#include "gguf/names.hpp"
#include "gguf/writer.hpp"
#include "models/model.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

using namespace ember;

namespace {

struct TensorSpec {
    std::string name;
    DType type;
    std::vector<uint64_t> ne;
};

// A small, valid llama file (n_embd 8, 2 heads of 4, 1 KV head, ff 16, vocab 8, 1 layer),
// with `edit` applied to its metadata and tensor list before writing.
std::vector<uint8_t> tiny_llama(const std::function<void(gguf::Writer &, std::vector<TensorSpec> &)> &edit = {}) {
    gguf::Writer w;
    auto k = [](std::string_view s) { return gguf::arch_key("llama", s); };
    w.set_string(gguf::key::architecture, "llama");
    w.set_u32(k(gguf::arch::context_length), 16);
    w.set_u32(k(gguf::arch::embedding_length), 8);
    w.set_u32(k(gguf::arch::block_count), 1);
    w.set_u32(k(gguf::arch::feed_forward_length), 16);
    w.set_u32(k(gguf::arch::head_count), 2);
    w.set_u32(k(gguf::arch::head_count_kv), 1);
    w.set_f32(k(gguf::arch::layer_norm_rms_epsilon), 1e-5f);
    w.set_f32(k(gguf::arch::rope_freq_base), 10000.0f);
    namespace tn = gguf::tensor;
    auto b = [](std::string_view s) { return gguf::blk_tensor(0, s); };
    std::vector<TensorSpec> t = {
        {std::string(tn::token_embd), DType::f32, {8, 8}},
        {std::string(tn::output_norm), DType::f32, {8}},
        {b(tn::attn_norm), DType::f32, {8}},
        {b(tn::attn_q), DType::f32, {8, 8}},
        {b(tn::attn_k), DType::f32, {8, 4}},
        {b(tn::attn_v), DType::f32, {8, 4}},
        {b(tn::attn_output), DType::f32, {8, 8}},
        {b(tn::ffn_norm), DType::f32, {8}},
        {b(tn::ffn_gate), DType::f32, {8, 16}},
        {b(tn::ffn_up), DType::f32, {8, 16}},
        {b(tn::ffn_down), DType::f32, {16, 8}},
    };
    if (edit) edit(w, t);
    for (const TensorSpec &s : t) {
        uint64_t n = 1;
        for (uint64_t d : s.ne) n *= d;
        const uint64_t bytes = *row_bytes(s.type, s.ne[0]) * (n / s.ne[0]);
        std::vector<uint8_t> data(bytes);
        for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 % 61);
        if (s.type == DType::f32) {  // small finite floats
            auto *f = reinterpret_cast<float *>(data.data());
            for (size_t i = 0; i < n; ++i) f[i] = 0.01f * static_cast<float>(i % 13);
        }
        w.add_tensor_owned(s.name, s.type, std::span<const uint64_t>(s.ne), std::move(data));
    }
    return w.to_bytes();
}

// Loading the edited file fails with `code` and a message containing `needle`.
void check_refused(const std::function<void(gguf::Writer &, std::vector<TensorSpec> &)> &edit, Errc code,
                   const std::string &needle) {
    const auto bytes = tiny_llama(edit);
    try {
        models::Model::from_file(gguf::File::parse(bytes, "bad.gguf"));
        FAIL("expected an error mentioning " << needle);
    } catch (const Error &e) {
        INFO("message: " << e.what());
        CHECK(e.code() == code);
        CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
}

void set_tensor(std::vector<TensorSpec> &t, const std::string &name, DType type, std::vector<uint64_t> ne) {
    for (auto &s : t)
        if (s.name == name) {
            s.type = type;
            s.ne = std::move(ne);
        }
}

void drop_tensor(std::vector<TensorSpec> &t, const std::string &name) {
    std::erase_if(t, [&](const TensorSpec &s) { return s.name == name; });
}

}  // namespace

TEST_CASE("a valid tiny llama loads with the stated hyper-parameters") {
    const auto bytes = tiny_llama();
    const auto m = models::Model::from_file(gguf::File::parse(bytes, "ok.gguf"));
    const models::HParams &hp = m->hparams();
    CHECK(hp.architecture == "llama");
    CHECK(hp.n_vocab == 8);
    CHECK(hp.n_embd == 8);
    CHECK(hp.n_head == 2);
    CHECK(hp.n_head_kv == 1);
    CHECK(hp.head_dim_k == 4);
    CHECK(hp.n_ff == 16);
    CHECK(hp.n_ctx_train == 16);
    // Tied output (no output.weight) and a forward pass through the model's own buffers.
    ops::KvCache kv(hp.n_layer, 16, hp.n_head_kv, hp.head_dim_k, hp.head_dim_v, ops::KvType::f32);
    models::Workspace ws(m->arch().workspace_shape(4, 16));
    std::vector<float> logits(4 * 8);
    const int32_t toks[] = {1, 2, 3, 4};
    m->arch().forward(toks, 0, kv, ws, logits.data(), true);
    for (float x : logits) CHECK(std::isfinite(x));
}

TEST_CASE("inconsistent hyper-parameters are refused, naming the key") {
    auto key = [](std::string_view s) { return gguf::arch_key("llama", s); };
    check_refused([&](gguf::Writer &w, auto &) { w.remove(key(gguf::arch::block_count)); },
                  Errc::invalid_model, "llama.block_count");
    check_refused([&](gguf::Writer &w, auto &) { w.set_u32(key(gguf::arch::head_count), 3); },
                  Errc::invalid_model, "not divisible");
    check_refused([&](gguf::Writer &w, auto &) { w.set_u32(key(gguf::arch::head_count_kv), 4); },
                  Errc::invalid_model, "llama.attention.head_count_kv");
    check_refused([&](gguf::Writer &w, auto &) { w.set_u32(key(gguf::arch::head_count), 0); },
                  Errc::invalid_model, "out of range");
    check_refused([&](gguf::Writer &w, auto &) { w.set_string(key(gguf::arch::embedding_length), "eight"); },
                  Errc::invalid_model, "expected an integer");
    check_refused([&](gguf::Writer &w, auto &) { w.set_f32(key(gguf::arch::layer_norm_rms_epsilon), -1.0f); },
                  Errc::invalid_model, "layer_norm_rms_epsilon");
    check_refused([&](gguf::Writer &w, auto &) { w.set_u32(key(gguf::arch::rope_dimension_count), 3); },
                  Errc::invalid_model, "rope.dimension_count");
    check_refused([&](gguf::Writer &w, auto &) { w.set_string(key(gguf::arch::rope_scaling_type), "yarn"); },
                  Errc::unsupported, "yarn");
    check_refused([&](gguf::Writer &w, auto &) { w.set_u32(key(gguf::arch::vocab_size), 9); },
                  Errc::invalid_model, "llama.vocab_size");
    check_refused([&](gguf::Writer &w, auto &) { w.set_string(gguf::key::architecture, "mamba"); },
                  Errc::unsupported, "mamba");
}

TEST_CASE("tensors with the wrong shape or type, or missing, are refused with expected vs found") {
    check_refused([](auto &, auto &t) { set_tensor(t, "blk.0.attn_k.weight", DType::f32, {8, 8}); },
                  Errc::invalid_model, "blk.0.attn_k.weight: expected shape 8x4, found 8x8");
    check_refused([](auto &, auto &t) { set_tensor(t, "blk.0.ffn_down.weight", DType::f32, {8, 16}); },
                  Errc::invalid_model, "blk.0.ffn_down.weight: expected shape 16x8");
    check_refused([](auto &, auto &t) { set_tensor(t, "blk.0.attn_norm.weight", DType::f16, {8}); },
                  Errc::invalid_model, "type f16 is not one of f32");
    check_refused([](auto &, auto &t) { set_tensor(t, "blk.0.attn_q.weight", DType::i32, {8, 8}); },
                  Errc::invalid_model, "blk.0.attn_q.weight: type i32");
    check_refused([](auto &, auto &t) { drop_tensor(t, "blk.0.ffn_up.weight"); }, Errc::invalid_model,
                  "missing tensor blk.0.ffn_up.weight");
    check_refused([](auto &, auto &t) { set_tensor(t, "token_embd.weight", DType::f32, {4, 8}); },
                  Errc::invalid_model, "token_embd.weight");
    check_refused([](auto &, auto &t) { set_tensor(t, "output.weight", DType::f32, {8, 8}); t.push_back({"output.weight", DType::f32, {8, 7}}); },
                  Errc::invalid_model, "output.weight");
    check_refused([](auto &, auto &t) { t.push_back({"rope_freqs.weight", DType::f32, {3}}); },
                  Errc::invalid_model, "rope_freqs.weight: expected shape 2");
}
