// tokenizer/unicode.cpp - lookups over the generated tables, UTF-8, GPT-2 byte alphabet.
#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <array>

namespace ember::tokenizer::unicode {
namespace {

#include "tokenizer/unicode_tables.inc"

uint32_t lookup_pair(const uint32_t (*table)[2], size_t n, uint32_t cp) {
    const auto *end = table + n;
    const auto *it = std::lower_bound(table, end, cp,
                                      [](const uint32_t(&pair)[2], uint32_t v) { return pair[0] < v; });
    return (it != end && (*it)[0] == cp) ? (*it)[1] : cp;
}

// GPT-2's alphabet: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order.
struct ByteAlphabet {
    std::array<std::string, 256> to_text;
    std::array<int16_t, 324> from_cp;  // every code point used is below 0x144
    ByteAlphabet() {
        from_cp.fill(-1);
        uint32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            const uint32_t cp = printable ? uint32_t(b) : next++;
            append_utf8(to_text[b], cp);
            from_cp[cp] = int16_t(b);
        }
    }
};

const ByteAlphabet &alphabet() {
    static const ByteAlphabet a;
    return a;
}

}  // namespace

uint16_t flags(uint32_t cp) {
    if (cp >= 0x110000) return 0;
    return k_stage2[size_t(k_stage1[cp >> 8]) * 256 + (cp & 0xFF)];
}

uint32_t to_lower(uint32_t cp) { return lookup_pair(k_lowercase, std::size(k_lowercase), cp); }
uint32_t nfd_first(uint32_t cp) { return lookup_pair(k_nfd_first, std::size(k_nfd_first), cp); }

uint32_t decode_one(std::string_view s, size_t &pos) {
    const auto byte = [&](size_t i) { return uint8_t(s[i]); };
    const uint8_t b0 = byte(pos);
    const size_t left = s.size() - pos;
    const auto cont = [&](size_t i) { return (byte(pos + i) & 0xC0) == 0x80; };
    if (b0 < 0x80) {
        pos += 1;
        return b0;
    }
    if ((b0 & 0xE0) == 0xC0 && left >= 2 && cont(1)) {
        const uint32_t cp = (uint32_t(b0 & 0x1F) << 6) | (byte(pos + 1) & 0x3F);
        pos += 2;
        return cp;
    }
    if ((b0 & 0xF0) == 0xE0 && left >= 3 && cont(1) && cont(2)) {
        const uint32_t cp = (uint32_t(b0 & 0x0F) << 12) | (uint32_t(byte(pos + 1) & 0x3F) << 6) |
                            (byte(pos + 2) & 0x3F);
        pos += 3;
        return cp;
    }
    if ((b0 & 0xF8) == 0xF0 && left >= 4 && cont(1) && cont(2) && cont(3)) {
        const uint32_t cp = (uint32_t(b0 & 0x07) << 18) | (uint32_t(byte(pos + 1) & 0x3F) << 12) |
                            (uint32_t(byte(pos + 2) & 0x3F) << 6) | (byte(pos + 3) & 0x3F);
        pos += 4;
        // Above U+10FFFF cannot be re-encoded; treat like any other invalid sequence.
        if (cp > 0x10FFFF) {
            pos -= 3;
            return replacement;
        }
        return cp;
    }
    pos += 1;
    return replacement;
}

std::vector<uint32_t> decode(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    size_t pos = 0;
    while (pos < s.size()) out.push_back(decode_one(s, pos));
    return out;
}

void append_utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | ((cp >> 18) & 0x07)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

size_t incomplete_utf8_tail(std::string_view s) {
    // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const uint8_t b = uint8_t(s[n - back]);
        if ((b & 0xC0) == 0x80) continue;  // continuation: keep looking for the lead
        size_t need = 0;
        if ((b & 0xE0) == 0xC0) need = 2;
        else if ((b & 0xF0) == 0xE0) need = 3;
        else if ((b & 0xF8) == 0xF0) need = 4;
        return (need > back) ? back : 0;
    }
    return 0;
}

const std::string &byte_to_unicode(uint8_t b) { return alphabet().to_text[b]; }

int unicode_to_byte(uint32_t cp) {
    return cp < alphabet().from_cp.size() ? alphabet().from_cp[cp] : -1;
}

}  // namespace ember::tokenizer::unicode
