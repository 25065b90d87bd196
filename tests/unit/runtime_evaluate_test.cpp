// Session::evaluate (ember.hpp): logits through the public API equal llama.cpp's
// teacher-forced log-probs, are the same bits however the tokens are split across calls,
// and refuse bad input without changing the session.
#include <ember/ember.hpp>

#include "stories_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

using namespace ember;
using test::code_of;
using test::stories;

namespace {

SessionOptions f32_session(uint32_t batch = 512) {
    SessionOptions o;
    o.kv_type = KvType::f32;  // the reference was made with an F32 cache
    o.n_ctx = 128;
    o.n_batch = batch;
    o.n_threads = 2;
    return o;
}

std::vector<Token> fixed_sequence() { return test::stories_reference()["fixed_sequence"].get<std::vector<Token>>(); }

bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("evaluate with all_logits gives llama.cpp's teacher-forced log-probs") {
    const auto tokens = fixed_sequence();
    const auto &ref = test::stories_reference()["logprobs"];
    REQUIRE(ref.size() == tokens.size());
    Session s(stories(), f32_session());
    EvaluateOptions all;
    all.all_logits = true;
    const std::vector<float> logits = s.evaluate(tokens, all);
    const size_t n_vocab = stories().info().n_vocab;
    REQUIRE(logits.size() == tokens.size() * n_vocab);
    CHECK(s.cached_tokens().size() == tokens.size());

    double worst = 0.0;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const float *row = logits.data() + i * n_vocab;
        const double max = *std::max_element(row, row + n_vocab);
        double sum = 0.0;
        for (size_t v = 0; v < n_vocab; ++v) sum += std::exp(row[v] - max);
        const double lse = max + std::log(sum);
        REQUIRE(ref[i].size() == n_vocab);
        for (size_t v = 0; v < n_vocab; ++v) worst = std::max(worst, std::abs(row[v] - lse - ref[i][v].get<double>()));
    }
    INFO("largest |log-prob - llama.cpp| = " << worst);
    CHECK(worst < 1e-4);
}

TEST_CASE("evaluate gives the same bits however the tokens are split") {
    const auto tokens = fixed_sequence();
    const size_t n_vocab = stories().info().n_vocab;
    EvaluateOptions all;
    all.all_logits = true;
    Session whole(stories(), f32_session());
    const std::vector<float> expect = whole.evaluate(tokens, all);

    for (uint32_t batch : {1u, 7u, 512u}) {
        Session s(stories(), f32_session(batch));
        std::vector<float> got;
        // Pieces of 1, 2, 3 ... tokens, each call appending to the context.
        size_t at = 0;
        for (size_t len = 1; at < tokens.size(); ++len) {
            const size_t n = std::min(len, tokens.size() - at);
            const auto part = std::span<const Token>(tokens).subspan(at, n);
            const std::vector<float> rows = s.evaluate(part, all);
            const std::vector<float> last = [&] {
                Session t(stories(), f32_session(batch));
                return t.evaluate(std::span<const Token>(tokens).subspan(0, at + n));
            }();
            CHECK(same_bits(std::span<const float>(rows).subspan((n - 1) * n_vocab), last));
            got.insert(got.end(), rows.begin(), rows.end());
            at += n;
        }
        INFO("n_batch " << batch);
        CHECK(same_bits(got, expect));
    }
}

TEST_CASE("evaluate into a caller's buffer, truncate, and generate after it") {
    const auto tokens = fixed_sequence();
    const size_t n_vocab = stories().info().n_vocab;
    Session s(stories(), f32_session());
    std::vector<float> last(n_vocab);
    s.evaluate(tokens, last);

    // Rewind half way and evaluate the second half again: the same logits.
    const size_t half = tokens.size() / 2;
    s.truncate(half);
    CHECK(s.cached_tokens().size() == half);
    std::vector<float> again(n_vocab);
    s.evaluate(std::span<const Token>(tokens).subspan(half), again);
    CHECK(same_bits(last, again));

    // The evaluated tokens are a cached prefix that generate reuses.
    GenerateOptions g;
    g.sampling.temperature = 0.0f;
    g.max_tokens = 4;
    const Result r = s.generate(tokens, g);
    CHECK(r.timings.reused_tokens == static_cast<int32_t>(tokens.size() - 1));
    CHECK(r.tokens.size() == 4);
}

TEST_CASE("evaluate refuses bad input and leaves the session as it was") {
    const auto tokens = fixed_sequence();
    const size_t n_vocab = stories().info().n_vocab;
    Session s(stories(), f32_session());
    s.evaluate(std::span<const Token>(tokens).subspan(0, 5));
    REQUIRE(s.cached_tokens().size() == 5);

    CHECK(code_of([&] { s.evaluate(std::span<const Token>{}); }) == Errc::invalid_argument);
    const std::vector<Token> bad{tokens[5], static_cast<Token>(n_vocab)};
    CHECK(code_of([&] { s.evaluate(bad); }) == Errc::invalid_argument);
    const std::vector<Token> negative{-1};
    CHECK(code_of([&] { s.evaluate(negative); }) == Errc::invalid_argument);
    std::vector<float> small(n_vocab - 1);
    CHECK(code_of([&] { s.evaluate(std::span<const Token>(tokens).subspan(5, 1), small); }) == Errc::invalid_argument);
    std::vector<float> one_row(n_vocab);
    EvaluateOptions all;
    all.all_logits = true;
    CHECK(code_of([&] { s.evaluate(std::span<const Token>(tokens).subspan(5, 2), one_row, all); }) ==
          Errc::invalid_argument);
    const std::vector<Token> too_long(124, tokens[1]);  // 5 + 124 > n_ctx 128
    CHECK(code_of([&] { s.evaluate(too_long); }) == Errc::context_full);
    CHECK(code_of([&] { s.truncate(6); }) == Errc::invalid_argument);
    CHECK(s.cached_tokens().size() == 5);

    // Still usable, and still the same bits as one uninterrupted evaluation.
    const std::vector<float> rest = s.evaluate(std::span<const Token>(tokens).subspan(5));
    Session fresh(stories(), f32_session());
    CHECK(same_bits(rest, fresh.evaluate(tokens)));
}
