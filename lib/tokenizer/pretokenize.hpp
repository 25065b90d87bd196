// tokenizer/pretokenize.hpp - byte-level BPE pre-tokenizers as hand-written matchers.
//
// Each preset (`tokenizer.ggml.pre`) is a list of split rules applied in order, as
// llama.cpp applies its list of regular expressions: every rule cuts each current piece
// into its matches and the unmatched gaps between them. The rules reproduce the matching
// semantics llama.cpp gets from its custom splitters and from std::regex over its
// "collapsed" text (one class byte per non-ASCII code point), without a regex engine.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ember::tokenizer {

enum class SplitRule : uint8_t {
    gpt2,             // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    llama3,           // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    qwen2,            // llama3 with \p{N} one digit at a time
    qwen35,           // qwen2 with letter runs that also take \p{M}
    digit,            // \p{N}
    digits,           // \p{N}+
    digits1_3,        // \p{N}{1,3}
    ascii_digits3,    // [0-9][0-9][0-9]
    punct_default,    // [\p{P}\$\+<=>\^~\|]+
    punct_falcon,     // [\p{P}\$\+<=>\^~\|`]+
    cr_or_lf,         // [\r\n]
    ws_letters,       // \s?\p{L}+
    ws_puncts,        // \s?\p{P}+
    cjk_deepseek,     // [一-龥ࠀ-一가-퟿]+
    ws_latin_deepseek,   // \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (deepseek-llm's letter class)
    ws_puncts_deepseek,  // \s?[!-/:-~！-／：-～‘-‟　-。]+
    ws_at_end,        // \s+$
    not_poro_punct,   //  ?[^(\s|.,!?…。，、।۔،)]+
    newline_runs,     // [^\n]+|[\n]+
    non_space_runs,   // \S+
};

struct PreTokenizer {
    std::vector<SplitRule> rules;
    bool byte_encode = true;  // map bytes to GPT-2's alphabet (false: raw UTF-8 pieces)
};

// The preset llama.cpp uses for a `tokenizer.ggml.pre` name, with its side settings.
struct PresetInfo {
    PreTokenizer pre;
    bool ignore_merges = false;   // a piece that is already a token skips the merges
    bool clean_spaces = true;     // detokenizer cleanup of " ." and the like
    bool add_bos = false;         // presets that force add_bos before the file's own flag
    bool escape_whitespace = false;  // spaces become U+2581 before BPE (gemma4)
    bool whole_newline_words = false;  // a run of newlines that is a token stays whole (gemma4)
};
// Throws Errc::tokenizer naming the preset when it is unknown.
PresetInfo preset_for(std::string_view pre_name);

// Split `cps` (code points of one text fragment) by the rules; appends each piece's length
// in code points to `lengths`.
void split(std::span<const uint32_t> cps, std::span<const SplitRule> rules,
           std::vector<uint32_t> &lengths);

}  // namespace ember::tokenizer
