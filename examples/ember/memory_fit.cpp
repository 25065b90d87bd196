// Memory needed to run a model, against what this machine has free.
//
// Verdict: "fits" when the total is at most 3/4 of the available memory (room is left for
// the OS and other programs), "tight" up to all of it (expect swapping or eviction of
// mapped weights), "too big" beyond. Compare the rule of thumb of about 1 GB per billion
// parameters at 8 bits: this counts the file's real bytes and the cache.
#include "memory_fit.hpp"

#include "gguf/names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ember::cli {

namespace {

uint64_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        std::istringstream fields(line.substr(13));
        uint64_t kib = 0;
        fields >> kib;
        return kib * 1024;
    }
    return 0;
}

std::string human(uint64_t n) {
    const double mib = static_cast<double>(n) / (1 << 20);
    return mib >= 1024 ? fmt::format("{:.1f} GiB", mib / 1024) : fmt::format("{:.0f} MiB", mib);
}

}  // namespace

std::optional<MemoryFit> memory_fit(const gguf::File &file) {
    const auto arch = file.get_optional<std::string>(gguf::key::architecture);
    if (!arch || file.tensors().empty()) return std::nullopt;
    try {
        auto key = [&](std::string_view suffix) { return *arch + "." + std::string(suffix); };
        const auto n_layer = file.get_optional<uint64_t>(key(gguf::arch::block_count));
        const auto n_embd = file.get_optional<uint64_t>(key(gguf::arch::embedding_length));
        const auto n_head = file.get_optional<uint64_t>(key(gguf::arch::head_count));
        const auto n_ctx_train = file.get_optional<uint64_t>(key(gguf::arch::context_length));
        if (!n_layer || !n_embd || !n_head || !n_ctx_train || *n_head == 0) return std::nullopt;
        const uint64_t n_head_kv = file.get_optional<uint64_t>(key(gguf::arch::head_count_kv)).value_or(*n_head);
        const uint64_t head_k = file.get_optional<uint64_t>(key(gguf::arch::key_length)).value_or(*n_embd / *n_head);
        const uint64_t head_v = file.get_optional<uint64_t>(key(gguf::arch::value_length)).value_or(*n_embd / *n_head);
        MemoryFit fit;
        fit.n_ctx = static_cast<uint32_t>(std::min<uint64_t>(*n_ctx_train, 4096));
        for (const auto &t : file.tensors()) fit.weights += t.n_bytes;
        fit.kv_cache = 2 * *n_layer * fit.n_ctx * n_head_kv * (head_k + head_v);
        // Activations, logits and thread scratch: small beside the rest; 5% plus 64 MiB
        // covers them for every model in the test set.
        fit.total = fit.weights + fit.kv_cache + (fit.weights + fit.kv_cache) / 20 + (uint64_t{64} << 20);
        fit.available = available_memory();
        if (fit.available == 0) fit.verdict = "unknown";
        else if (fit.total <= fit.available / 4 * 3) fit.verdict = "fits";
        else if (fit.total <= fit.available) fit.verdict = "tight";
        else fit.verdict = "too big";
        return fit;
    } catch (const std::exception &) {
        return std::nullopt;  // per-layer arrays or odd types: no estimate rather than a wrong one
    }
}

std::string memory_fit_text(const MemoryFit &fit) {
    std::string s = fmt::format("needs about {} (weights {} + KV cache {} at {} tokens)", human(fit.total),
                                human(fit.weights), human(fit.kv_cache), fit.n_ctx);
    if (fit.available == 0) return s + "; available memory unknown";
    return s + fmt::format("; {} available: {}", human(fit.available), fit.verdict);
}

nlohmann::ordered_json memory_fit_json(const MemoryFit &fit) {
    return {{"weights_bytes", fit.weights}, {"kv_cache_bytes", fit.kv_cache}, {"n_ctx", fit.n_ctx},
            {"total_bytes", fit.total},     {"available_bytes", fit.available}, {"verdict", fit.verdict}};
}

}  // namespace ember::cli
