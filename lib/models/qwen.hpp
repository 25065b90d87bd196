// models/qwen.hpp - the `qwen2` (Qwen 2 / 2.5) and `qwen3` architectures.
#pragma once

#include "models/model.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_qwen2(const gguf::File &file);
std::unique_ptr<const Architecture> make_qwen3(const gguf::File &file);

}  // namespace ember::models
