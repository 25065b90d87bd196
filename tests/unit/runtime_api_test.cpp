// The public C++ API (ember.hpp) on stories260K: llama.cpp's greedy tokens, prompt reuse,
// streaming and pull-style generation, stop strings, cancel from another thread, seeds,
// chat history, and errors that leave the session usable.
#include <ember/ember.hpp>

#include "stories_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

using namespace ember;
using test::code_of;
using test::stories;

namespace {

SessionOptions f32_session(uint32_t threads = 1) {
    SessionOptions o;
    o.kv_type = KvType::f32;  // the reference was made with an F32 cache
    o.n_ctx = 256;
    o.n_threads = threads;
    return o;
}

GenerateOptions greedy(int32_t max_tokens) {
    GenerateOptions g;
    g.sampling.temperature = 0.0f;
    g.max_tokens = max_tokens;
    return g;
}

}  // namespace

TEST_CASE("model info describes stories260K") {
    const ModelInfo &info = stories().info();
    CHECK(info.architecture == "llama");
    CHECK(info.n_vocab == 512);
    CHECK(info.n_layer == 5);
    CHECK(info.context_length == 2048);
    CHECK_FALSE(info.has_chat_template);
    CHECK(info.special.bos == 1);
    CHECK(info.special.eos == 2);
    REQUIRE(info.tensor_types.size() == 1);
    CHECK(info.tensor_types[0].type == "f32");
    CHECK(info.tensor_types[0].bytes == info.n_bytes);
    CHECK(info.n_bytes == info.n_params * 4);
    Model copy = stories();  // copies share the weights
    CHECK(&copy.info() == &stories().info());
}

TEST_CASE("tokenize and detokenize agree with llama.cpp") {
    for (const auto &[text, ids] : test::stories_reference()["tokenize"].items()) {
        CAPTURE(text);
        CHECK(stories().tokenize(text, false) == ids.get<std::vector<Token>>());
    }
    auto with_bos = stories().tokenize("Once upon a time");
    CHECK(with_bos == std::vector<Token>{1, 403, 407, 261, 378});
    // As llama_detokenize: SentencePiece's space is dropped from the first token only, and
    // here that is BOS (which renders as nothing).
    CHECK(stories().detokenize(with_bos) == " Once upon a time");
    CHECK(stories().detokenize(std::span<const Token>(with_bos).subspan(1)) == "Once upon a time");
    CHECK(stories().detokenize(with_bos, true) == "<s> Once upon a time");
    CHECK(code_of([] { stories().detokenize(std::vector<Token>{512}); }) == Errc::invalid_argument);
    CHECK(stories().is_end_of_generation(2));
    CHECK_FALSE(stories().is_end_of_generation(600));
}

TEST_CASE("greedy generation from a token prompt reproduces llama.cpp's tokens, any batch size") {
    const auto prompt = test::stories_reference()["prompt_tokens"].get<std::vector<Token>>();
    const auto expected = test::stories_reference()["greedy_from_prompt"].get<std::vector<Token>>();
    for (uint32_t batch : {1u, 3u, 512u}) {
        CAPTURE(batch);
        SessionOptions o = f32_session();
        o.n_batch = batch;
        Session s(stories(), o);
        Result r = s.generate(std::span<const Token>(prompt), greedy(static_cast<int32_t>(expected.size())));
        CHECK(r.tokens == expected);
        CHECK(r.finish_reason == FinishReason::length);
        CHECK(r.timings.prompt_tokens == static_cast<int32_t>(prompt.size()));
        // The text continues the prompt, so it keeps the leading space llama.cpp strips.
        std::string expected_text = " ";  // (not " " + string: g++ 12 warns falsely, -Wrestrict)
        expected_text += test::stories_reference()["greedy_from_prompt_text"].get<std::string>();
        CHECK(r.text == expected_text);
    }
}

TEST_CASE("a repeated prompt reuses the cache and gives the same text") {
    Session s(stories(), f32_session());
    Result a = s.generate("Once upon a time", greedy(20));
    CHECK(a.timings.reused_tokens == 0);
    CHECK(s.cached_tokens().size() == 5 + 20);
    Result b = s.generate("Once upon a time", greedy(20));
    CHECK(b.timings.reused_tokens == 4);  // all but the last prompt token, whose logits are needed
    CHECK(b.timings.prompt_tokens == 1);
    CHECK(b.text == a.text);
    s.reset();
    CHECK(s.cached_tokens().empty());
}

TEST_CASE("streaming, pull-style and the result agree") {
    Session s(stories(), f32_session());
    std::string streamed;
    Result r = s.generate("", greedy(40), [&](std::string_view t) {
        streamed += t;
        return true;
    });
    CHECK(streamed == r.text);
    CHECK(r.text.rfind("Once upon a time", 0) == 0);  // from BOS: no leading space

    s.start("", greedy(40));
    std::string pulled;
    int steps = 0;
    while (auto piece = s.next()) {
        pulled += *piece;
        ++steps;
    }
    CHECK(pulled == r.text);
    CHECK(steps == 41);
    CHECK(s.result().tokens == r.tokens);
    CHECK_FALSE(s.next().has_value());
}

TEST_CASE("stop strings end the text before them, even across tokens") {
    Session s(stories(), f32_session());
    GenerateOptions g = greedy(64);
    g.stop = {", there", "never appears"};
    std::string streamed;
    Result r = s.generate("", g, [&](std::string_view t) {
        streamed += t;
        return true;
    });
    CHECK(r.finish_reason == FinishReason::stop);
    CHECK(r.text == "Once upon a time");
    CHECK(streamed == r.text);  // the held-back ", there" was never shown
}

TEST_CASE("on_token returning false stops with exactly the text shown") {
    Session s(stories(), f32_session());
    std::string shown;
    int calls = 0;
    Result r = s.generate("", greedy(64), [&](std::string_view t) {
        shown += t;
        return ++calls < 3;
    });
    CHECK(r.finish_reason == FinishReason::stop);
    CHECK(calls == 3);
    CHECK(r.text == shown);
}

TEST_CASE("cancel() from another thread ends the generation as cancelled") {
    Session s(stories(), f32_session());
    std::atomic<bool> first_piece{false}, cancelled{false};
    std::thread canceller([&] {
        while (!first_piece.load()) std::this_thread::yield();
        s.cancel();
        cancelled.store(true);
    });
    Result r = s.generate("", GenerateOptions{}, [&](std::string_view) {
        first_piece.store(true);
        while (!cancelled.load()) std::this_thread::yield();  // hold the generation until cancel lands
        return true;
    });
    canceller.join();
    CHECK(r.finish_reason == FinishReason::cancelled);
    CHECK(r.tokens.size() <= 2);
    // A later generation is not affected.
    CHECK(s.generate("", greedy(5)).finish_reason == FinishReason::length);
}

TEST_CASE("seeds: the same seed repeats, sessions with the same seed agree, thread count does not matter") {
    GenerateOptions g;
    g.sampling.temperature = 1.0f;
    g.max_tokens = 48;
    Session one(stories(), f32_session(1)), two(stories(), f32_session(2));
    Result a1 = one.generate("Once", g), a2 = one.generate("Once", g);
    Result b1 = two.generate("Once", g), b2 = two.generate("Once", g);
    CHECK(a1.tokens == b1.tokens);  // same session seed (0), first generation
    CHECK(a2.tokens == b2.tokens);
    CHECK(a1.tokens != a2.tokens);  // the session's generator moves on between generations
    g.seed = 5;
    CHECK(one.generate("Once", g).tokens == two.generate("Once", g).tokens);
}

TEST_CASE("errors before generation throw and leave the session as it was") {
    SessionOptions o = f32_session();
    o.n_ctx = 8;
    Session s(stories(), o);
    s.generate("Once", greedy(2));
    const std::vector<Token> before(s.cached_tokens().begin(), s.cached_tokens().end());
    CHECK(code_of([&] { s.generate("Once upon a time there was a big dog named Max", greedy(2)); }) ==
          Errc::context_full);
    GenerateOptions bad = greedy(2);
    bad.sampling.top_p = std::nanf("");
    CHECK(code_of([&] { s.generate("Once", bad); }) == Errc::invalid_argument);
    bad = greedy(2);
    bad.stop = {""};
    CHECK(code_of([&] { s.generate("Once", bad); }) == Errc::invalid_argument);
    CHECK(std::vector<Token>(s.cached_tokens().begin(), s.cached_tokens().end()) == before);
    CHECK(code_of([&] { s.generate(std::vector<Token>{9999}, greedy(2)); }) == Errc::invalid_argument);
    // Generation that runs into the end of the context finishes with `length`.
    Result r = s.generate("Once", GenerateOptions{});
    CHECK(r.finish_reason == FinishReason::length);
    CHECK(r.timings.reused_tokens + r.timings.prompt_tokens + r.timings.generated_tokens == 8 + 1);
}

TEST_CASE("chat keeps the history, reuses the cache, and takes back a failed turn") {
    Session s(stories(), f32_session());
    Chat chat(s, "You are a storyteller.");
    Result first = chat.send("Tell me about a cat.", greedy(6));
    REQUIRE(chat.messages().size() == 3);
    CHECK(chat.messages()[1].content == "Tell me about a cat.");
    CHECK(chat.messages()[2].role == "assistant");
    CHECK(chat.messages()[2].content == first.text);
    Result second = chat.send("And a dog?", greedy(6));
    CHECK(chat.messages().size() == 5);
    CHECK(second.timings.reused_tokens >= first.timings.prompt_tokens);
    CHECK(second.timings.prompt_tokens < first.timings.prompt_tokens);

    const std::string huge(4000, 'a');
    CHECK(code_of([&] { chat.send(huge, greedy(6)); }) == Errc::context_full);
    CHECK(chat.messages().size() == 5);  // the failed turn was taken back
    chat.reset();
    CHECK(chat.messages().size() == 1);
    CHECK(s.cached_tokens().empty());
}

TEST_CASE("loading: progress reaches 1 and can cancel; sessions outlive their Model object") {
    std::vector<float> seen;
    LoadOptions lo;
    lo.mode = LoadMode::read;
    lo.progress = [&](float f) {
        seen.push_back(f);
        return true;
    };
    std::optional<Model> m(Model::load(test::data_path("models/stories260K.gguf"), lo));
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.front() == 0.0f);
    CHECK(seen.back() == 1.0f);
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    Session s(*m, f32_session());
    m.reset();  // the session keeps the weights alive
    CHECK(s.generate("", greedy(8)).tokens.size() == 8);

    lo.progress = [](float) { return false; };
    CHECK(code_of([&] { Model::load(test::data_path("models/stories260K.gguf"), lo); }) == Errc::cancelled);
    CHECK(code_of([] { Model::load("/nonexistent/model.gguf"); }) == Errc::io);
    CHECK(code_of([] { Model::load(""); }) == Errc::invalid_argument);
}
