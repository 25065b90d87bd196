// runtime_session_test.cpp - Session contracts: determinism across threads and batch
// splits, concurrent sessions on one Model, truncate/reset, context limits.
#include "runtime/session.hpp"
#include <ember/error.hpp>
#include "runtime_reference.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace ember;

namespace {

std::shared_ptr<const models::Model> load(const std::string &relative) {
    return models::Model::load(test::data_path(relative));
}

// All logits of `tokens` fed in pieces of `pieces` sizes (one decode call each).
std::vector<float> run(std::shared_ptr<const models::Model> m, std::span<const int32_t> tokens,
                       int threads, int64_t n_batch, ops::KvType kv, std::vector<size_t> pieces = {},
                       bool flash = false) {
    runtime::SessionOptions o;
    o.flash_attn = flash;
    o.n_threads = threads;
    o.n_batch = n_batch;
    o.kv_type = kv;
    runtime::Session s(std::move(m), o);
    const size_t nv = static_cast<size_t>(s.n_vocab());
    std::vector<float> all(tokens.size() * nv);
    if (pieces.empty()) pieces = {tokens.size()};
    size_t at = 0;
    for (size_t p : pieces) {
        s.decode(tokens.subspan(at, p), std::span<float>(all).subspan(at * nv, p * nv));
        at += p;
    }
    REQUIRE(at == tokens.size());
    return all;
}

const char *const kModels[] = {"models/stories260K.gguf", "models/stories260K-Q4_0.gguf",
                               "tiny-archs/tiny-llama-Q4_K_M.gguf", "tiny-archs/tiny-llama-F16.gguf"};

}  // namespace

TEST_CASE("logits are bit-identical for 1, 2, 3 threads and any batch split") {
    for (const char *path : kModels) {
        CAPTURE(path);
        auto m = load(path);
        const auto ref = test::load_reference(std::string(path).find("tiny") != std::string::npos
                                                  ? "tiny-archs/tiny-llama.f32kv.json"
                                                  : "reference/stories260K.f32kv.json");
        const std::span<const int32_t> seq = ref.sequence;
        for (ops::KvType kv : {ops::KvType::f16, ops::KvType::f32}) {
            const auto base = run(m, seq, 1, 512, kv);
            CHECK(run(m, seq, 2, 512, kv) == base);
            CHECK(run(m, seq, 3, 512, kv) == base);
            CHECK(run(m, seq, 2, 7, kv) == base);                       // n_batch chunks
            CHECK(run(m, seq, 1, 512, kv, {1, 16, 3, seq.size() - 20}) == base);  // decode calls
            std::vector<size_t> ones(seq.size(), 1);
            CHECK(run(m, seq, 3, 512, kv, ones) == base);  // token by token
        }
        // llama.cpp's flash-attention numerics keep the same promise.
        const auto flash = run(m, seq, 1, 512, ops::KvType::f16, {}, true);
        CHECK(run(m, seq, 2, 3, ops::KvType::f16, {}, true) == flash);
        CHECK(run(m, seq, 3, 512, ops::KvType::f16, std::vector<size_t>(seq.size(), 1), true) == flash);
    }
}

TEST_CASE("four sessions on one Model in four threads equal the serial result") {
    auto m = load("models/stories260K-Q8_0.gguf");
    const auto ref = test::load_reference("reference/stories260K.f32kv.json");
    const std::span<const int32_t> seq = ref.sequence;
    const auto serial = run(m, seq, 1, 512, ops::KvType::f16);
    std::vector<std::vector<float>> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            // Different batchings and thread counts per session, same promise.
            results[static_cast<size_t>(i)] = run(m, seq, 1 + i % 2, 5 + i, ops::KvType::f16);
        });
    for (auto &t : threads) t.join();
    for (const auto &r : results) CHECK(r == serial);
}

TEST_CASE("truncate reuses a prefix; reset starts over; a full context is an error") {
    auto m = load("models/stories260K.gguf");
    runtime::SessionOptions o;
    o.n_ctx = 32;
    o.n_threads = 1;
    runtime::Session s(m, o);
    CHECK(s.n_ctx() == 32);
    CHECK(s.logits().empty());
    const std::vector<int32_t> a = {1, 403, 407, 261, 378, 432};
    const std::vector<int32_t> b = {1, 403, 407, 300, 301};
    s.decode(b);
    const std::vector<float> fresh(s.logits().begin(), s.logits().end());
    CHECK(s.n_past() == 5);
    s.reset();
    s.decode(a);
    s.truncate(3);  // keep {1, 403, 407}, then continue as b
    CHECK(s.n_past() == 3);
    CHECK(s.logits().empty());
    const auto reused = s.decode(std::span<const int32_t>(b).subspan(3));
    CHECK(std::vector<float>(reused.begin(), reused.end()) == fresh);

    s.reset();
    std::vector<int32_t> many(32, 300);
    s.decode(many);
    CHECK(s.n_past() == 32);
    const int32_t one = 5;
    try {
        s.decode(std::span<const int32_t>(&one, 1));
        FAIL("expected context_full");
    } catch (const ember::Error &e) {
        CHECK(e.code() == Errc::context_full);
    }
    CHECK(s.n_past() == 32);  // unchanged
    CHECK_THROWS_AS(s.truncate(33), ember::Error);
    s.truncate(31);
    CHECK_NOTHROW(s.decode(std::span<const int32_t>(&one, 1)));

    // Bad inputs are errors, not crashes.
    s.reset();
    const int32_t bad[] = {1, 512};
    try {
        s.decode(bad);
        FAIL("expected invalid_argument");
    } catch (const ember::Error &e) {
        CHECK(e.code() == Errc::invalid_argument);
    }
    CHECK(s.n_past() == 0);
    CHECK_THROWS_AS(s.decode(std::span<const int32_t>()), ember::Error);
    std::vector<float> small(10);
    CHECK_THROWS_AS(s.decode(a, small), ember::Error);
    runtime::SessionOptions too_long;
    too_long.n_ctx = m->hparams().n_ctx_train + 1;
    CHECK_THROWS_AS(runtime::Session(m, too_long), ember::Error);
}
