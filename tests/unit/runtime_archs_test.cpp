// runtime_archs_test.cpp - every architecture of tiny-archs against llama.cpp's log-probs
// and greedy tokens, and the determinism promises for each.
#include "runtime/session.hpp"
#include "runtime_reference.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <thread>

using namespace ember;

namespace {

struct Arch {
    const char *name;
    double tol;  // README: F32 1e-4; gemma3 2e-3 (llama.cpp's GELU goes through an fp16 table)
};
constexpr Arch kArchs[] = {{"tiny-qwen2", 1e-4}, {"tiny-qwen3", 1e-4}, {"tiny-phi3", 1e-4}, {"tiny-gemma3", 2e-3}};

std::shared_ptr<const models::Model> load(const Arch &a) {
    return models::Model::load(test::data_path(std::string("tiny-archs/") + a.name + ".gguf"));
}

std::vector<float> all_logits(std::shared_ptr<const models::Model> m, std::span<const int32_t> seq,
                              int threads, int64_t n_batch, size_t piece) {
    runtime::SessionOptions o;
    o.n_threads = threads;
    o.n_batch = n_batch;
    o.kv_type = ops::KvType::f16;
    runtime::Session s(std::move(m), o);
    const size_t nv = static_cast<size_t>(s.n_vocab());
    std::vector<float> out(seq.size() * nv);
    for (size_t at = 0; at < seq.size(); at += piece) {
        const size_t len = std::min(piece, seq.size() - at);
        s.decode(seq.subspan(at, len), std::span<float>(out).subspan(at * nv, len * nv));
    }
    return out;
}

}  // namespace

TEST_CASE("tiny architectures match llama.cpp (F32 KV): log-probs and greedy") {
    for (const Arch &a : kArchs) {
        CAPTURE(a.name);
        const auto ref = test::load_reference(std::string("tiny-archs/") + a.name + ".f32kv.json");
        runtime::SessionOptions o;
        o.kv_type = ops::KvType::f32;
        o.n_threads = 1;
        runtime::Session s(load(a), o);
        const auto d = test::teacher_forced_diff(s, ref);
        test::print_diff(a.name, d);
        CHECK(d.max() <= a.tol);
        CHECK(test::greedy(s, 1, ref.greedy.size()) == ref.greedy);
    }
}

TEST_CASE("tiny architectures: bit-identical across threads, batch splits and concurrent sessions") {
    for (const Arch &a : kArchs) {
        CAPTURE(a.name);
        auto m = load(a);
        const auto ref = test::load_reference(std::string("tiny-archs/") + a.name + ".f32kv.json");
        const std::span<const int32_t> seq = ref.sequence;
        const auto base = all_logits(m, seq, 1, 256, seq.size());
        CHECK(all_logits(m, seq, 2, 256, seq.size()) == base);
        CHECK(all_logits(m, seq, 3, 5, seq.size()) == base);
        CHECK(all_logits(m, seq, 2, 256, 1) == base);
        CHECK(all_logits(m, seq, 1, 256, 17) == base);
        std::vector<std::vector<float>> results(4);
        std::vector<std::thread> threads;
        for (int i = 0; i < 4; ++i)
            threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = all_logits(m, seq, 1 + i % 2, 3 + i, 64); });
        for (auto &t : threads) t.join();
        for (const auto &r : results) CHECK(r == base);
    }
}
