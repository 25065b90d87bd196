// fuzz_models.cpp - the full model loader on small files: bytes -> gguf::File::parse ->
// models::Model (architecture, hyper-parameters, every tensor's shape and type) -> the
// tokenizer from the same metadata -> a Session of 8 positions and a one-token forward pass
// whenever it loads. Any ember::Error is a correct answer; a crash, sanitizer report, leak,
// hang or allocation past -rss_limit_mb is a bug. Seeds: tests/fuzz/corpus/models/ (tiny
// llama/qwen2/qwen3 models written by runtime_hostile_model_test; see tests/SECURITY.md).
#include "gguf/reader.hpp"
#include "models/model.hpp"
#include "runtime/session.hpp"
#include "tokenizer/tokenizer.hpp"

#include <ember/error.hpp>

#include <algorithm>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // Whole models are large; small ones reach every check the loader makes.
    if (size > (size_t{1} << 20)) return 0;
    std::shared_ptr<const ember::models::Model> model;
    try {
        model = ember::models::Model::from_file(
            ember::gguf::File::parse(std::span<const uint8_t>(data, size), "fuzz.gguf"));
    } catch (const ember::Error &) {
        return 0;
    }
    try {
        (void)ember::tokenizer::Tokenizer::from_gguf(model->file());
    } catch (const ember::Error &) {
        // A model whose vocabulary metadata is bad still runs on token ids.
    }
    try {
        ember::runtime::SessionOptions o;
        o.n_ctx = std::min<int64_t>(8, model->hparams().n_ctx_train);
        o.n_threads = 1;
        ember::runtime::Session session(model, o);
        const int32_t token = 0;
        const auto logits = session.decode(std::span<const int32_t>(&token, 1));
        volatile float sink = logits.empty() ? 0.0f : logits[0];
        (void)sink;
    } catch (const ember::Error &) {
    }
    return 0;
}
