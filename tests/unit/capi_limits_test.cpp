// capi_limits_test.cpp - the C ABI gives the same defined results as the C++ API
// (runtime_limits_test.cpp) for edge inputs: invalid UTF-8 and empty prompts generate,
// a prompt longer than the context is EMBER_ERR_CONTEXT_FULL, max_tokens 0 generates
// nothing, absurd sampler values are EMBER_ERR_INVALID_ARGUMENT, and the session keeps
// working after each.
#include <ember/ember.h>

#include "test_data.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

namespace {

struct Fixture {
    ember_model *model = nullptr;
    ember_session *session = nullptr;
    Fixture() {
        REQUIRE(ember_model_load(ember::test::data_path("models/stories260K.gguf").c_str(), nullptr, &model) == EMBER_OK);
        ember_session_options so;
        ember_session_options_init(&so);
        so.n_ctx = 32;
        so.n_threads = 1;
        REQUIRE(ember_session_create(model, &so, &session) == EMBER_OK);
    }
    ~Fixture() {
        ember_session_free(session);
        ember_model_free(model);
    }
    // Status of a generation; n_tokens receives the tokens generated.
    ember_status run(const char *prompt, const ember_generate_options &go, size_t *n_tokens = nullptr,
                     int32_t *finish = nullptr) {
        ember_result r;
        ember_result_init(&r);
        const ember_status st = ember_generate(session, prompt, &go, nullptr, nullptr, &r);
        if (n_tokens) *n_tokens = r.n_tokens;
        if (finish) *finish = r.finish_reason;
        ember_result_clear(&r);
        return st;
    }
};

ember_generate_options greedy(int32_t max_tokens) {
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.max_tokens = max_tokens;
    go.temperature = 0;
    return go;
}

}  // namespace

TEST_CASE("C ABI: edge prompts and max_tokens") {
    Fixture f;
    size_t n = 99;
    int32_t finish = -1;
    CHECK(f.run("\xff\xfe \xc3", greedy(3), &n) == EMBER_OK);
    CHECK(n == 3);
    CHECK(f.run("", greedy(2), &n) == EMBER_OK);
    CHECK(n == 2);
    std::string long_text;
    for (int i = 0; i < 40; ++i) long_text += " Once upon a time";
    CHECK(f.run(long_text.c_str(), greedy(1)) == EMBER_ERR_CONTEXT_FULL);
    CHECK(std::string(ember_last_error()).find("context") != std::string::npos);
    CHECK(f.run("Once", greedy(0), &n, &finish) == EMBER_OK);
    CHECK(n == 0);
    CHECK(finish == EMBER_FINISH_LENGTH);
    CHECK(f.run("Once", greedy(std::numeric_limits<int32_t>::max()), &n, &finish) == EMBER_OK);
    CHECK(n <= 32);
    CHECK(f.run("Once", greedy(-2)) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(f.run("Once", greedy(3), &n) == EMBER_OK);
    CHECK(n == 3);
}

TEST_CASE("C ABI: absurd sampler values are EMBER_ERR_INVALID_ARGUMENT") {
    Fixture f;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    auto bad = [&](void (*set)(ember_generate_options &, float)) {
        ember_generate_options go = greedy(2);
        set(go, nan);
        return f.run("Once", go);
    };
    CHECK(bad([](ember_generate_options &o, float n) { o.temperature = n; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) { o.temperature = -1; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) { o.top_k = -3; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) { o.top_p = 2; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float n) { o.min_p = n; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) { o.repeat_penalty = 0; }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) { o.penalty_last_n = -9; }) == EMBER_ERR_INVALID_ARGUMENT);
    static const ember_logit_bias out_of_vocab{512, 1.0f};
    CHECK(bad([](ember_generate_options &o, float) {
              o.logit_bias = &out_of_vocab;
              o.n_logit_bias = 1;
          }) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(bad([](ember_generate_options &o, float) {
              o.logit_bias = nullptr;
              o.n_logit_bias = 4;
          }) == EMBER_ERR_INVALID_ARGUMENT);
    size_t n = 0;
    CHECK(f.run("Once", greedy(2), &n) == EMBER_OK);
    CHECK(n == 2);
}
