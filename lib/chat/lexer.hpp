// chat/lexer.hpp - template source to tokens, with Hugging Face's whitespace rules applied.
//
// Hugging Face renders chat templates with jinja2 configured trim_blocks=True and
// lstrip_blocks=True, and jinja2 also normalizes newlines and drops one trailing newline of
// the source. All of that is settled here, so the parser sees text exactly as it will print:
//   trim_blocks    the first newline after a block tag `%}` or a comment `#}` is removed;
//   lstrip_blocks  spaces and tabs between the start of a line and a `{%` / `{#` are removed;
//   `{%-` `{{-` `{#-` strip all whitespace before the tag, `-%}` `-}}` `-#}` all after it;
//   `{%+` keeps the whitespace lstrip_blocks would remove, `+%}` keeps the trimmed newline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat {

enum class Tok : uint8_t {
    text,         // literal template text (value)
    var_begin,    // {{
    var_end,      // }}
    block_begin,  // {%
    block_end,    // %}
    name,         // identifiers and keywords (value)
    string,       // string literal, escapes decoded (value)
    integer,      // (int_value)
    floating,     // (float_value)
    op,           // operator or punctuation (value): + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
    end,          // end of the template
};

struct Token {
    Tok kind = Tok::end;
    std::string value;
    int64_t int_value = 0;
    double float_value = 0;
    size_t offset = 0;  // into the normalized source, for line:col in messages
};

// jinja2's newline handling: \r\n and \r become \n, and one trailing newline is dropped
// (keep_trailing_newline=False).
std::string normalize_source(std::string_view source);

// Tokenize normalized source. Throws TemplateFailure (with offset) on an unclosed tag,
// string or comment, or an unknown character inside a tag.
std::vector<Token> tokenize(std::string_view source);

}  // namespace ember::chat
