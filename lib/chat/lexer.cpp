// chat/lexer.cpp - template source to tokens (see lexer.hpp for the whitespace rules).
#include "chat/lexer.hpp"

#include "chat/error.hpp"
#include "chat/strings.hpp"

#include <cmath>
#include <cstdlib>

namespace ember::chat {

std::string normalize_source(std::string_view source) {
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

namespace {

class Lexer {
public:
    explicit Lexer(std::string_view src) : src_(src) {}

    std::vector<Token> run() {
        bool line_starting = true;
        while (pos_ < src_.size()) {
            size_t tag = find_tag(pos_);
            std::string text(src_.substr(pos_, tag - pos_));
            if (tag == src_.size()) {
                emit_text(std::move(text), pos_);
                break;
            }
            char kind = src_[tag + 1];
            char control = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
            if (control == '-') {
                text = str::strip(text, str::Side::right);
            } else if (control != '+' && kind != '{') {
                lstrip_line(text, line_starting);
            }
            emit_text(std::move(text), pos_);
            pos_ = tag + 2 + (control == '-' || control == '+' ? 1 : 0);
            if (kind == '#') {
                line_starting = skip_comment(tag);
            } else {
                line_starting = lex_tag(kind == '%', tag);
            }
        }
        tokens_.push_back(Token{Tok::end, {}, 0, 0, src_.size()});
        return std::move(tokens_);
    }

private:
    std::string_view src_;
    size_t pos_ = 0;
    std::vector<Token> tokens_;

    [[noreturn]] void fail_at(size_t offset, std::string message) {
        throw TemplateFailure{std::move(message), offset};
    }

    size_t find_tag(size_t from) const {
        for (size_t i = src_.find('{', from); i != std::string_view::npos; i = src_.find('{', i + 1)) {
            if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
        }
        return src_.size();
    }

    void emit_text(std::string text, size_t offset) {
        if (!text.empty()) tokens_.push_back(Token{Tok::text, std::move(text), 0, 0, offset});
    }

    // lstrip_blocks: drop whitespace between the line's start and the tag, when only
    // whitespace stands there. A line starts after a newline in the text, or at the text's
    // start when the previous tag ended with a newline (or this is the template's start).
    static void lstrip_line(std::string &text, bool line_starting) {
        size_t nl = text.rfind('\n');
        size_t line = nl == std::string::npos ? 0 : nl + 1;
        if (line == 0 && !line_starting) return;
        for (size_t i = line; i < text.size();)
            if (!str::is_space(str::next_code_point(text, i))) return;
        text.resize(line);
    }

    // After a tag's end: `-` strips all following whitespace; trim_blocks drops one newline.
    // Returns whether what was consumed ended with a newline (jinja's "line starting").
    bool after_tag(bool strip, bool trim_newline) {
        size_t start = pos_;
        if (strip) {
            while (pos_ < src_.size()) {
                size_t i = pos_;
                if (!str::is_space(str::next_code_point(src_, i))) break;
                pos_ = i;
            }
        } else if (trim_newline && pos_ < src_.size() && src_[pos_] == '\n') {
            ++pos_;
        }
        return pos_ > start && src_[pos_ - 1] == '\n';
    }

    bool skip_comment(size_t tag) {
        size_t close = src_.find("#}", pos_);
        if (close == std::string_view::npos) fail_at(tag, "missing end of comment tag");
        bool strip = close > pos_ && src_[close - 1] == '-';
        pos_ = close + 2;
        return after_tag(strip, true);
    }

    // Tokens of one {{ ... }} or {% ... %}. An end delimiter only counts outside brackets
    // (as in jinja2), so `{{ {'a': {'b': 1}} }}` works.
    bool lex_tag(bool block, size_t tag) {
        tokens_.push_back(Token{block ? Tok::block_begin : Tok::var_begin, {}, 0, 0, tag});
        size_t first = tokens_.size();
        int depth = 0;
        const char close = block ? '%' : '}';
        for (;;) {
            while (pos_ < src_.size()) {
                size_t i = pos_;
                if (!str::is_space(str::next_code_point(src_, i))) break;
                pos_ = i;
            }
            if (pos_ >= src_.size()) fail_at(tag, block ? "unexpected end of template: missing '%}'" : "unexpected end of template: missing '}}'");
            std::string_view rest = src_.substr(pos_);
            if (depth == 0) {
                char c0 = rest[0];
                bool sign = (c0 == '-' || (block && c0 == '+'));
                std::string_view after = sign ? rest.substr(1) : rest;
                if (after.size() >= 2 && after[0] == close && after[1] == '}') {
                    tokens_.push_back(Token{block ? Tok::block_end : Tok::var_end, {}, 0, 0, pos_});
                    pos_ += sign ? 3 : 2;
                    bool line_start = after_tag(c0 == '-', block && c0 != '+');
                    if (block && tokens_.size() == first + 2 && tokens_[first].kind == Tok::name &&
                        tokens_[first].value == "raw")
                        return lex_raw(tag);
                    return line_start;
                }
            }
            lex_token(depth);
        }
    }

    // {% raw %}...{% endraw %}: the body is text, untouched.
    bool lex_raw(size_t tag) {
        tokens_.resize(tokens_.size() - 3);  // drop `{% raw %}`
        for (size_t i = src_.find("{%", pos_); i != std::string_view::npos; i = src_.find("{%", i + 2)) {
            size_t j = i + 2;
            bool strip_before = j < src_.size() && src_[j] == '-';
            if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
            while (j < src_.size() && (src_[j] == ' ' || src_[j] == '\t' || src_[j] == '\n')) ++j;
            if (src_.substr(j, 6) != "endraw") continue;
            j += 6;
            while (j < src_.size() && (src_[j] == ' ' || src_[j] == '\t' || src_[j] == '\n')) ++j;
            bool strip_after = j < src_.size() && src_[j] == '-';
            bool keep_newline = j < src_.size() && src_[j] == '+';
            if (strip_after || keep_newline) ++j;
            if (src_.substr(j, 2) != "%}") continue;
            std::string body(src_.substr(pos_, i - pos_));
            if (strip_before) body = str::strip(body, str::Side::right);
            emit_text(std::move(body), pos_);
            pos_ = j + 2;
            return after_tag(strip_after, !keep_newline);
        }
        fail_at(tag, "missing {% endraw %}");
    }

    void lex_token(int &depth) {
        size_t start = pos_;
        char c = src_[pos_];
        if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
            tokens_.push_back(Token{Tok::name, std::string(src_.substr(start, pos_ - start)), 0, 0, start});
            return;
        }
        if (std::isdigit(static_cast<unsigned char>(c))) return lex_number();
        if (c == '\'' || c == '"') return lex_string();
        static constexpr std::string_view two[] = {"//", "**", "==", "!=", "<=", ">="};
        for (auto op : two) {
            if (src_.substr(pos_, 2) == op) {
                tokens_.push_back(Token{Tok::op, std::string(op), 0, 0, start});
                pos_ += 2;
                return;
            }
        }
        if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos)
            fail_at(start, fmt::format("unexpected char {} in tag", str::repr(std::string(1, c))));
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') {
            if (depth == 0) fail_at(start, fmt::format("unexpected '{}'", c));
            --depth;
        }
        tokens_.push_back(Token{Tok::op, std::string(1, c), 0, 0, start});
        ++pos_;
    }

    void lex_number() {
        size_t start = pos_;
        auto digits = [&] {
            while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
        };
        digits();
        bool is_float = false;
        // `foo.0.1` is attribute access, not a float: no fraction right after a '.'.
        bool after_dot = start > 0 && src_[start - 1] == '.';
        if (!after_dot && pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
            is_float = true;
            ++pos_;
            digits();
        }
        if (!after_dot && pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
            size_t save = pos_++;
            if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
            if (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_]))) {
                is_float = true;
                digits();
            } else {
                pos_ = save;
            }
        }
        std::string text;
        for (char ch : src_.substr(start, pos_ - start))
            if (ch != '_') text += ch;
        Token t{is_float ? Tok::floating : Tok::integer, text, 0, 0, start};
        if (is_float) {
            t.float_value = std::strtod(text.c_str(), nullptr);
        } else {
            int64_t v = 0;
            for (char ch : text) {
                if (__builtin_mul_overflow(v, int64_t{10}, &v) || __builtin_add_overflow(v, int64_t{ch - '0'}, &v))
                    fail_at(start, "integer literal too large");
            }
            t.int_value = v;
        }
        tokens_.push_back(std::move(t));
    }

    // Python string literal escapes (jinja decodes them with "unicode-escape").
    void lex_string() {
        size_t start = pos_;
        char quote = src_[pos_++];
        std::string out;
        for (;;) {
            if (pos_ >= src_.size()) fail_at(start, "unterminated string literal");
            char c = src_[pos_++];
            if (c == quote) break;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (pos_ >= src_.size()) fail_at(start, "unterminated string literal");
            char e = src_[pos_++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '\\': out += '\\'; break;
            case '\'': out += '\''; break;
            case '"': out += '"'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case 'a': out += '\a'; break;
            case '\n': break;
            case 'x':
            case 'u':
            case 'U': {
                size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                if (pos_ + n > src_.size()) fail_at(start, "truncated \\x/\\u escape in string literal");
                char32_t cp = 0;
                for (size_t k = 0; k < n; ++k) {
                    char h = src_[pos_ + k];
                    int d = std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                            : (h >= 'a' && h <= 'f')                    ? h - 'a' + 10
                            : (h >= 'A' && h <= 'F')                    ? h - 'A' + 10
                                                                        : -1;
                    if (d < 0) fail_at(start, "bad \\x/\\u escape in string literal");
                    cp = cp * 16 + static_cast<char32_t>(d);
                }
                if (cp > 0x10FFFF) fail_at(start, "\\U escape out of range");
                pos_ += n;
                str::append_utf8(out, cp);
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    char32_t cp = static_cast<char32_t>(e - '0');
                    for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7'; ++k)
                        cp = cp * 8 + static_cast<char32_t>(src_[pos_++] - '0');
                    str::append_utf8(out, cp);
                } else {
                    out += '\\';  // unknown escapes stay as written, as in Python
                    out += e;
                }
            }
        }
        tokens_.push_back(Token{Tok::string, std::move(out), 0, 0, start});
    }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace ember::chat
