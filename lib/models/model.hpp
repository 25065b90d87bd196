// models/model.hpp - a loaded model: its GGUF file, hyper-parameters and forward pass.
//
// A Model is immutable once loaded and may be shared by any number of threads; all mutable
// state of a forward pass (KV cache, activations) belongs to the caller (runtime::Session).
// Each architecture is one file (llama.cpp, qwen2.cpp, ...) implementing Architecture; the
// registry maps `general.architecture` to it.
#pragma once

#include "gguf/reader.hpp"
#include "ops/kv_cache.hpp"
#include "models/workspace.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace ember::models {

// What every architecture has, read and validated by its file.
struct HParams {
    std::string architecture;
    int64_t n_vocab = 0;
    int64_t n_ctx_train = 0;
    int64_t n_embd = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim_k = 0;  // per-head query/key length
    int head_dim_v = 0;  // per-head value length
    int64_t n_ff = 0;
    float norm_eps = 0.0f;
    int64_t k_dim() const { return int64_t{n_head_kv} * head_dim_k; }  // one position's keys
    int64_t v_dim() const { return int64_t{n_head_kv} * head_dim_v; }
};

class Architecture {
public:
    virtual ~Architecture() = default;
    virtual const HParams &hparams() const = 0;
    // Buffers for batches of up to n_batch tokens over a cache of n_ctx positions.
    virtual WorkspaceShape workspace_shape(int64_t n_batch, int64_t n_ctx) const = 0;
    // Run tokens (ids already checked < n_vocab) at positions pos0.. through the model,
    // storing their keys/values in kv. Logits go to `logits`: [n_tokens, n_vocab] when
    // all_logits, else the last token's [n_vocab]; none when logits is null. Must run inside the caller's task_arena;
    // allocates nothing.
    virtual void forward(std::span<const int32_t> tokens, int64_t pos0, ops::KvCache &kv,
                         Workspace &ws, float *logits, bool all_logits) const = 0;
};

struct LoadOptions {
    gguf::LoadMode mode = gguf::LoadMode::mmap;
};

class Model {
public:
    // Open, validate and bind. Errors: io / invalid_file (the GGUF), unsupported (unknown
    // architecture or feature), invalid_model (hyper-parameters or tensors inconsistent).
    static std::shared_ptr<const Model> load(const std::string &path, const LoadOptions &options = {});
    // Bind an already opened file (tests build files in memory).
    static std::shared_ptr<const Model> from_file(gguf::File file);

    const HParams &hparams() const { return arch_->hparams(); }
    const Architecture &arch() const { return *arch_; }
    const gguf::File &file() const { return file_; }

    Model(gguf::File file, std::unique_ptr<const Architecture> arch);

private:
    gguf::File file_;  // owns the mapping the weights point into; declared first, dies last
    std::unique_ptr<const Architecture> arch_;
};

// ---- registry ----------------------------------------------------------------------------
using ArchFactory = std::unique_ptr<const Architecture> (*)(const gguf::File &);
struct ArchEntry {
    std::string_view name;  // general.architecture
    ArchFactory make;
};
std::span<const ArchEntry> architectures();

}  // namespace ember::models
