// chat/strings.hpp - Python's str behaviour over UTF-8 bytes.
//
// Python strings count, index and slice by code point, and strip()/split() treat every
// Unicode whitespace character as whitespace; templates depend on both (`content|trim`,
// `message.content[:100]`). Strings here are UTF-8 (JSON contexts are); invalid bytes are
// treated as single code points so nothing can read out of bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat::str {

// Decode the code point at s[i] (i < s.size()) and advance i past it.
char32_t next_code_point(std::string_view s, size_t &i);
// Byte offset of each code point, plus s.size() at the end (size = code points + 1).
std::vector<size_t> code_point_offsets(std::string_view s);
size_t code_point_count(std::string_view s);
bool is_ascii(std::string_view s);
void append_utf8(std::string &out, char32_t cp);

// Python str.isspace() for one code point.
bool is_space(char32_t cp);

enum class Side { both, left, right };
// str.strip()/lstrip()/rstrip(): Unicode whitespace, or any code point in `chars`.
std::string strip(std::string_view s, Side side);
std::string strip_chars(std::string_view s, std::string_view chars, Side side);
// str.split() (runs of whitespace) and str.split(sep, maxsplit).
std::vector<std::string> split_whitespace(std::string_view s, int64_t maxsplit = -1);
std::vector<std::string> split(std::string_view s, std::string_view sep, int64_t maxsplit = -1);
std::vector<std::string> rsplit(std::string_view s, std::string_view sep, int64_t maxsplit = -1);
// str.replace(old, new, count); bounded by the caller's size check.
std::string replace(std::string_view s, std::string_view from, std::string_view to, int64_t count = -1);
size_t count(std::string_view s, std::string_view sub);

// Case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (what chat
// templates meet); other scripts are left unchanged.
std::string upper(std::string_view s);
std::string lower(std::string_view s);
std::string title(std::string_view s);       // jinja's title filter / str.title()
std::string capitalize(std::string_view s);  // first upper, rest lower
std::string py_title(std::string_view s);     // str.title(): words are runs of cased letters

// Python repr() of a string: quotes chosen as Python does, non-printables escaped.
std::string repr(std::string_view s);

}  // namespace ember::chat::str
