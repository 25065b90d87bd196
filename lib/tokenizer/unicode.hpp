// tokenizer/unicode.hpp - code point classes, UTF-8 and the GPT-2 byte alphabet.
//
// The class table is generated at build time from UnicodeData.txt (gen_unicode_tables.py).
// UTF-8 decoding is deliberately lenient in the way llama.cpp's is, because token ids must
// match it: a lead byte announces the length, continuation bytes are checked, overlong forms
// and surrogates are accepted; anything else decodes as one U+FFFD per offending byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::tokenizer::unicode {

// Flag bits per code point (one general-category class plus White_Space).
enum Flag : uint16_t {
    unassigned = 0x001,   // Cn
    number = 0x002,       // \p{N}
    letter = 0x004,       // \p{L}
    separator = 0x008,    // \p{Z}
    mark = 0x010,         // \p{M}
    punctuation = 0x020,  // \p{P}
    symbol = 0x040,       // \p{S}
    other = 0x080,        // \p{C} without Cn
    whitespace = 0x100,   // White_Space, the tokenizers' \s
};

inline constexpr uint32_t replacement = 0xFFFD;

uint16_t flags(uint32_t cp);  // 0 for values above U+10FFFF
uint32_t to_lower(uint32_t cp);
uint32_t nfd_first(uint32_t cp);  // first code point of the canonical decomposition

// Length a UTF-8 lead byte announces (1 for continuation and invalid bytes), as SPM splits.
inline size_t utf8_len(uint8_t lead) {
    static constexpr uint8_t k_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return k_len[lead >> 4];
}

// Decode one code point at `pos`, advancing it; invalid input yields U+FFFD and advances by
// one byte. Never reads past the end.
uint32_t decode_one(std::string_view s, size_t &pos);
std::vector<uint32_t> decode(std::string_view s);
void append_utf8(std::string &out, uint32_t cp);  // cp must be <= 0x10FFFF

// Number of bytes at the end of `s` that form an incomplete (but so far valid) UTF-8
// sequence: what a streaming decoder must hold back.
size_t incomplete_utf8_tail(std::string_view s);

// GPT-2's reversible byte alphabet: each byte maps to one printable code point.
const std::string &byte_to_unicode(uint8_t b);  // the UTF-8 of that code point
int unicode_to_byte(uint32_t cp);                // -1 if cp is not in the alphabet

}  // namespace ember::tokenizer::unicode
