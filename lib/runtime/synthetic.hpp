// runtime/synthetic.hpp - GGUF files with random weights in the exact shapes of real models.
//
// Decode and prompt speed depend on shapes and tensor types, not on weight values, so a file
// of random weights in Llama-3.2-1B's shape benchmarks like the real model, without a
// download. The files are written with ember's own GGUF writer and quantizer and carry the
// metadata llama.cpp needs to load them too (a byte-level BPE vocabulary of the real size,
// Llama-3 rope factors, tied embeddings), so `ember bench` and `llama-bench` can be compared
// on the very same bytes (ANCHORS.md).
#pragma once

#include "quant/mix.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ember::runtime {

// A real model's shape. Every field is what the published model's GGUF carries.
struct SyntheticShape {
    std::string_view name;          // what users type: "llama-3.2-1b"
    std::string_view architecture;  // general.architecture
    int n_layer;
    int64_t n_embd;
    int n_head;
    int n_head_kv;
    int64_t n_ff;
    int64_t n_vocab;
    int64_t n_ctx_train;
    float rope_base;
    float norm_eps;
    bool llama3_rope;                // rope_freqs.weight with Llama 3.1+ frequency factors
    std::string_view tokenizer_pre;  // tokenizer.ggml.pre
    int32_t bos;
    int32_t eos;
    bool add_bos;
};

// The shapes ember can make: llama-3.2-1b, smollm2-135m.
std::span<const SyntheticShape> synthetic_shapes();
// The named shape; Errc::invalid_argument listing the known names otherwise.
const SyntheticShape &synthetic_shape(std::string_view name);

struct SyntheticOptions {
    // q4_0 (every matrix Q4_0, like llama-quantize --pure: ANCHORS.md's "Q4_0-pure"),
    // q8_0, q4_k_m (llama-quantize's mix: Q6_K for the tied embedding and some attn_v /
    // ffn_down), or any other file type quant::parse_file_type knows.
    quant::FileType ftype = quant::FileType::q4_0;
    bool pure = true;    // every matrix in the file type's main type
    int n_layer = 0;     // 0: the shape's; fewer makes small files for tests
    uint64_t seed = 1;   // same seed, same bytes
    // Called now and then with bytes written so far and the total.
    std::function<void(uint64_t done, uint64_t total)> progress;
};

// Parses "q4_0" / "q8_0" / "q4_k_m" (any case) into options' ftype and pure (q4_0 and q8_0
// are pure, K-quant mixes are not); Errc::invalid_argument naming the type otherwise.
void parse_synthetic_type(std::string_view type, SyntheticOptions &options);

// "llama-3.2-1b-q4_0.gguf" (with "-L<n>" when n_layer is overridden).
std::string synthetic_file_name(const SyntheticShape &shape, std::string_view type,
                                const SyntheticOptions &options);

// Writes the model to `path` (through a temporary file renamed into place, so an
// interrupted run never leaves a half file). Throws Errc::io.
void write_synthetic_model(const SyntheticShape &shape, const SyntheticOptions &options,
                           const std::string &path);

// `dir`/synthetic_file_name(...), written first when absent; returns the path.
std::string ensure_synthetic_model(const std::filesystem::path &dir, const SyntheticShape &shape,
                                   std::string_view type, const SyntheticOptions &options);

// Where synthetic models are cached: $EMBER_CACHE_DIR, else $XDG_CACHE_HOME/ember, else
// ~/.cache/ember, then "/synthetic".
std::filesystem::path default_synthetic_dir();

}  // namespace ember::runtime
