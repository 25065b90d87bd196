// tokenizer/pretokenize.cpp - the split rules and the preset table.
//
// Two kinds of rule. The "scanning" rules (gpt2, llama3, qwen2, qwen35) walk a piece from
// left to right and cut it completely, as llama.cpp's custom splitters do (including their
// quirks, which decide token ids). The "searching" rules behave like std::regex_iterator:
// find the leftmost match, keep the unmatched gap before it as its own piece, continue after
// the match. Character classes follow llama.cpp's collapsed-text convention, which the flag
// table reproduces exactly: ASCII keeps its own classes, and a non-ASCII White_Space code
// point is whitespace and nothing else.
#include "tokenizer/pretokenize.hpp"

#include "core/fail.hpp"
#include "tokenizer/unicode.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace ember::tokenizer {
namespace {

namespace uc = unicode;
constexpr uint32_t k_out = 0xFFFFFFFF;  // "no code point here": outside the piece

// A view of one piece [begin, end) with out-of-range reads answering "nothing".
struct Piece {
    std::span<const uint32_t> cps;
    const uint16_t *fl;
    size_t begin, end;
    uint32_t cp(size_t i) const { return (i >= begin && i < end) ? cps[i] : k_out; }
    uint16_t flags(size_t i) const { return (i >= begin && i < end) ? fl[i] : 0; }
};

bool has(uint16_t f, uint16_t bits) { return (f & bits) != 0; }

// ---- scanning rules -------------------------------------------------------------------

// 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive: length matched at p, or 0.
size_t contraction(const Piece &s, size_t p, bool any_case) {
    if (s.cp(p) != '\'' || p + 1 >= s.end) return 0;
    const auto low = [&](size_t i) {
        const uint32_t c = s.cp(i);
        return any_case && c != k_out ? uc::to_lower(c) : c;
    };
    const uint32_t a = low(p + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (p + 2 >= s.end) return 0;
    const uint32_t b = low(p + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

void split_gpt2(const Piece &s, std::vector<uint32_t> &out) {
    constexpr uint16_t word = uc::whitespace | uc::letter | uc::number;
    size_t start = s.begin;
    const auto cut = [&](size_t end) {
        if (end > start) out.push_back(uint32_t(end - start));
        start = end;
    };
    for (size_t p = s.begin; p < s.end;) {
        const uint32_t c = s.cp(p);
        if (size_t n = contraction(s, p, false)) {
            p += n;
            cut(p);
            continue;
        }
        // An optional leading space joins the run that follows it.
        const size_t q = p + (c == ' ' ? 1 : 0);
        const uint16_t f = s.flags(q);
        uint16_t run = 0;
        if (has(f, uc::letter)) run = uc::letter;
        else if (has(f, uc::number)) run = uc::number;
        if (run) {
            p = q;
            while (has(s.flags(p), run)) ++p;
            cut(p);
            continue;
        }
        if (!has(f, word) && f != 0) {
            p = q;
            while (!has(s.flags(p), word) && s.flags(p) != 0) ++p;
            cut(p);
            continue;
        }
        size_t n_ws = 0;
        while (has(s.flags(p + n_ws), uc::whitespace)) ++n_ws;
        if (n_ws > 1 && s.cp(p + n_ws) != k_out) {  // \s+(?!\S): leave the last one
            p += n_ws - 1;
            cut(p);
            continue;
        }
        p += n_ws > 0 ? n_ws : 1;
        cut(p);
    }
}

enum class Digits { up_to_3, one };

void split_llama3(const Piece &s, Digits digits, bool marks, std::vector<uint32_t> &out) {
    const uint16_t letterish = marks ? uint16_t(uc::letter | uc::mark) : uint16_t(uc::letter);
    const uint16_t word = uc::whitespace | uc::number | letterish;
    size_t start = s.begin;
    const auto cut = [&](size_t end) {
        if (end > start) out.push_back(uint32_t(end - start));
        start = end;
    };
    for (size_t p = s.begin; p < s.end;) {
        const uint32_t c = s.cp(p);
        const uint16_t f = s.flags(p);
        if (size_t n = contraction(s, p, true)) {
            p += n;
            cut(p);
            continue;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (!(c == '\r' || c == '\n' || has(f, uc::number)) &&
            (has(f, letterish) || has(s.flags(p + 1), letterish))) {
            ++p;
            while (has(s.flags(p), letterish)) ++p;
            cut(p);
            continue;
        }
        if (has(f, uc::number)) {
            if (digits == Digits::one) {
                ++p;
            } else {
                size_t first = p;
                while (has(s.flags(p), uc::number)) {
                    if (++p - first >= 3) {
                        cut(p);
                        first = p;
                    }
                }
            }
            cut(p);
            continue;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (the guard tests the first code point's flags, as upstream)
        const uint16_t f2 = c == ' ' ? s.flags(p + 1) : f;
        if (!has(f2, word) && f != 0) {
            p += c == ' ' ? 1 : 0;
            while (!has(s.flags(p), word) && s.flags(p) != 0) ++p;
            while (s.cp(p) == '\r' || s.cp(p) == '\n') ++p;
            cut(p);
            continue;
        }
        size_t n_ws = 0, last_newline_end = 0;
        while (has(s.flags(p + n_ws), uc::whitespace)) {
            const uint32_t w = s.cp(p + n_ws);
            if (w == '\r' || w == '\n') last_newline_end = p + n_ws + 1;
            ++n_ws;
        }
        if (last_newline_end > 0) {  // \s*[\r\n]+
            p = last_newline_end;
            cut(p);
            continue;
        }
        if (n_ws > 1 && s.cp(p + n_ws) != k_out) {  // \s+(?!\S)
            p += n_ws - 1;
            cut(p);
            continue;
        }
        p += n_ws > 0 ? n_ws : 1;
        cut(p);
    }
}

// ---- searching rules ------------------------------------------------------------------

struct Range {
    uint32_t lo, hi;
};
constexpr std::array<Range, 87> k_deepseek_latin{{
    {0x41, 0x5a}, {0x61, 0x7a}, {0xb5, 0xb5}, {0xc0, 0xd6}, {0xd8, 0xf6}, {0xf8, 0x1ba},
    {0x1bc, 0x1bf}, {0x1c4, 0x293}, {0x295, 0x2af}, {0x370, 0x373}, {0x376, 0x376},
    {0x377, 0x377}, {0x37b, 0x37d}, {0x37f, 0x37f}, {0x386, 0x386}, {0x388, 0x38a},
    {0x38c, 0x38c}, {0x38e, 0x3a1}, {0x3a3, 0x3f5}, {0x3f7, 0x481}, {0x48a, 0x52f},
    {0x531, 0x556}, {0x10a0, 0x10c5}, {0x13a0, 0x13f5}, {0x13f8, 0x13fd}, {0x1c90, 0x1cba},
    {0x1cbd, 0x1cbf}, {0x1d00, 0x1d2b}, {0x1d6b, 0x1d77}, {0x1d79, 0x1d9a}, {0x1e00, 0x1f15},
    {0x1f18, 0x1f1d}, {0x1f20, 0x1f45}, {0x1f48, 0x1f4d}, {0x1f50, 0x1f57}, {0x1f59, 0x1f59},
    {0x1f5b, 0x1f5b}, {0x1f5d, 0x1f5d}, {0x1f5f, 0x1f7d}, {0x1f80, 0x1fb4}, {0x1fb6, 0x1fbc},
    {0x1fbe, 0x1fbe}, {0x1fc2, 0x1fc4}, {0x1fc6, 0x1fcc}, {0x1fd0, 0x1fd3}, {0x1fd6, 0x1fdb},
    {0x1fe0, 0x1fec}, {0x1ff2, 0x1ff4}, {0x1ff6, 0x1ffc}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210a, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211d}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212a, 0x212d}, {0x212f, 0x2134}, {0x2139, 0x2139}, {0x213c, 0x213f},
    {0x2145, 0x2149}, {0x214e, 0x214e}, {0x2183, 0x2183}, {0x2184, 0x2184}, {0x2c00, 0x2c7b},
    {0x2c7e, 0x2ce4}, {0x2ceb, 0x2cee}, {0x2cf2, 0x2cf2}, {0x2cf3, 0x2cf3}, {0xa640, 0xa66d},
    {0xa680, 0xa69b}, {0xa722, 0xa76f}, {0xa771, 0xa787}, {0xa78b, 0xa78e}, {0xab70, 0xabbf},
    {0xfb00, 0xfb06}, {0xfb13, 0xfb17}, {0xff21, 0xff3a}, {0xff41, 0xff5a}, {0x10400, 0x1044f},
    {0x104b0, 0x104d3}, {0x104d8, 0x104fb}, {0x10c80, 0x10cb2}, {0x10cc0, 0x10cf2},
    {0x118a0, 0x118df}, {0x1e900, 0x1e943},
}};
constexpr std::array<Range, 6> k_deepseek_punct{{
    {0x21, 0x2f}, {0x3a, 0x7e}, {0xff01, 0xff0f}, {0xff1a, 0xff5e}, {0x2018, 0x201f}, {0x3000, 0x3002},
}};
constexpr std::array<Range, 3> k_deepseek_cjk{{{0x4e00, 0x9fa5}, {0x800, 0x4e00}, {0xac00, 0xd7ff}}};

// Explicit code point classes were matched by upstream against text in which every
// non-ASCII whitespace code point had been replaced by U+000B; so such code points never
// fall in an explicit range.
template <size_t N>
bool in(const std::array<Range, N> &ranges, uint32_t cp, uint16_t f) {
    if (cp > 0x7F && has(f, uc::whitespace)) return false;
    for (const Range &r : ranges)
        if (cp >= r.lo && cp <= r.hi) return true;
    return false;
}

bool ascii_in(uint32_t cp, std::string_view set) {
    return cp < 0x80 && set.find(char(cp)) != std::string_view::npos;
}

bool poro_excluded(uint32_t cp, uint16_t f) {
    if (has(f, uc::whitespace)) return true;
    switch (cp) {
    case '(': case '|': case '.': case ',': case '!': case '?': case ')':
    case 0x2026: case 0x3002: case 0xff0c: case 0x3001: case 0x964: case 0x6d4: case 0x60c:
        return true;
    default:
        return false;
    }
}

// Length of the match of `rule` starting exactly at p (0: none), with ECMAScript's
// greedy-then-backtrack meaning for these simple shapes.
size_t match_at(SplitRule rule, const Piece &s, size_t p) {
    const auto run = [&](size_t q, auto pred) {
        while (q < s.end && pred(s.cp(q), s.flags(q))) ++q;
        return q;
    };
    const auto ws = [](uint32_t, uint16_t f) { return has(f, uc::whitespace); };
    // \s?X+ : try with the optional whitespace first, then without.
    const auto opt_ws_run = [&](auto pred) -> size_t {
        if (ws(s.cp(p), s.flags(p)) && p + 1 < s.end && pred(s.cp(p + 1), s.flags(p + 1)))
            return run(p + 1, pred) - p;
        if (pred(s.cp(p), s.flags(p))) return run(p, pred) - p;
        return 0;
    };
    switch (rule) {
    case SplitRule::digit:
        return has(s.flags(p), uc::number) ? 1 : 0;
    case SplitRule::digits:
        return run(p, [](uint32_t, uint16_t f) { return has(f, uc::number); }) - p;
    case SplitRule::digits1_3:
        return std::min<size_t>(3, run(p, [](uint32_t, uint16_t f) { return has(f, uc::number); }) - p);
    case SplitRule::ascii_digits3: {
        for (size_t i = 0; i < 3; ++i) {
            const uint32_t c = s.cp(p + i);
            if (c < '0' || c > '9') return 0;
        }
        return 3;
    }
    case SplitRule::punct_default:
    case SplitRule::punct_falcon: {
        const std::string_view extra = rule == SplitRule::punct_falcon ? "$+<=>^~|`" : "$+<=>^~|";
        return run(p, [&](uint32_t c, uint16_t f) { return has(f, uc::punctuation) || ascii_in(c, extra); }) - p;
    }
    case SplitRule::cr_or_lf:
        return (s.cp(p) == '\r' || s.cp(p) == '\n') ? 1 : 0;
    case SplitRule::ws_letters:
        return opt_ws_run([](uint32_t, uint16_t f) { return has(f, uc::letter); });
    case SplitRule::ws_puncts:
        return opt_ws_run([](uint32_t, uint16_t f) { return has(f, uc::punctuation); });
    case SplitRule::ws_latin_deepseek:
        return opt_ws_run([](uint32_t c, uint16_t f) { return in(k_deepseek_latin, c, f); });
    case SplitRule::ws_puncts_deepseek:
        return opt_ws_run([](uint32_t c, uint16_t f) { return in(k_deepseek_punct, c, f); });
    case SplitRule::cjk_deepseek:
        return run(p, [](uint32_t c, uint16_t f) { return in(k_deepseek_cjk, c, f); }) - p;
    case SplitRule::ws_at_end: {
        const size_t e = run(p, ws);
        return (e > p && e == s.end) ? e - p : 0;
    }
    case SplitRule::not_poro_punct: {
        const auto body = [](uint32_t c, uint16_t f) { return !poro_excluded(c, f); };
        // ' ?' is tried first; a space itself is excluded from the body.
        if (s.cp(p) == ' ' && p + 1 < s.end && body(s.cp(p + 1), s.flags(p + 1)))
            return run(p + 1, body) - p;
        return body(s.cp(p), s.flags(p)) ? run(p, body) - p : 0;
    }
    case SplitRule::newline_runs: {
        const bool nl = s.cp(p) == '\n';
        return run(p, [&](uint32_t c, uint16_t) { return (c == '\n') == nl; }) - p;
    }
    case SplitRule::non_space_runs:
        return run(p, [](uint32_t, uint16_t f) { return !has(f, uc::whitespace); }) - p;
    default:
        return 0;
    }
}

void split_search(SplitRule rule, const Piece &s, std::vector<uint32_t> &out) {
    size_t gap = s.begin;
    for (size_t p = s.begin; p < s.end;) {
        const size_t n = match_at(rule, s, p);
        if (n == 0) {
            ++p;
            continue;
        }
        if (p > gap) out.push_back(uint32_t(p - gap));
        out.push_back(uint32_t(n));
        p += n;
        gap = p;
    }
    if (s.end > gap) out.push_back(uint32_t(s.end - gap));
}

}  // namespace

void split(std::span<const uint32_t> cps, std::span<const SplitRule> rules, std::vector<uint32_t> &lengths) {
    if (cps.empty()) return;
    std::vector<uint16_t> fl(cps.size());
    for (size_t i = 0; i < cps.size(); ++i) fl[i] = uc::flags(cps[i]);

    std::vector<uint32_t> cur{uint32_t(cps.size())}, next;
    for (SplitRule rule : rules) {
        next.clear();
        size_t begin = 0;
        for (uint32_t len : cur) {
            const Piece piece{cps, fl.data(), begin, begin + len};
            switch (rule) {
            case SplitRule::gpt2: split_gpt2(piece, next); break;
            case SplitRule::llama3: split_llama3(piece, Digits::up_to_3, false, next); break;
            case SplitRule::qwen2: split_llama3(piece, Digits::one, false, next); break;
            case SplitRule::qwen35: split_llama3(piece, Digits::one, true, next); break;
            default: split_search(rule, piece, next); break;
            }
            begin += len;
        }
        std::swap(cur, next);
    }
    lengths.insert(lengths.end(), cur.begin(), cur.end());
}

// ---- presets --------------------------------------------------------------------------

PresetInfo preset_for(std::string_view name) {
    using R = SplitRule;
    PresetInfo info;
    const auto is = [&](std::initializer_list<std::string_view> names) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    auto &rules = info.pre.rules;
    if (name.empty() || name == "default") {
        rules = {R::punct_default, R::gpt2, R::digits, R::ascii_digits3};
    } else if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
                   "lfm2", "jina-v5-nano"})) {
        rules = {R::llama3};
        info.ignore_merges = true;
        info.add_bos = true;
    } else if (is({"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"})) {
        rules = {R::llama3};
    } else if (name == "deepseek-llm") {
        rules = {R::cr_or_lf, R::ws_latin_deepseek, R::ws_puncts_deepseek, R::ws_at_end, R::cjk_deepseek, R::digits};
        info.clean_spaces = false;
    } else if (name == "deepseek-coder") {
        rules = {R::cr_or_lf, R::ws_letters, R::ws_puncts, R::cjk_deepseek, R::digit};
        info.clean_spaces = false;
    } else if (name == "falcon") {
        rules = {R::punct_falcon, R::gpt2, R::ascii_digits3};
    } else if (is({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
                   "mellum", "modern-bert", "exaone4", "mpt", "olmo", "jais", "jina-v1-en", "jina-v2-code",
                   "roberta-bpe"})) {
        rules = {R::gpt2};
    } else if (is({"trillion", "granite-docling"})) {
        rules = {R::gpt2};
        info.clean_spaces = false;
    } else if (is({"starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"})) {
        rules = {R::digit, R::gpt2};
    } else if (is({"smollm", "command-r"})) {
        rules = {R::digit, R::gpt2};
        info.clean_spaces = false;
    } else if (is({"stablelm2", "megrez"})) {
        rules = {R::qwen2};
    } else if (is({"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2"})) {
        rules = {R::qwen2};
        info.clean_spaces = false;
    } else if (name == "qwen35") {
        rules = {R::qwen35};
        info.clean_spaces = false;
    } else if (is({"bloom", "gpt3-finnish"})) {
        rules = {R::not_poro_punct};
    } else if (name == "poro-chat") {
        rules = {R::not_poro_punct};
        info.clean_spaces = false;
    } else if (name == "viking") {
        rules = {R::not_poro_punct, R::digit};
        info.clean_spaces = false;
    } else if (is({"gemma4", "granite-embed-multi-311m", "sarvam-moe"})) {
        rules = {R::newline_runs};
        info.pre.byte_encode = false;
        info.escape_whitespace = true;
        info.clean_spaces = name != "sarvam-moe";
        info.whole_newline_words = name != "sarvam-moe";
    } else if (is({"tekken", "gpt-4o", "llama4", "kanana2", "talkie", "deepseek-v3", "hunyuan-dense", "joyai-llm",
                   "youtu", "kimi-k2", "afmoe", "tiny_aya", "cohere2moe", "superbpe", "bailingmoe", "bailingmoe2",
                   "llada-moe", "seed-coder", "laguna", "minimax-m2", "exaone-moe", "chameleon", "jais-2",
                   "granite-embed-multi-97m", "minicpm5", "whitespace"})) {
        fail(Errc::unsupported, "tokenizer.ggml.pre '{}' is a known pre-tokenizer that ember does not implement yet",
             name);
    } else {
        fail(Errc::tokenizer, "tokenizer.ggml.pre '{}' is not a known pre-tokenizer", name);
    }
    return info;
}

}  // namespace ember::tokenizer
