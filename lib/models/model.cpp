// models/model.cpp - load a GGUF and hand it to its architecture.
#include "models/model.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "models/gemma3.hpp"
#include "models/llama.hpp"
#include "models/phi3.hpp"
#include "models/qwen.hpp"

#include <fmt/ranges.h>

#include <array>
#include <vector>

namespace ember::models {

std::span<const ArchEntry> architectures() {
    static constexpr std::array<ArchEntry, 5> table{{
        {"llama", &make_llama},
        {"qwen2", &make_qwen2},
        {"qwen3", &make_qwen3},
        {"phi3", &make_phi3},
        {"gemma3", &make_gemma3},
    }};
    return table;
}

Model::Model(gguf::File file, std::unique_ptr<const Architecture> arch)
    : file_(std::move(file)), arch_(std::move(arch)) {}

std::shared_ptr<const Model> Model::from_file(gguf::File file) {
    const gguf::Value *v = file.find(gguf::key::architecture);
    if (!v) fail(Errc::invalid_model, "{}: missing metadata key {}", file.path(), gguf::key::architecture);
    const auto name = v->as<std::string>();
    if (!name) fail(Errc::invalid_model, "{}: {} is not a string", file.path(), gguf::key::architecture);
    for (const ArchEntry &e : architectures()) {
        if (e.name != *name) continue;
        // The architecture keeps pointers into file's mapping; moving the File into the
        // Model keeps them valid (the mapping itself does not move).
        try {
            auto arch = e.make(file);
            return std::make_shared<const Model>(std::move(file), std::move(arch));
        } catch (const Error &err) {
            throw Error(err.code(), fmt::format("{}: {}", file.path(), err.what()));
        }
    }
    std::vector<std::string_view> known;
    for (const ArchEntry &e : architectures()) known.push_back(e.name);
    fail(Errc::unsupported, "{}: architecture '{}' is not supported (supported: {})", file.path(),
         *name, fmt::join(known, ", "));
}

std::shared_ptr<const Model> Model::load(const std::string &path, const LoadOptions &options) {
    gguf::OpenOptions open;
    open.mode = options.mode;
    return from_file(gguf::File::open(path, open));
}

}  // namespace ember::models
