// runtime_cancel_test.cpp - Session::cancel() from another thread, during prompt processing
// and during decoding: the call returns promptly with FinishReason::cancelled and the session
// stays usable (its next generation equals a fresh session's). Also: a load cancelled from
// the progress callback throws Errc::cancelled and frees everything (the ASan stage's leak
// check is what proves the "frees").
//
// The model is a synthetic SmolLM2-135M shape cut to 2 layers (random weights, real vocab
// size), so a forward pass costs enough for the latency figure to mean something.
#include <ember/ember.hpp>

#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "runtime/synthetic.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

using namespace ember;
using Clock = std::chrono::steady_clock;

namespace {

// A synthetic SmolLM2-shaped file, copied with one known BPE merge, "a b" -> "ab" (the last
// filler token): the public loader's tokenizer needs merges, and synthetic files cached
// before the writer added one have none, so the copy keeps the test independent of the cache.
std::string model_path(int n_layer = 2) {
    static std::map<int, std::string> written;  // main thread only
    if (auto it = written.find(n_layer); it != written.end()) return it->second;
    {
        runtime::SyntheticOptions o;
        o.n_layer = n_layer;
        const auto dir = std::filesystem::temp_directory_path() / "ember-cancel-test";
        std::filesystem::create_directories(dir);
        const auto synthetic = runtime::ensure_synthetic_model(dir, runtime::synthetic_shape("smollm2-135m"), "q4_0", o);
        const gguf::File src = gguf::File::open(synthetic);
        gguf::Writer w(static_cast<uint32_t>(src.alignment()));
        for (const auto &kv : src.metadata()) w.set_value(kv.key, kv.value);
        const auto toks = src.get_string_array("tokenizer.ggml.tokens");
        std::vector<std::string_view> tokens(toks.begin(), toks.end());
        tokens.back() = "ab";
        w.set_string_array("tokenizer.ggml.tokens", std::span<const std::string_view>(tokens));
        const std::vector<std::string> merges{"a b"};
        w.set_string_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
        for (const auto &t : src.tensors())
            w.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims), std::span<const uint8_t>(t.data, t.n_bytes));
        // A fixed folder: the synthetic file (~20 MB) is written once and reused by later
        // runs; the copy is written through a renamed temporary, so concurrent runs are safe.
        const std::string out = (dir / ("smollm2-135m-L" + std::to_string(n_layer) + "-merges.gguf")).string();
        w.write(out);
        return written[n_layer] = out;
    }
}

// EMBER_CANCEL_MODEL=path measures the latency on a real model instead (not a dependency
// of the suite); EMBER_CANCEL_BATCH sets the prompt's n_batch (default 64).
const Model &model() {
    static const Model m = [] {
        const char *real = std::getenv("EMBER_CANCEL_MODEL");
        return Model::load(real && *real ? std::string(real) : model_path(2));
    }();
    return m;
}

// 8 layers: a forward pass has enough layer boundaries for a mid-pass cancel to land on.
const Model &deep_model() {
    static const Model m = Model::load(model_path(8));
    return m;
}

uint32_t prompt_batch() {
    const char *b = std::getenv("EMBER_CANCEL_BATCH");
    return b && *b ? static_cast<uint32_t>(std::strtoul(b, nullptr, 10)) : 64;
}

std::vector<Token> long_prompt(size_t n) {
    std::vector<Token> p(n);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<Token>(100 + (i * 7919) % 20000);
    return p;
}

GenerateOptions greedy(int32_t max_tokens) {
    GenerateOptions g;
    g.max_tokens = max_tokens;
    g.sampling.temperature = 0;
    return g;
}

// Three times: start the prompt, cancel() from another thread after `delay_ms`, check the
// result ends cancelled (and what `check` asks); returns the worst latency from the cancel()
// call to generate() returning, in ms.
template <class Check>
double worst_prompt_cancel(Session &s, const std::vector<Token> &prompt, double delay_ms, Check check) {
    double worst = 0;
    for (int run = 0; run < 3; ++run) {
        s.reset();
        std::atomic<int64_t> cancelled_at{0};
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay_ms));
            cancelled_at = Clock::now().time_since_epoch().count();
            s.cancel();
        });
        const Result r = s.generate(prompt, greedy(4));
        const auto end = Clock::now().time_since_epoch().count();
        canceller.join();
        CHECK(r.finish_reason == FinishReason::cancelled);
        check(r);
        worst = std::max(worst, static_cast<double>(end - cancelled_at.load()) / 1e6);
    }
    return worst;
}

}  // namespace

TEST_CASE("cancel during prompt processing returns within one batch and leaves the session usable") {
    SessionOptions so;
    so.n_ctx = 512;
    so.n_batch = prompt_batch();
    so.n_threads = 2;
    Session s(model(), so);
    const auto prompt = long_prompt(448);

    // How long the whole prompt takes uncancelled, to aim the cancel at its middle.
    auto full = s.generate(prompt, greedy(1));
    const double prompt_ms = full.timings.prompt_ms;
    CHECK(full.finish_reason == FinishReason::length);
    s.reset();

    const double worst = worst_prompt_cancel(s, prompt, prompt_ms / 4, [&](const Result &r) {
        CHECK(r.tokens.empty());
        CHECK(r.timings.prompt_tokens < static_cast<int32_t>(prompt.size()));
    });
    MESSAGE("prompt of " << prompt.size() << " tokens takes " << prompt_ms << " ms (n_batch " << so.n_batch << "); worst cancel latency "
                         << worst << " ms");
    CHECK(worst < 5000.0);

    // Usable: the next generation (reusing what the cancelled one cached) equals the first.
    auto again = s.generate(prompt, greedy(1));
    CHECK(again.finish_reason == FinishReason::length);
    CHECK(again.tokens == full.tokens);
}

TEST_CASE("cancel stops a prompt fed in one batch between layers, before the batch ends") {
    // The whole prompt in one forward pass: a cancel at a quarter of its time must return
    // well before the pass would have finished (the checks are between layers), with no
    // token of it counted as cached, and the session then gives the uncancelled answer.
    SessionOptions so;
    so.n_ctx = 512;
    so.n_batch = 512;
    so.n_threads = 2;
    Session s(deep_model(), so);
    const auto prompt = long_prompt(448);
    auto full = s.generate(prompt, greedy(1));
    const double prompt_ms = full.timings.prompt_ms;
    const double worst = worst_prompt_cancel(s, prompt, prompt_ms / 4, [](const Result &r) {
        CHECK(r.error.empty());
        CHECK(r.timings.prompt_tokens == 0);
    });
    MESSAGE("one-batch prompt of " << prompt.size() << " tokens takes " << prompt_ms
                                   << " ms; worst cancel latency " << worst << " ms");
    CHECK(worst < prompt_ms / 2);  // the pass had 3/4 of its time left
    auto again = s.generate(prompt, greedy(1));
    CHECK(again.tokens == full.tokens);
}

TEST_CASE("cancel during decoding stops at the next token and leaves the session usable") {
    SessionOptions so;
    so.n_ctx = 256;
    so.n_threads = 2;
    Session s(model(), so);
    const auto prompt = long_prompt(8);
    const auto reference = Session(model(), so).generate(prompt, greedy(6));
    REQUIRE(reference.tokens.size() == 6);

    double worst = 0;
    for (int run = 0; run < 3; ++run) {
        std::atomic<int> pieces{0};
        std::atomic<int64_t> cancelled_at{0};
        std::thread canceller([&] {
            while (pieces.load() < 3) std::this_thread::yield();
            cancelled_at = Clock::now().time_since_epoch().count();
            s.cancel();
        });
        GenerateOptions g = greedy(-1);  // until the context is full: only cancel stops it
        auto r = s.generate(prompt, g, [&](std::string_view) {
            ++pieces;
            return true;
        });
        const auto end = Clock::now().time_since_epoch().count();
        canceller.join();
        CHECK(r.finish_reason == FinishReason::cancelled);
        CHECK(r.tokens.size() < 200);
        worst = std::max(worst, static_cast<double>(end - cancelled_at.load()) / 1e6);
    }
    MESSAGE("worst cancel latency while decoding: " << worst << " ms");
    CHECK(worst < 2000.0);

    auto again = s.generate(prompt, greedy(6));
    CHECK(again.tokens == reference.tokens);
    CHECK(again.finish_reason == FinishReason::length);
}

TEST_CASE("a cancel before start has no effect on the generation started afterwards") {
    Session s(model(), {.n_ctx = 64, .n_threads = 1});
    s.cancel();
    auto r = s.generate(long_prompt(4), greedy(2));
    CHECK(r.finish_reason == FinishReason::length);
    CHECK(r.tokens.size() == 2);
}

TEST_CASE("sessions on several threads each cancelled by another thread") {
    std::vector<std::thread> workers;
    std::atomic<int> cancelled{0};
    for (int i = 0; i < 3; ++i) {
        workers.emplace_back([&, i] {
            Session s(model(), {.n_ctx = 128, .n_threads = 1});
            std::atomic<bool> started{false};
            std::thread canceller([&] {
                while (!started.load()) std::this_thread::yield();
                s.cancel();
            });
            auto r = s.generate(long_prompt(4 + static_cast<size_t>(i)), greedy(-1), [&](std::string_view) {
                started = true;
                return true;
            });
            canceller.join();
            if (r.finish_reason == FinishReason::cancelled) ++cancelled;
        });
    }
    for (auto &w : workers) w.join();
    CHECK(cancelled.load() == 3);
}

TEST_CASE("a load cancelled from the progress callback throws cancelled and frees everything") {
    const std::string path = model_path();
    for (float at : {0.0f, 0.5f}) {
        CAPTURE(at);
        for (LoadMode mode : {LoadMode::mmap, LoadMode::read}) {
            int calls = 0;
            LoadOptions lo;
            lo.mode = mode;
            lo.progress = [&](float f) {
                ++calls;
                return at > 0.0f && f < at;  // at 0: refuse the very first call
            };
            try {
                (void)Model::load(path, lo);
                FAIL("the load was not cancelled");
            } catch (const Error &e) {
                CHECK(e.code() == Errc::cancelled);
            }
            CHECK(calls >= 1);
        }
    }
    // The file loads normally afterwards (nothing was left locked or half-open).
    LoadOptions lo;
    lo.progress = [](float) { return true; };
    CHECK(Model::load(path, lo).info().n_layer == 2);
}
