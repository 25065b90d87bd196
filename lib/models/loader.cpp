// models/loader.cpp - hyper-parameter reading and weight binding.
#include "models/loader.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"

#include <fmt/ranges.h>

#include <cmath>
#include <vector>

namespace ember::models {

std::string HParamReader::key(std::string_view suffix) const { return gguf::arch_key(arch_, suffix); }
bool HParamReader::has(std::string_view suffix) const { return file_.has(key(suffix)); }

int64_t HParamReader::integer_or(std::string_view suffix, int64_t fallback, int64_t lo,
                                 int64_t hi) const {
    const std::string k = key(suffix);
    const gguf::Value *v = file_.find(k);
    if (!v) return fallback;
    const auto x = v->as<int64_t>();
    if (!x)
        fail(Errc::invalid_model, "{}: expected an integer, found {}", k,
             gguf::value_type_name(v->type()));
    if (*x < lo || *x > hi)
        fail(Errc::invalid_model, "{} = {} is out of range [{}, {}]", k, *x, lo, hi);
    return *x;
}

int64_t HParamReader::integer(std::string_view suffix, int64_t lo, int64_t hi) const {
    if (!has(suffix)) fail(Errc::invalid_model, "missing metadata key {}", key(suffix));
    return integer_or(suffix, 0, lo, hi);
}

float HParamReader::real_or(std::string_view suffix, float fallback, double lo, double hi) const {
    const std::string k = key(suffix);
    const gguf::Value *v = file_.find(k);
    if (!v) return fallback;
    auto x = v->as<double>();
    if (!x) {
        if (auto i = v->as<int64_t>()) x = static_cast<double>(*i);
    }
    if (!x)
        fail(Errc::invalid_model, "{}: expected a number, found {}", k,
             gguf::value_type_name(v->type()));
    if (!std::isfinite(*x) || *x < lo || *x > hi)
        fail(Errc::invalid_model, "{} = {} is out of range [{}, {}]", k, *x, lo, hi);
    return static_cast<float>(*x);
}

float HParamReader::real(std::string_view suffix, double lo, double hi) const {
    if (!has(suffix)) fail(Errc::invalid_model, "missing metadata key {}", key(suffix));
    return real_or(suffix, 0.0f, lo, hi);
}

std::optional<std::string> HParamReader::string(std::string_view suffix) const {
    const std::string k = key(suffix);
    const gguf::Value *v = file_.find(k);
    if (!v) return std::nullopt;
    auto s = v->as<std::string>();
    if (!s) fail(Errc::invalid_model, "{}: expected a string, found {}", k, gguf::value_type_name(v->type()));
    return s;
}

namespace {
std::vector<uint64_t> dims_of(const gguf::TensorInfo &t) {
    return std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims);
}
std::string type_names(std::span<const DType> types) {
    std::vector<std::string_view> names;
    for (DType d : types) names.push_back(dtype_name(d));
    return fmt::format("{}", fmt::join(names, "|"));
}
}  // namespace

const gguf::TensorInfo &expect_tensor(const gguf::File &file, std::string_view name,
                                      std::initializer_list<int64_t> ne,
                                      std::span<const DType> types) {
    const gguf::TensorInfo *t = file.find_tensor(name);
    if (!t) fail(Errc::invalid_model, "missing tensor {} (expected shape {})", name, fmt::join(ne, "x"));
    bool ok = t->n_dims >= 1 && t->n_dims <= 4;
    size_t i = 0;
    for (int64_t d : ne) {
        const uint64_t actual = i < 4 ? t->ne[i] : 1;
        if (d < 0 || actual != static_cast<uint64_t>(d)) ok = false;
        ++i;
    }
    for (; i < 4; ++i)
        if (t->ne[i] != 1) ok = false;
    if (!ok)
        fail(Errc::invalid_model, "tensor {}: expected shape {}, found {}", name,
             fmt::join(ne, "x"), fmt::join(dims_of(*t), "x"));
    bool type_ok = false;
    for (DType d : types) type_ok = type_ok || d == t->type;
    if (!type_ok)
        fail(Errc::invalid_model, "tensor {}: type {} is not one of {}", name, dtype_name(t->type),
             type_names(types));
    return *t;
}

std::vector<ops::Weight> bind_matrix_parts(const gguf::File &file, std::string_view name,
                                           std::initializer_list<int64_t> part_rows, int64_t cols) {
    int64_t rows = 0;
    for (int64_t n : part_rows) rows += n;
    const gguf::TensorInfo &t = expect_tensor(file, name, {cols, rows}, matrix_types);
    try {
        // A repacked weight's kernels read only the Weight's own copy, so the original bytes
        // would double the weights' resident memory; give them back, slice by slice as the
        // repacking goes (so not even the largest tensor is held twice at any moment).
        // token_embd is also read row by row in the original layout (ops::get_row, for
        // embeddings), so it is released only where reading it again faults it in from the
        // file (mmap mode; read mode remaps those pages onto the file).
        const bool rereadable = name == gguf::tensor::token_embd;
        const uint64_t row_bytes = rows > 0 ? t.n_bytes / static_cast<uint64_t>(rows) : 0;
        std::vector<ops::Weight> parts;
        bool packed = false;
        int64_t first = 0;
        for (int64_t n : part_rows) {
            const uint8_t *data = t.data + static_cast<uint64_t>(first) * row_bytes;
            parts.push_back(ops::Weight::bind(t.type, data, n, cols, [&](int64_t r0, int64_t r1) {
                file.release(t, static_cast<uint64_t>(first + r0) * row_bytes,
                             static_cast<uint64_t>(first + r1) * row_bytes, rereadable);
            }));
            packed |= parts.back().packed() != nullptr;
            first += n;
        }
        // The pages straddling two slices, kept by the slice releases, go now.
        if (packed) file.release(t, rereadable);
        return parts;
    } catch (const Error &e) {
        fail(e.code() == Errc::unsupported ? Errc::unsupported : Errc::invalid_model,
             "tensor {}: {}", name, e.what());
    }
}

ops::Weight bind_matrix(const gguf::File &file, std::string_view name, int64_t rows, int64_t cols) {
    return std::move(bind_matrix_parts(file, name, {rows}, cols).front());
}

ops::Weight bind_matrix_optional(const gguf::File &file, std::string_view name, int64_t rows,
                                 int64_t cols) {
    if (!file.find_tensor(name)) return {};
    return bind_matrix(file, name, rows, cols);
}

const float *bind_vector(const gguf::File &file, std::string_view name, int64_t n) {
    static constexpr DType f32_only[] = {DType::f32};
    const gguf::TensorInfo &t = expect_tensor(file, name, {n}, f32_only);
    if (reinterpret_cast<uintptr_t>(t.data) % alignof(float) != 0)
        fail(Errc::invalid_model, "tensor {}: data is not 4-byte aligned", name);
    return reinterpret_cast<const float *>(t.data);
}

const float *bind_vector_optional(const gguf::File &file, std::string_view name, int64_t n) {
    if (!file.find_tensor(name)) return nullptr;
    return bind_vector(file, name, n);
}

// ---- shared decoder hyper-parameters -------------------------------------------------------

HParams read_decoder_hparams(const gguf::File &file, std::string_view arch) {
    namespace a = gguf::arch;
    const HParamReader r(file, arch);
    HParams hp;
    hp.architecture = std::string(arch);
    constexpr int64_t big = int64_t{1} << 31;
    hp.n_ctx_train = r.integer(a::context_length, 1, big);
    hp.n_embd = r.integer(a::embedding_length, 1, 1 << 20);
    hp.n_layer = static_cast<int>(r.integer(a::block_count, 1, 4096));
    if (const gguf::Value *ff = file.find(r.key(a::feed_forward_length)); ff && ff->type() == gguf::ValueType::array)
        fail(Errc::unsupported, "{} per layer (an array) is not supported", r.key(a::feed_forward_length));
    hp.n_ff = r.integer(a::feed_forward_length, 1, 1 << 24);
    hp.n_head = static_cast<int>(r.integer(a::head_count, 1, 4096));
    hp.n_head_kv = static_cast<int>(r.integer_or(a::head_count_kv, hp.n_head, 1, hp.n_head));
    if (hp.n_head % hp.n_head_kv != 0)
        fail(Errc::invalid_model, "{} = {} is not a multiple of {} = {}", r.key(a::head_count),
             hp.n_head, r.key(a::head_count_kv), hp.n_head_kv);
    if (!r.has(a::key_length) && hp.n_embd % hp.n_head != 0)
        fail(Errc::invalid_model, "{} = {} is not divisible by {} = {} (and {} is absent)",
             r.key(a::embedding_length), hp.n_embd, r.key(a::head_count), hp.n_head, r.key(a::key_length));
    const int64_t hd = hp.n_embd / hp.n_head;
    hp.head_dim_k = static_cast<int>(r.integer_or(a::key_length, hd, 1, 1 << 14));
    hp.head_dim_v = static_cast<int>(r.integer_or(a::value_length, hp.head_dim_k, 1, 1 << 14));
    hp.norm_eps = r.real(a::layer_norm_rms_epsilon, 0.0, 1.0);

    const gguf::TensorInfo *embd = file.find_tensor(gguf::tensor::token_embd);
    if (!embd) fail(Errc::invalid_model, "missing tensor {}", gguf::tensor::token_embd);
    if (embd->n_dims != 2 || static_cast<int64_t>(embd->ne[0]) != hp.n_embd)
        fail(Errc::invalid_model, "tensor {}: expected shape {}xn_vocab, found {}x{}x{}",
             gguf::tensor::token_embd, hp.n_embd, embd->ne[0], embd->ne[1], embd->ne[2]);
    hp.n_vocab = static_cast<int64_t>(embd->ne[1]);
    if (hp.n_vocab < 1 || hp.n_vocab > big)
        fail(Errc::invalid_model, "tensor {}: vocabulary of {} entries", gguf::tensor::token_embd, hp.n_vocab);
    const int64_t vs = r.integer_or(a::vocab_size, hp.n_vocab, 1, big);
    if (vs != hp.n_vocab)
        fail(Errc::invalid_model, "{} = {} but {} has {} rows", r.key(a::vocab_size), vs,
             gguf::tensor::token_embd, hp.n_vocab);
    if (const gguf::Value *tok = file.find(gguf::key::tokenizer_tokens);
        tok && tok->type() == gguf::ValueType::array && static_cast<int64_t>(tok->size()) != hp.n_vocab)
        fail(Errc::invalid_model, "{} has {} entries but {} has {} rows", gguf::key::tokenizer_tokens,
             tok->size(), gguf::tensor::token_embd, hp.n_vocab);
    return hp;
}

}  // namespace ember::models
