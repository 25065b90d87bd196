// chat/strings.cpp - Python's str behaviour over UTF-8 bytes (see strings.hpp).
#include "chat/strings.hpp"

#include <fmt/format.h>

namespace ember::chat::str {

// Malformed bytes decode as themselves (one code point each) so every byte is consumed
// exactly once.
char32_t next_code_point(std::string_view s, size_t &i) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len <= 1 || i + len > s.size()) {
        ++i;
        return b;
    }
    char32_t cp = b & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) {
            ++i;
            return b;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    i += len;
    return cp;
}

namespace {

char32_t decode(std::string_view s, size_t &i) { return next_code_point(s, i); }

std::vector<char32_t> decode_all(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) out.push_back(decode(s, i));
    return out;
}

char32_t to_upper(char32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;  // Greek
    if (c >= 0x430 && c <= 0x44F) return c - 32;                // Cyrillic
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

char32_t to_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149) {
        bool odd_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_lower ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

bool is_cased(char32_t c) { return to_upper(c) != c || to_lower(c) != c; }

template <class F>
std::string map_chars(std::string_view s, F f) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) append_utf8(out, f(decode(s, i)));
    return out;
}

bool in_set(char32_t c, const std::vector<char32_t> &set) {
    for (char32_t x : set)
        if (x == c) return true;
    return false;
}

// Python's str.isprintable() for the code points templates meet: controls, format
// characters, separators other than space, private use.
bool printable(char32_t c) {
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0) || c == 0xAD) return false;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F)) return false;
    if ((c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0xFEFF) return false;
    if ((c >= 0xD800 && c <= 0xF8FF) || c > 0x10FFFF) return false;
    return true;
}

}  // namespace

std::vector<size_t> code_point_offsets(std::string_view s) {
    std::vector<size_t> out;
    out.reserve(s.size() + 1);
    for (size_t i = 0; i < s.size();) {
        out.push_back(i);
        decode(s, i);
    }
    out.push_back(s.size());
    return out;
}

size_t code_point_count(std::string_view s) {
    if (is_ascii(s)) return s.size();
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++n) decode(s, i);
    return n;
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

void append_utf8(std::string &out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

namespace {
template <class Pred>
std::string strip_if(std::string_view s, Side side, Pred drop) {
    size_t begin = 0, end = s.size();
    if (side != Side::right) {
        while (begin < end) {
            size_t i = begin;
            if (!drop(decode(s, i))) break;
            begin = i;
        }
    }
    if (side != Side::left) {
        // Walk code points forward from `begin`, remembering where the kept run ends.
        size_t keep_end = begin;
        for (size_t i = begin; i < end;) {
            char32_t c = decode(s, i);
            if (!drop(c)) keep_end = i;
        }
        end = keep_end;
    }
    return std::string(s.substr(begin, end - begin));
}
}  // namespace

std::string strip(std::string_view s, Side side) { return strip_if(s, side, is_space); }

std::string strip_chars(std::string_view s, std::string_view chars, Side side) {
    auto set = decode_all(chars);
    return strip_if(s, side, [&](char32_t c) { return in_set(c, set); });
}

std::vector<std::string> split_whitespace(std::string_view s, int64_t maxsplit) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        if (!is_space(decode(s, j))) break;
        i = j;
    }
    while (i < s.size()) {
        if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
            out.push_back(strip(s.substr(i), Side::right));
            return out;
        }
        size_t start = i, end = i;
        while (i < s.size()) {
            size_t j = i;
            if (is_space(decode(s, j))) break;
            i = end = j;
        }
        out.emplace_back(s.substr(start, end - start));
        while (i < s.size()) {
            size_t j = i;
            if (!is_space(decode(s, j))) break;
            i = j;
        }
    }
    return out;
}

std::vector<std::string> split(std::string_view s, std::string_view sep, int64_t maxsplit) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        size_t hit = s.find(sep, pos);
        if (hit == std::string_view::npos) break;
        out.emplace_back(s.substr(pos, hit - pos));
        pos = hit + sep.size();
    }
    out.emplace_back(s.substr(pos));
    return out;
}

std::vector<std::string> rsplit(std::string_view s, std::string_view sep, int64_t maxsplit) {
    std::vector<std::string> rev;
    size_t end = s.size();
    while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
        if (end < sep.size()) break;
        size_t hit = s.rfind(sep, end - sep.size());
        if (hit == std::string_view::npos) break;
        rev.emplace_back(s.substr(hit + sep.size(), end - hit - sep.size()));
        end = hit;
    }
    rev.emplace_back(s.substr(0, end));
    return {rev.rbegin(), rev.rend()};
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count_limit) {
    std::string out;
    if (from.empty()) {
        // Python inserts `to` between every code point and at both ends.
        auto offs = code_point_offsets(s);
        int64_t done = 0;
        for (size_t k = 0; k + 1 < offs.size(); ++k) {
            if (count_limit < 0 || done < count_limit) {
                out += to;
                ++done;
            }
            out += s.substr(offs[k], offs[k + 1] - offs[k]);
        }
        if (count_limit < 0 || done < count_limit) out += to;
        return out;
    }
    size_t pos = 0;
    int64_t done = 0;
    while (count_limit < 0 || done < count_limit) {
        size_t hit = s.find(from, pos);
        if (hit == std::string_view::npos) break;
        out += s.substr(pos, hit - pos);
        out += to;
        pos = hit + from.size();
        ++done;
    }
    out += s.substr(pos);
    return out;
}

size_t count(std::string_view s, std::string_view sub) {
    if (sub.empty()) return code_point_count(s) + 1;
    size_t n = 0;
    for (size_t pos = s.find(sub); pos != std::string_view::npos; pos = s.find(sub, pos + sub.size())) ++n;
    return n;
}

std::string upper(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        char32_t c = decode(s, i);
        if (c == 0xDF) out += "SS";  // the one one-to-many mapping templates meet: ß
        else append_utf8(out, to_upper(c));
    }
    return out;
}
std::string lower(std::string_view s) { return map_chars(s, to_lower); }

std::string title(std::string_view s) {
    // jinja's title filter: a word starts after whitespace, '-', '(', '{', '[' or '<';
    // its first character is upper-cased and the rest lower-cased.
    std::string out;
    bool start = true;
    for (size_t i = 0; i < s.size();) {
        char32_t c = decode(s, i);
        bool boundary = is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        append_utf8(out, boundary ? c : start ? to_upper(c) : to_lower(c));
        start = boundary;
    }
    return out;
}

std::string capitalize(std::string_view s) {
    std::string out;
    bool first = true;
    for (size_t i = 0; i < s.size();) {
        char32_t c = decode(s, i);
        append_utf8(out, first ? to_upper(c) : to_lower(c));
        first = false;
    }
    return out;
}

std::string repr(std::string_view s) {
    bool has_single = s.find('\'') != std::string_view::npos;
    bool has_double = s.find('"') != std::string_view::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (size_t i = 0; i < s.size();) {
        char32_t c = decode(s, i);
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (printable(c) || c == ' ') {
            append_utf8(out, c);
        } else if (c < 0x100) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        } else if (c < 0x10000) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out += fmt::format("\\U{:08x}", static_cast<unsigned>(c));
        }
    }
    out += quote;
    return out;
}

// str.title(): a word is a run of cased characters.
std::string py_title(std::string_view s) {
    std::string out;
    bool prev_cased = false;
    for (size_t i = 0; i < s.size();) {
        char32_t c = decode(s, i);
        append_utf8(out, prev_cased ? to_lower(c) : to_upper(c));
        prev_cased = is_cased(c);
    }
    return out;
}

}  // namespace ember::chat::str
