// runtime/synthetic.hpp - GGUF files with random weights in the exact shapes of real models.
//
// Decode and prompt speed depend on shapes and tensor types, not on weight values, so a file
// of random weights in Llama-3.2-1B's shape benchmarks like the real model, without a
// download. The files are written with ember's own GGUF writer and quantizer and carry the
// metadata llama.cpp needs to load them too (a byte-level BPE vocabulary of the real size,
// Llama-3 rope factors, tied embeddings, Qwen 3's and Gemma 3's per-head QK norms, Gemma 3's
// post-norms and sliding window), so `ember bench` and `llama-bench` can be compared on the
// very same bytes (ANCHORS.md).
#pragma once

#include "quant/mix.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ember::runtime {

// A real model's shape. Every field is what the published model's GGUF carries; the ones
// with defaults are the variations on the Llama decoder that the other architectures add.
struct SyntheticShape {
    std::string_view name;          // what users type: "llama-3.2-1b"
    std::string_view architecture;  // general.architecture: llama, qwen3 or gemma3
    int n_layer;
    int64_t n_embd;
    int n_head;
    int n_head_kv;
    int head_dim = 0;                // attention.key_length = value_length; 0: n_embd / n_head
                                     // and no such keys (the Llama files)
    int64_t n_ff;
    int64_t n_vocab;
    int64_t n_ctx_train;
    float rope_base;
    float norm_eps;
    bool llama3_rope = false;        // rope_freqs.weight with Llama 3.1+ frequency factors
    bool qk_norm = false;            // per-head attn_q_norm / attn_k_norm [head_dim] (Qwen 3, Gemma 3)
    bool post_norms = false;         // post_attention_norm / post_ffw_norm [n_embd] (Gemma 3)
    int sliding_window = 0;          // attention.sliding_window; 0: no key, every layer global
    std::string_view tokenizer_pre;  // tokenizer.ggml.pre
    int32_t bos;
    std::string_view bos_text;       // the BOS token's text: "<|begin_of_text|>"
    int32_t eos;
    std::string_view eos_text;
    bool add_bos;
};

// The shapes ember can make: llama-3.2-1b, smollm2-135m (llama), qwen3-0.6b (qwen3),
// gemma-3-270m (gemma3).
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
