// make_fallback_model.cpp - writes tiny-fallback.gguf: a 2-layer llama whose row lengths do
// not divide into 256-element K-quant blocks (n_embd 96) nor, for ffn_down, into 32-element
// blocks (n_ff 200), so quantizing it exercises every fallback of llama-quantize's rules.
// Weights are F16 from a fixed splitmix64 generator; norms F32; the tokenizer metadata is
// copied from tiny-archs/tiny-llama.gguf. Build and run: see README.md.
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "quant/fp16.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace ember;

namespace {
uint64_t state = 0xFA11BAC4u;
uint64_t next_u64() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// Uniform in [-scale, scale), exactly representable steps so no libm is involved.
float uniform(float scale) { return scale * (static_cast<float>(next_u64() >> 40) / 8388608.0f - 1.0f); }

std::vector<uint8_t> f16_matrix(uint64_t cols, uint64_t rows, float scale) {
    std::vector<uint8_t> out(cols * rows * 2);
    for (uint64_t i = 0; i < cols * rows; ++i) {
        const uint16_t h = quant::f32_to_fp16(uniform(scale));
        out[2 * i] = static_cast<uint8_t>(h & 0xFF);
        out[2 * i + 1] = static_cast<uint8_t>(h >> 8);
    }
    return out;
}
std::vector<uint8_t> f32_ones(uint64_t n) {
    std::vector<uint8_t> out(n * 4);
    const float one = 1.0f;
    for (uint64_t i = 0; i < n; ++i) std::memcpy(out.data() + 4 * i, &one, 4);
    return out;
}
}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_fallback_model tiny-llama.gguf OUT.gguf\n");
        return 2;
    }
    const gguf::File src = gguf::File::open(argv[1]);
    constexpr uint64_t n_embd = 96, n_head = 4, n_head_kv = 2, n_ff = 200, n_layer = 2, n_vocab = 512;
    constexpr uint64_t head_dim = n_embd / n_head, n_kv = head_dim * n_head_kv;

    gguf::Writer w;
    w.set_string(gguf::key::architecture, "llama");
    w.set_string(gguf::key::name, "tiny-fallback");
    auto k = [](std::string_view suffix) { return gguf::arch_key("llama", suffix); };
    w.set_u32(k(gguf::arch::context_length), 256);
    w.set_u32(k(gguf::arch::embedding_length), n_embd);
    w.set_u32(k(gguf::arch::block_count), n_layer);
    w.set_u32(k(gguf::arch::feed_forward_length), n_ff);
    w.set_u32(k(gguf::arch::head_count), n_head);
    w.set_u32(k(gguf::arch::head_count_kv), n_head_kv);
    w.set_f32(k(gguf::arch::layer_norm_rms_epsilon), 1e-5f);
    w.set_f32(k(gguf::arch::rope_freq_base), 10000.0f);
    w.set_u32(k(gguf::arch::rope_dimension_count), head_dim);
    w.set_u32(k(gguf::arch::vocab_size), n_vocab);
    w.set_u32(gguf::key::file_type, 1);  // mostly F16
    for (const gguf::KeyValue &kv : src.metadata())
        if (kv.key.substr(0, 10) == "tokenizer.") w.set_value(kv.key, kv.value);

    w.add_tensor_owned("token_embd.weight", DType::f16, {n_embd, n_vocab}, f16_matrix(n_embd, n_vocab, 1.0f));
    w.add_tensor_owned("output_norm.weight", DType::f32, {n_embd}, f32_ones(n_embd));
    w.add_tensor_owned("output.weight", DType::f16, {n_embd, n_vocab}, f16_matrix(n_embd, n_vocab, 0.1f));
    for (uint64_t l = 0; l < n_layer; ++l) {
        auto name = [l](const char *t) { return "blk." + std::to_string(l) + "." + t + ".weight"; };
        w.add_tensor_owned(name("attn_norm"), DType::f32, {n_embd}, f32_ones(n_embd));
        w.add_tensor_owned(name("attn_q"), DType::f16, {n_embd, n_embd}, f16_matrix(n_embd, n_embd, 0.1f));
        w.add_tensor_owned(name("attn_k"), DType::f16, {n_embd, n_kv}, f16_matrix(n_embd, n_kv, 0.1f));
        w.add_tensor_owned(name("attn_v"), DType::f16, {n_embd, n_kv}, f16_matrix(n_embd, n_kv, 0.1f));
        w.add_tensor_owned(name("attn_output"), DType::f16, {n_embd, n_embd}, f16_matrix(n_embd, n_embd, 0.1f));
        w.add_tensor_owned(name("ffn_norm"), DType::f32, {n_embd}, f32_ones(n_embd));
        w.add_tensor_owned(name("ffn_gate"), DType::f16, {n_embd, n_ff}, f16_matrix(n_embd, n_ff, 0.1f));
        w.add_tensor_owned(name("ffn_up"), DType::f16, {n_embd, n_ff}, f16_matrix(n_embd, n_ff, 0.1f));
        w.add_tensor_owned(name("ffn_down"), DType::f16, {n_ff, n_embd}, f16_matrix(n_ff, n_embd, 0.07f));
    }
    w.write(argv[2]);
    return 0;
}
