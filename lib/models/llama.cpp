// models/llama.cpp - the `llama` architecture: Llama 2/3.x, SmolLM2, TinyLlama, Mistral and
// llama2.c conversions. The plain pre-norm decoder (decoder.cpp) with RoPE rotating
// adjacent pairs (2i, 2i+1), grouped-query attention, SwiGLU, tied or separate output;
// Llama 3.1/3.2 frequency divisors come as rope_freqs.
#include "models/llama.hpp"

#include "models/decoder.hpp"

namespace ember::models {

std::unique_ptr<const Architecture> make_llama(const gguf::File &file) {
    return make_decoder(file, {.arch = "llama", .rope_style = ops::RopeStyle::norm});
}

}  // namespace ember::models
