// models/gemma3.hpp - the `gemma3` architecture (Gemma 3 text models).
#pragma once

#include "models/model.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_gemma3(const gguf::File &file);

}  // namespace ember::models
