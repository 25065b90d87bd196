// runtime_llama_test.cpp - the llama architecture through a Session against llama.cpp's
// outputs: stories260K (real, trained) and the tiny-archs llama files in every weight type.
#include "runtime/session.hpp"
#include <ember/error.hpp>
#include "runtime_reference.hpp"

#include <doctest/doctest.h>

using namespace ember;
using ember::test::load_reference;

namespace {

std::shared_ptr<const models::Model> load(const std::string &relative) {
    return models::Model::load(test::data_path(relative));
}

runtime::Session make_session(std::shared_ptr<const models::Model> m, ops::KvType kv,
                              int threads = 1, int64_t n_batch = 512) {
    runtime::SessionOptions o;
    o.kv_type = kv;
    o.flash_attn = true;  // the f16kv references were made with llama.cpp's default, flash attention
    o.n_threads = threads;
    o.n_batch = n_batch;
    return runtime::Session(std::move(m), o);
}

}  // namespace

TEST_CASE("stories260K F32: greedy from BOS equals llama.cpp for 128 tokens") {
    const auto ref = load_reference("reference/stories260K.f32kv.json");
    auto model = load("models/stories260K.gguf");
    CHECK(model->hparams().n_layer == 5);
    CHECK(model->hparams().n_head_kv == 4);
    auto s = make_session(model, ops::KvType::f32);
    CHECK(test::greedy(s, 1, ref.greedy.size()) == ref.greedy);
    // The default fp16 cache agrees here too (its reference greedy is the same text).
    const auto ref16 = load_reference("reference/stories260K.f16kv.json");
    auto s16 = make_session(model, ops::KvType::f16);
    CHECK(test::greedy(s16, 1, ref16.greedy.size()) == ref16.greedy);
}

TEST_CASE("stories260K F32: teacher-forced log-probs within 1e-4 of llama.cpp") {
    auto model = load("models/stories260K.gguf");
    {
        auto s = make_session(model, ops::KvType::f32);
        const auto d = test::teacher_forced_diff(s, load_reference("reference/stories260K.f32kv.json"));
        test::print_diff("stories260K f32kv", d);
        CHECK(d.max() <= 1e-4);
    }
    {
        // llama.cpp made this reference with its CPU default, flash attention, which keeps
        // the V sum in fp16: rounding flips (from float summation order upstream) make
        // ~2e-3 differences after the first few positions, as F16 weights do.
        auto s = make_session(model, ops::KvType::f16);
        const auto d = test::teacher_forced_diff(s, load_reference("reference/stories260K.f16kv.json"));
        test::print_diff("stories260K f16kv", d);
        CHECK(d.max() <= 1e-2);
        CHECK(d.median() <= 4e-3);
        CHECK(d.per_position[1] <= 1e-4);  // before any accumulation can flip
    }
    {
        // llama.cpp's two-matmul attention (-fa off) differs from that reference by up to
        // 2e-2 (its own f16/f32 KV gap is 2e-2); ember's matching mode lands in the same band.
        runtime::SessionOptions o;
        o.kv_type = ops::KvType::f16;
        o.flash_attn = false;
        o.n_threads = 1;
        runtime::Session s(model, o);
        const auto d = test::teacher_forced_diff(s, load_reference("reference/stories260K.f16kv.json"));
        test::print_diff("stories260K f16kv (fa off)", d);
        CHECK(d.max() <= 3e-2);
    }
}

TEST_CASE("stories260K quantized: log-probs and greedy close to llama.cpp") {
    // Activation quantization flips (README of tiny-archs) cascade through this trained
    // model. With an f16 cache llama.cpp uses flash attention, whose fp16 V sum makes them
    // larger still: on stories260K-Q8_0 llama.cpp's own flash-on vs flash-off log-probs
    // differ by 0.37 (measured with tools/logprobs_with_libllama.c).
    struct Case {
        const char *name;
        ops::KvType kv;
        const char *suffix;
        double max;
    };
    for (const Case c : {Case{"stories260K-Q8_0", ops::KvType::f32, ".f32kv", 0.15},
                         Case{"stories260K-Q4_0", ops::KvType::f32, ".f32kv", 0.15},
                         Case{"stories260K-Q4_0-pure", ops::KvType::f32, ".f32kv", 0.15},
                         Case{"stories260K-Q4_1", ops::KvType::f32, ".f32kv", 0.15},
                         Case{"stories260K-Q8_0", ops::KvType::f16, ".f16kv", 0.35},
                         Case{"stories260K-Q4_0", ops::KvType::f16, ".f16kv", 0.35},
                         Case{"stories260K-Q4_0-pure", ops::KvType::f16, ".f16kv", 0.35},
                         Case{"stories260K-Q4_1", ops::KvType::f16, ".f16kv", 0.35}}) {
        const std::string name = std::string(c.name) + c.suffix;
        CAPTURE(name);
        auto model = load(std::string("models/") + c.name + ".gguf");
        const auto ref = load_reference(std::string("reference/") + name + ".json");
        auto s = make_session(model, c.kv);
        const auto d = test::teacher_forced_diff(s, ref);
        test::print_diff(name, d);
        CHECK(d.max() <= c.max);
        if (c.kv == ops::KvType::f32) {
            // llama.cpp is stable on these files (repack on/off, batch or not: <1e-5); with
            // its x86 summation order for Q4_1 (quant::vec_dot_q4_1_q8_1_x86) ember agrees at
            // all but a rare flipped position (Q4_1: position 0, 0.019).
            CHECK(d.count_above(2e-2) <= 4);
        }
        std::vector<double> gaps;
        const auto g = test::greedy(s, 1, ref.greedy.size(), &gaps);
        test::check_greedy_prefix(g, ref.greedy, gaps, 2 * c.max);
    }
}

TEST_CASE("tiny-llama F32 and Llama-3.1 rope_freqs: within 1e-4, greedy equal") {
    for (const char *name : {"tiny-llama", "tiny-llama3-rope"}) {
        CAPTURE(name);
        const auto ref = load_reference(std::string("tiny-archs/") + name + ".f32kv.json");
        auto s = make_session(load(std::string("tiny-archs/") + name + ".gguf"), ops::KvType::f32);
        const auto d = test::teacher_forced_diff(s, ref);
        test::print_diff(name, d);
        CHECK(d.max() <= 1e-4);
        CHECK(test::greedy(s, 1, ref.greedy.size()) == ref.greedy);
    }
}

TEST_CASE("tiny-llama in every weight type: log-probs close to llama.cpp") {
    struct Case {
        const char *type;
        double max;  // README: F16 5e-3, BF16 3e-2, Q-types ~0.15 at a few positions
    };
    for (const Case c : {Case{"F16", 5e-3}, Case{"BF16", 3e-2}, Case{"Q8_0", 1e-4}, Case{"Q4_0", 1e-4},
                         Case{"Q4_1", 0.15}, Case{"Q5_0", 0.15}, Case{"Q5_1", 0.15}, Case{"Q4_K", 0.15},
                         Case{"Q5_K", 1e-4}, Case{"Q6_K", 0.15}, Case{"Q4_K_M", 0.15}}) {
        const std::string name = std::string("tiny-llama-") + c.type;
        CAPTURE(name);
        const auto ref = load_reference("tiny-archs/" + name + ".f32kv.json");
        auto s = make_session(load("tiny-archs/" + name + ".gguf"), ops::KvType::f32);
        const auto d = test::teacher_forced_diff(s, ref);
        test::print_diff(name, d);
        // Max bound per type (README: flips of activation rounding reach ~0.1 and, once in
        // K/V, persist: an independent float64 model sees the same, e.g. Q4_1 from
        // position 7, Q5_1 from 11); the mean stays small.
        CHECK(d.max() <= c.max);
        CHECK(d.mean_abs <= 0.02);
        test::check_greedy_prefix(test::greedy(s, 1, ref.greedy.size()), ref.greedy, ref.top2_gap,
                                  2 * c.max);
    }
}
