// models/llama.hpp - the `llama` architecture (Llama 2/3.x, SmolLM2, TinyLlama, Mistral,
// llama2.c conversions).
#pragma once

#include "models/model.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_llama(const gguf::File &file);

}  // namespace ember::models
