// models/phi3.hpp - the `phi3` architecture (Phi-3 / Phi-3.5 mini).
#pragma once

#include "models/model.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_phi3(const gguf::File &file);

}  // namespace ember::models
