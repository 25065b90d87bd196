// tokenizer/vocab_impl.hpp - the loaded vocabulary shared by the encoders (private header).
#pragma once

#include "tokenizer/flat_index.hpp"
#include "tokenizer/pretokenize.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <array>
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

struct TokenData {
    std::string text;
    float score = 0.0f;
    uint32_t attr = attr_normal;
    TokenType type = TokenType::normal;
    std::string piece;  // decoded bytes (special tokens rendered as their text)
    int byte_value = -1;  // byte tokens: the byte
};

using MergeInfo = PairIndex::Entry;  // rank and the token the pair merges into

// Token texts as TextIndex sees them.
struct TokenTexts {
    const std::vector<TokenData> *tokens;
    std::string_view operator[](size_t i) const { return (*tokens)[i].text; }
};

struct VocabImpl {
    Model model = Model::spm;
    std::string model_name, pre_name;
    std::vector<TokenData> tokens;
    TextIndex to_id;
    size_t max_token_len = 0;

    // BPE
    PresetInfo preset;
    PairIndex merges;  // key: left id << 32 | right id

    TokenId bos = k_no_token, eos = k_no_token, eot = k_no_token, eom = k_no_token;
    TokenId unk = k_no_token, sep = k_no_token, pad = k_no_token, mask = k_no_token;
    TokenId fim_pre = k_no_token, fim_suf = k_no_token, fim_mid = k_no_token;
    TokenId fim_pad = k_no_token, fim_rep = k_no_token, fim_sep = k_no_token;
    bool add_bos = false, add_eos = false, add_sep = false, add_space_prefix = false;
    bool escape_whitespace = false, clean_spaces = false, ignore_merges = false;
    bool lowercase = true, strip_accents = true;
    bool spm_split_at_words = false;  // no entry has U+2581 after another character
    std::vector<TokenId> eog;              // sorted
    std::vector<TokenId> special_by_len;   // control/user-defined/unknown, longest text first
    std::array<TokenId, 256> byte_tokens;  // byte fallback, k_no_token where missing

    TokenId find(std::string_view s) const { return to_id.find(TokenTexts{&tokens}, s); }
    const MergeInfo *merge(TokenId left, TokenId right) const {
        if (left < 0 || right < 0) return nullptr;
        return merges.find((uint64_t(uint32_t(left)) << 32) | uint32_t(right));
    }
};

// The model-specific encoders (encode_*.cpp): append ids for one raw-text fragment.
void encode_spm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);
void encode_bpe(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);
void encode_wpm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out);

}  // namespace ember::tokenizer
