// runtime_limits_test.cpp - the defined result of every edge input to generation, through the
// C++ API on stories260K (tests/SECURITY.md lists them): invalid UTF-8 in prompts, empty
// prompts, prompts longer than the context, max_tokens 0 or huge, absurd sampler values, a
// session too large for the machine. Each either works as documented or throws a named
// Errc before generation begins, and the session stays usable afterwards.
#include <ember/ember.hpp>

#include "test_data.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace ember;

namespace {

const Model &stories() {
    static const Model m = Model::load(test::data_path("models/stories260K.gguf"));
    return m;
}

GenerateOptions greedy(int32_t max_tokens) {
    GenerateOptions g;
    g.max_tokens = max_tokens;
    g.sampling.temperature = 0;
    return g;
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
        i += n;
    }
    return true;
}

// The session still generates what a fresh one does.
void check_usable(Session &s) {
    const auto a = s.generate("Once upon", greedy(3));
    const auto b = Session(stories(), {.n_ctx = s.options().n_ctx, .n_threads = 1}).generate("Once upon", greedy(3));
    CHECK(a.tokens == b.tokens);
}

Errc code_of(Session &s, std::string_view prompt, const GenerateOptions &g) {
    try {
        (void)s.generate(prompt, g);
    } catch (const Error &e) {
        MESSAGE(std::string(e.what()));
        return e.code();
    }
    return Errc::ok;
}

}  // namespace

TEST_CASE("invalid UTF-8 in a prompt is tokenized byte by byte; the output text is valid UTF-8") {
    Session s(stories(), {.n_ctx = 128, .n_threads = 1});
    for (std::string bad : {std::string("\xff\xfe"), std::string("Once \xc3"), std::string("\xed\xa0\x80 surrogate"),
                            std::string("\xc0\xaf overlong"), std::string("a\0b", 3)}) {
        CAPTURE(bad);
        const auto toks = stories().tokenize(bad);
        CHECK(toks.size() >= 2);  // BOS and at least one byte token
        auto r = s.generate(bad, greedy(8));
        CHECK(r.finish_reason == FinishReason::length);
        CHECK(r.tokens.size() == 8);
        CHECK(valid_utf8(r.text));
    }
    check_usable(s);
}

TEST_CASE("an empty prompt starts from BOS alone") {
    Session s(stories(), {.n_ctx = 64, .n_threads = 1});
    auto r = s.generate("", greedy(4));
    CHECK(r.tokens.size() == 4);
    CHECK(r.timings.prompt_tokens == 1);
    auto t = s.generate(std::span<const Token>{}, greedy(2));
    CHECK(t.tokens.size() == 2);
}

TEST_CASE("a prompt longer than the context throws context_full and changes nothing") {
    Session s(stories(), {.n_ctx = 32, .n_threads = 1});
    std::string long_text;
    for (int i = 0; i < 50; ++i) long_text += " Once upon a time";
    CHECK(code_of(s, long_text, greedy(1)) == Errc::context_full);
    // Exactly n_ctx tokens fits the prompt but leaves no room to generate: ends with length.
    std::vector<Token> exact(32, 300);
    exact[0] = 1;
    auto r = s.generate(exact, greedy(5));
    CHECK(r.finish_reason == FinishReason::length);
    CHECK(r.tokens.size() <= 1);
    check_usable(s);
}

TEST_CASE("max_tokens 0 generates nothing; huge max_tokens stops at the full context") {
    Session s(stories(), {.n_ctx = 40, .n_threads = 1});
    auto r = s.generate("Once", greedy(0));
    CHECK(r.tokens.empty());
    CHECK(r.finish_reason == FinishReason::length);
    GenerateOptions g = greedy(std::numeric_limits<int32_t>::max());
    g.sampling.logit_bias = {{2, -std::numeric_limits<float>::infinity()}};  // no EOS: run to the end
    r = s.generate("Once", g);
    CHECK(r.finish_reason == FinishReason::length);
    CHECK(s.cached_tokens().size() <= 40);
    CHECK(r.tokens.size() >= 30);
    CHECK(code_of(s, "Once", greedy(-2)) == Errc::invalid_argument);
    CHECK(code_of(s, "Once", greedy(std::numeric_limits<int32_t>::min())) == Errc::invalid_argument);
    check_usable(s);
}

TEST_CASE("absurd sampler values are invalid_argument before anything runs") {
    Session s(stories(), {.n_ctx = 64, .n_threads = 1});
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    struct Case {
        const char *name;
        void (*set)(SamplerOptions &, float, float);
    };
    const Case bad[] = {
        {"temperature NaN", [](SamplerOptions &o, float n, float) { o.temperature = n; }},
        {"temperature -1", [](SamplerOptions &o, float, float) { o.temperature = -1; }},
        {"temperature inf", [](SamplerOptions &o, float, float i) { o.temperature = i; }},
        {"top_k -5", [](SamplerOptions &o, float, float) { o.top_k = -5; }},
        {"top_p 2", [](SamplerOptions &o, float, float) { o.top_p = 2; }},
        {"top_p NaN", [](SamplerOptions &o, float n, float) { o.top_p = n; }},
        {"min_p -1", [](SamplerOptions &o, float, float) { o.min_p = -1; }},
        {"typical_p 7", [](SamplerOptions &o, float, float) { o.typical_p = 7; }},
        {"repeat_penalty 0", [](SamplerOptions &o, float, float) { o.repeat_penalty = 0; }},
        {"repeat_penalty NaN", [](SamplerOptions &o, float n, float) { o.repeat_penalty = n; }},
        {"frequency_penalty inf", [](SamplerOptions &o, float, float i) { o.frequency_penalty = i; }},
        {"presence_penalty NaN", [](SamplerOptions &o, float n, float) { o.presence_penalty = n; }},
        {"penalty_last_n -7", [](SamplerOptions &o, float, float) { o.penalty_last_n = -7; }},
        {"logit_bias token 512", [](SamplerOptions &o, float, float) { o.logit_bias = {{512, 1.0f}}; }},
        {"logit_bias token -1", [](SamplerOptions &o, float, float) { o.logit_bias = {{-1, 1.0f}}; }},
        {"logit_bias NaN", [](SamplerOptions &o, float n, float) { o.logit_bias = {{5, n}}; }},
    };
    for (const Case &c : bad) {
        const std::string name = c.name;
        CAPTURE(name);
        GenerateOptions g;
        g.max_tokens = 2;
        c.set(g.sampling, nan, inf);
        CHECK(code_of(s, "Once", g) == Errc::invalid_argument);
    }
    // Large but meaningful values are accepted: top_k above the vocabulary keeps everything,
    // a huge temperature is nearly uniform, banning every token but one forces it.
    GenerateOptions g;
    g.max_tokens = 3;
    g.sampling.top_k = 1'000'000;
    g.sampling.temperature = 1e30f;
    g.sampling.penalty_last_n = 1'000'000;
    CHECK(s.generate("Once", g).tokens.size() == 3);
    GenerateOptions only;
    only.max_tokens = 3;
    for (Token t = 0; t < 512; ++t)
        if (t != 300) only.sampling.logit_bias.emplace_back(t, -inf);
    const auto forced = s.generate("Once", only);
    CHECK(forced.tokens == std::vector<Token>{300, 300, 300});
    check_usable(s);
}

TEST_CASE("a context above the training context is invalid_argument, named") {
    // n_ctx is capped by the model's training context (2048 here); a model trained for 2^40
    // positions is in runtime_hostile_model_test. Here: the largest batch and context the
    // options allow are still refused or fit, never attempted past RAM.
    CHECK_THROWS_AS(Session(stories(), {.n_ctx = 4096, .n_threads = 1}), Error);
    try {
        Session s(stories(), {.n_ctx = 4096});
    } catch (const Error &e) {
        CHECK(e.code() == Errc::invalid_argument);
        CHECK(std::string(e.what()).find("n_ctx") != std::string::npos);
    }
}
