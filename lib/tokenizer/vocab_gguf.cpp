// tokenizer/vocab_gguf.cpp - VocabData from a GGUF file's tokenizer.ggml.* keys.
#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ember::tokenizer {
namespace {

using gguf::Value;
using gguf::ValueType;

[[noreturn]] void wrong_type(std::string_view key, const Value &v, std::string_view expected) {
    fail(Errc::tokenizer, "GGUF key {} has type {}, expected {}", key, gguf::value_type_name(v.type()), expected);
}

std::optional<std::string> get_string(const gguf::File &f, std::string_view key) {
    const Value *v = f.find(key);
    if (!v) return std::nullopt;
    const auto s = v->as<std::string_view>();
    if (!s) wrong_type(key, *v, "string");
    return std::string(*s);
}

std::optional<int64_t> get_int(const gguf::File &f, std::string_view key) {
    const Value *v = f.find(key);
    if (!v) return std::nullopt;
    const auto i = v->as<int64_t>();
    if (!i) wrong_type(key, *v, "an integer");
    return *i;
}

std::optional<bool> get_bool(const gguf::File &f, std::string_view key) {
    const Value *v = f.find(key);
    if (!v) return std::nullopt;
    const auto b = v->as<bool>();
    if (!b) wrong_type(key, *v, "bool");
    return *b;
}

std::vector<std::string> get_strings(const gguf::File &f, std::string_view key) {
    const Value *v = f.find(key);
    if (!v) return {};
    if (v->type() != ValueType::array || v->element_type() != ValueType::string)
        wrong_type(key, *v, "array of strings");
    std::vector<std::string> out;
    out.reserve(v->strings().size());
    for (std::string_view s : v->strings()) out.emplace_back(s);
    return out;
}

}  // namespace

VocabData VocabData::from_gguf(const gguf::File &f) {
    namespace key = gguf::key;
    VocabData d;
    const auto model = get_string(f, key::tokenizer_model);
    if (!model) fail(Errc::tokenizer, "{}: GGUF key {} is missing (the file has no tokenizer)", f.path(), key::tokenizer_model);
    d.model = *model;
    d.pre = get_string(f, key::tokenizer_pre).value_or("");
    if (!f.has(key::tokenizer_tokens)) fail(Errc::tokenizer, "{}: GGUF key {} is missing", f.path(), key::tokenizer_tokens);
    d.tokens = get_strings(f, key::tokenizer_tokens);
    d.merges = get_strings(f, key::tokenizer_merges);

    if (const Value *v = f.find(key::tokenizer_scores)) {
        if (v->type() == ValueType::array && v->element_type() == ValueType::f32) {
            const auto s = v->array<float>();
            d.scores.assign(s.begin(), s.end());
        } else if (v->type() == ValueType::array && v->element_type() == ValueType::i32) {
            for (int32_t x : v->array<int32_t>()) d.scores.push_back(float(x));
        } else {
            wrong_type(key::tokenizer_scores, *v, "array of f32 or i32");
        }
    }
    if (const Value *v = f.find(key::tokenizer_token_type)) {
        if (v->type() != ValueType::array || v->element_type() != ValueType::i32)
            wrong_type(key::tokenizer_token_type, *v, "array of i32");
        const auto t = v->array<int32_t>();
        d.types.assign(t.begin(), t.end());
    }

    d.bos = get_int(f, key::tokenizer_bos_id);
    d.eos = get_int(f, key::tokenizer_eos_id);
    d.eot = get_int(f, key::tokenizer_eot_id);
    d.eom = get_int(f, key::tokenizer_eom_id);
    d.unk = get_int(f, key::tokenizer_unk_id);
    d.sep = get_int(f, key::tokenizer_sep_id);
    d.pad = get_int(f, key::tokenizer_pad_id);
    d.mask = get_int(f, "tokenizer.ggml.mask_token_id");
    d.fim_pre = get_int(f, "tokenizer.ggml.fim_pre_token_id");
    d.fim_suf = get_int(f, "tokenizer.ggml.fim_suf_token_id");
    d.fim_mid = get_int(f, "tokenizer.ggml.fim_mid_token_id");
    d.fim_pad = get_int(f, "tokenizer.ggml.fim_pad_token_id");
    d.fim_rep = get_int(f, "tokenizer.ggml.fim_rep_token_id");
    d.fim_sep = get_int(f, "tokenizer.ggml.fim_sep_token_id");
    // Older files name the FIM tokens differently.
    if (!d.fim_pre) d.fim_pre = get_int(f, "tokenizer.ggml.prefix_token_id");
    if (!d.fim_suf) d.fim_suf = get_int(f, "tokenizer.ggml.suffix_token_id");
    if (!d.fim_mid) d.fim_mid = get_int(f, "tokenizer.ggml.middle_token_id");

    d.add_bos = get_bool(f, key::tokenizer_add_bos);
    d.add_eos = get_bool(f, key::tokenizer_add_eos);
    d.add_space_prefix = get_bool(f, key::tokenizer_add_space_prefix);
    d.lowercase = get_bool(f, "tokenizer.ggml.normalizer.lowercase");
    d.strip_accents = get_bool(f, "tokenizer.ggml.normalizer.strip_accents");
    d.general_name = get_string(f, key::name).value_or("");
    d.architecture = get_string(f, key::architecture).value_or("");
    return d;
}

Tokenizer Tokenizer::from_gguf(const gguf::File &file) { return Tokenizer(VocabData::from_gguf(file)); }

}  // namespace ember::tokenizer
