// tokenizer/vocab_impl.hpp - the loaded vocabulary shared by the encoders (private header).
#pragma once

#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ember::tokenizer {

// Token attributes, as llama.cpp derives them from token types and a few model names.
enum Attr : uint32_t {
    attr_unknown = 1u << 0,
    attr_unused = 1u << 1,
    attr_normal = 1u << 2,
    attr_control = 1u << 3,
    attr_user_defined = 1u << 4,
    attr_byte = 1u << 5,
    attr_lstrip = 1u << 7,
    attr_rstrip = 1u << 8,
};

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct TokenData {
    std::string text;
    float score = 0.0f;
    uint32_t attr = attr_normal;
    TokenType type = TokenType::normal;
    std::string piece;  // decoded bytes (special tokens rendered as their text)
    int byte_value = -1;  // byte tokens: the byte
};

struct MergeInfo {
    int32_t rank;
    TokenId result;
};

struct VocabImpl {
    Model model = Model::spm;
    std::string model_name, pre_name;
    std::vector<TokenData> tokens;
    std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>> to_id;
    size_t max_token_len = 0;

    // BPE
    PresetInfo preset;
    std::unordered_map<uint64_t, MergeInfo> merges;  // key: left id << 32 | right id

    TokenId bos = k_no_token, eos = k_no_token, eot = k_no_token, eom = k_no_token;
    TokenId unk = k_no_token, sep = k_no_token, pad = k_no_token, mask = k_no_token;
    TokenId fim_pre = k_no_token, fim_suf = k_no_token, fim_mid = k_no_token;
    TokenId fim_pad = k_no_token, fim_rep = k_no_token, fim_sep = k_no_token;
    bool add_bos = false, add_eos = false, add_sep = false, add_space_prefix = false;
    bool escape_whitespace = false, clean_spaces = false, ignore_merges = false;
    bool lowercase = true, strip_accents = true;
    std::vector<TokenId> eog;              // sorted
    std::vector<TokenId> special_by_len;   // control/user-defined/unknown, longest text first
    std::array<TokenId, 256> byte_tokens;  // byte fallback, k_no_token where missing

    TokenId find(std::string_view s) const {
        const auto it = to_id.find(s);
        return it == to_id.end() ? k_no_token : it->second;
    }
    const MergeInfo *merge(TokenId left, TokenId right) const {
        if (left < 0 || right < 0) return nullptr;
        const auto it = merges.find((uint64_t(uint32_t(left)) << 32) | uint32_t(right));
        return it == merges.end() ? nullptr : &it->second;
    }
};

// The model-specific encoders (encode_*.cpp): append ids for one raw-text fragment.
void encode_spm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);
void encode_bpe(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);
void encode_wpm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);

}  // namespace ember::tokenizer
