// models/loader.hpp - reading hyper-parameters and binding weights, with errors that say
// what was expected beside what the file holds. Shared by every architecture file.
#pragma once

#include "core/dtype.hpp"
#include "gguf/reader.hpp"
#include "models/model.hpp"
#include "ops/matmul.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace ember::models {

// Keys of one architecture ("llama.context_length" ...), each read with its bounds checked.
// Every failure is Errc::invalid_model naming the key.
class HParamReader {
public:
    HParamReader(const gguf::File &file, std::string_view arch) : file_(file), arch_(arch) {}

    // Required integer in [lo, hi].
    int64_t integer(std::string_view suffix, int64_t lo, int64_t hi) const;
    // Optional integer in [lo, hi]; `fallback` when absent.
    int64_t integer_or(std::string_view suffix, int64_t fallback, int64_t lo, int64_t hi) const;
    // Required / optional finite float in [lo, hi].
    float real(std::string_view suffix, double lo, double hi) const;
    float real_or(std::string_view suffix, float fallback, double lo, double hi) const;
    std::optional<std::string> string(std::string_view suffix) const;
    bool has(std::string_view suffix) const;
    std::string key(std::string_view suffix) const;

private:
    const gguf::File &file_;
    std::string arch_;
};

// The types a matmul weight may have (those ops::matmul has kernels for).
inline constexpr DType matrix_types[] = {
    DType::f32,  DType::f16,  DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1,
    DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k,
};

// Tensor `name` with shape exactly ne (ggml order: ne[0] = row length) and a type in
// `types`; Errc::invalid_model naming the tensor, expected beside actual, otherwise.
const gguf::TensorInfo &expect_tensor(const gguf::File &file, std::string_view name,
                                      std::initializer_list<int64_t> ne,
                                      std::span<const DType> types);

// A [rows, cols] matrix (GGUF ne = {cols, rows}) bound for matmul.
ops::Weight bind_matrix(const gguf::File &file, std::string_view name, int64_t rows, int64_t cols);
// Same, or an unbound Weight (rows() == 0) when the file has no such tensor.
ops::Weight bind_matrix_optional(const gguf::File &file, std::string_view name, int64_t rows,
                                 int64_t cols);
// A fused [sum of part_rows, cols] matrix (phi3's attn_qkv = q|k|v, ffn_up = gate|up) bound
// as one Weight per consecutive block of rows, so that the forward pass multiplies by the
// same separate projections as every other architecture. Each row gives the same bits
// either way (a row's sum does not depend on its neighbours).
std::vector<ops::Weight> bind_matrix_parts(const gguf::File &file, std::string_view name,
                                           std::initializer_list<int64_t> part_rows, int64_t cols);
// An F32 vector of n values (norm weights, biases, rope factors).
const float *bind_vector(const gguf::File &file, std::string_view name, int64_t n);
const float *bind_vector_optional(const gguf::File &file, std::string_view name, int64_t n);

// The hyper-parameters every decoder-only architecture shares, read from <arch>.* keys
// and checked against token_embd: context_length, embedding_length, block_count,
// feed_forward_length, attention.head_count(_kv), key/value_length (default
// n_embd/n_head, which must then divide), attention.layer_norm_rms_epsilon; n_vocab from
// token_embd, checked against vocab_size and the tokenizer's token count when present.
HParams read_decoder_hparams(const gguf::File &file, std::string_view arch);

}  // namespace ember::models
