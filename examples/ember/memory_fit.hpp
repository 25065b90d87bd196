// memory_fit.hpp - will this model run here? Weights plus the KV cache at the default
// context, beside the memory this machine has available (used by `ember inspect`).
#pragma once

#include "gguf/reader.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace ember::cli {

struct MemoryFit {
    uint64_t weights = 0;      // tensor data, used in place (mapped) or read
    uint64_t kv_cache = 0;     // f16 K and V for every layer at n_ctx positions
    uint64_t total = 0;        // weights + kv_cache + buffers (estimated)
    uint32_t n_ctx = 0;        // the default context: the model's, at most 4096 (as sessions use)
    uint64_t available = 0;    // MemAvailable from /proc/meminfo; 0 when unknown
    std::string verdict;       // "fits", "tight", "too big", or "unknown"
};

// nullopt when the file is not a model (no architecture or tensors) or its attention shape
// cannot be read.
std::optional<MemoryFit> memory_fit(const gguf::File &file);

// "needs 180 MiB (weights 92 MiB + KV cache 80 MiB at 4096 tokens); 12.1 GiB available: fits"
std::string memory_fit_text(const MemoryFit &fit);
nlohmann::ordered_json memory_fit_json(const MemoryFit &fit);

}  // namespace ember::cli
