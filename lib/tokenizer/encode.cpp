// tokenizer/encode.cpp - the three encoders for one fragment of raw text.
//
// Both merge loops work on a linked list of symbols that are contiguous slices of one
// string, so a candidate pair's text is a string_view and no strings are built while
// merging. A queued pair is stale once either side has grown; sizes tell (a side can only
// grow, and the left side absorbing the right empties the right).
#include "core/fail.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab_impl.hpp"

#include <algorithm>
#include <queue>

namespace ember::tokenizer {
namespace {

namespace uc = unicode;

struct Symbol {
    int prev, next;
    uint32_t off, n;
    TokenId id;  // BPE: the token this slice spells (k_no_token if none)
};

void push_byte_fallback(const VocabImpl &v, std::string_view bytes, std::vector<TokenId> &out) {
    for (char c : bytes) {
        const TokenId id = v.byte_tokens[uint8_t(c)];
        if (id != k_no_token) out.push_back(id);
        else if (v.unk != k_no_token) out.push_back(v.unk);  // no byte token: <unk>, never a crash
    }
}

}  // namespace

// ---- SentencePiece-style: merge the adjacent pair whose union has the best score --------

namespace {

void encode_spm_segment(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out) {
    if (text.empty()) return;
    std::vector<Symbol> sym;
    sym.reserve(text.size());
    for (uint32_t off = 0; off < text.size();) {
        const uint32_t n = uint32_t(std::min(uc::utf8_len(uint8_t(text[off])), text.size() - off));
        const int idx = int(sym.size());
        sym.push_back({idx - 1, off + n == text.size() ? -1 : idx + 1, off, n, k_no_token});
        off += n;
    }
    struct Pair {
        float score;
        int left, right;
        uint32_t size;
    };
    // Highest score first; among equals, the leftmost.
    const auto lower = [](const Pair &a, const Pair &b) {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> queue(lower);
    const auto try_pair = [&](int l, int r) {
        if (l < 0 || r < 0) return;
        const uint32_t size = sym[l].n + sym[r].n;
        const TokenId id = v.find(text.substr(sym[l].off, size));
        if (id == k_no_token) return;
        queue.push({v.tokens[id].score, l, r, size});
    };
    for (int i = 1; i < int(sym.size()); ++i) try_pair(i - 1, i);
    while (!queue.empty()) {
        const Pair p = queue.top();
        queue.pop();
        Symbol &l = sym[p.left];
        Symbol &r = sym[p.right];
        if (l.n == 0 || r.n == 0 || l.n + r.n != p.size) continue;
        l.n += r.n;
        r.n = 0;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = p.left;
        try_pair(l.prev, p.left);
        try_pair(p.left, l.next);
    }
    for (int i = 0; i != -1; i = sym[i].next) {
        const std::string_view piece = text.substr(sym[i].off, sym[i].n);
        const TokenId id = v.find(piece);
        if (id != k_no_token) out.push_back(id);
        else push_byte_fallback(v, piece, out);
    }
}

}  // namespace

// The merge order is global (best score anywhere first), but a merge only ever joins
// neighbours. Where no vocabulary entry can span a point, the two sides evolve
// independently and in the same relative order, so encoding them apart gives the same ids;
// it keeps the work queue small (one global heap over a megabyte of text is slow). When the
// vocabulary has no entry with U+2581 after another character, every word start is such a
// point.
void encode_spm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out) {
    if (!v.spm_split_at_words) {
        encode_spm_segment(v, text, out);
        return;
    }
    constexpr std::string_view space = "\xE2\x96\x81";
    size_t seg = 0;
    bool prev_space = false;
    for (size_t off = 0; off < text.size();) {
        const bool is_space = text.substr(off, 3) == space;
        if (is_space && !prev_space && off > seg) {
            encode_spm_segment(v, text.substr(seg, off - seg), out);
            seg = off;
        }
        prev_space = is_space;
        off += std::min(uc::utf8_len(uint8_t(text[off])), text.size() - off);
    }
    encode_spm_segment(v, text.substr(seg), out);
}

// ---- byte-level BPE: pre-tokenize, then apply ranked merges within each piece -----------

namespace {

struct BpeScratch {
    std::vector<Symbol> sym;
    struct Pair {
        int32_t rank;
        int left, right;
        uint32_t size;
        TokenId result;
    };
    std::vector<Pair> heap;
};

void bpe_word(const VocabImpl &v, std::string_view word, BpeScratch &s, std::vector<TokenId> &out) {
    if (word.empty()) return;
    if (v.ignore_merges || (v.preset.whole_newline_words && word.find_first_not_of('\n') == std::string_view::npos)) {
        const TokenId id = v.find(word);
        if (id != k_no_token) {
            out.push_back(id);
            return;
        }
    }
    auto &sym = s.sym;
    sym.clear();
    for (uint32_t off = 0; off < word.size();) {
        const uint32_t n = uint32_t(std::min(uc::utf8_len(uint8_t(word[off])), word.size() - off));
        const int idx = int(sym.size());
        sym.push_back({idx - 1, off + n == word.size() ? -1 : idx + 1, off, n, v.find(word.substr(off, n))});
        off += n;
    }
    // Lowest rank first; among equals, the leftmost.
    const auto later = [](const BpeScratch::Pair &a, const BpeScratch::Pair &b) {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    };
    auto &heap = s.heap;
    heap.clear();
    const auto try_pair = [&](int l, int r) {
        if (l < 0 || r < 0) return;
        const MergeInfo *m = v.merge(sym[l].id, sym[r].id);
        if (!m) return;
        heap.push_back({m->rank, l, r, sym[l].n + sym[r].n, m->result});
        std::push_heap(heap.begin(), heap.end(), later);
    };
    for (int i = 1; i < int(sym.size()); ++i) try_pair(i - 1, i);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), later);
        const BpeScratch::Pair p = heap.back();
        heap.pop_back();
        Symbol &l = sym[p.left];
        Symbol &r = sym[p.right];
        if (l.n == 0 || r.n == 0 || l.n + r.n != p.size) continue;
        l.n += r.n;
        l.id = p.result;
        r.n = 0;
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = p.left;
        try_pair(l.prev, p.left);
        try_pair(p.left, l.next);
    }
    for (int i = 0; i != -1; i = sym[i].next) {
        if (sym[i].id != k_no_token) {
            out.push_back(sym[i].id);
            continue;
        }
        const std::string_view piece = word.substr(sym[i].off, sym[i].n);
        if (v.preset.pre.byte_encode) {
            // Upstream looks each raw byte of the mapped text up as a one-byte token and
            // drops those that are not (in practice the piece is lost); kept for parity.
            for (char c : piece) {
                const TokenId id = v.find(std::string_view(&c, 1));
                if (id != k_no_token) out.push_back(id);
            }
        } else {
            for (char c : piece) {
                const TokenId id = v.byte_tokens[uint8_t(c)];
                if (id != k_no_token) out.push_back(id);
            }
        }
    }
}

}  // namespace

void encode_bpe(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out) {
    std::string escaped;
    if (v.escape_whitespace) {
        escaped.reserve(text.size() + text.size() / 4);
        for (char c : text) {
            if (c == ' ') escaped += "\xE2\x96\x81";
            else escaped += c;
        }
        text = escaped;
    }
    const std::vector<uint32_t> cps = uc::decode(text);
    std::vector<uint32_t> lengths;
    split(cps, v.preset.pre.rules, lengths);

    BpeScratch scratch;
    std::string word, utf8;
    size_t begin = 0;
    for (uint32_t len : lengths) {
        word.clear();
        for (size_t i = begin; i < begin + len; ++i) {
            if (v.preset.pre.byte_encode) {
                utf8.clear();
                uc::append_utf8(utf8, cps[i]);
                for (char c : utf8) word += uc::byte_to_unicode(uint8_t(c));
            } else {
                uc::append_utf8(word, cps[i]);
            }
        }
        begin += len;
        bpe_word(v, word, scratch, out);
    }
}

// ---- WordPiece: normalize, split into words, longest-prefix match -----------------------

namespace {

bool is_chinese_char(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
           (cp >= 0x2B920 && cp <= 0x2CEAF) ||  // upstream (and HF) start this block at 0x2B920
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::vector<std::string> wpm_words(const VocabImpl &v, std::string_view text) {
    std::vector<std::string> words(1);
    for (uint32_t cp : uc::decode(text)) {
        if (v.strip_accents) cp = uc::nfd_first(cp);
        const uint16_t f = uc::flags(cp);
        if (f & uc::whitespace) {
            if (!words.back().empty()) words.emplace_back();
            continue;
        }
        if (cp == 0 || cp == uc::replacement || (f & uc::other)) continue;
        if (v.strip_accents && (f & uc::mark)) continue;
        std::string s;
        uc::append_utf8(s, v.lowercase ? uc::to_lower(cp) : cp);
        if ((f & uc::punctuation) || (cp < 0x7F && (f & uc::symbol)) || is_chinese_char(cp)) {
            if (!words.back().empty()) words.emplace_back();
            words.back() = std::move(s);
            words.emplace_back();
        } else {
            words.back() += s;
        }
    }
    if (words.back().empty()) words.pop_back();
    return words;
}

}  // namespace

void encode_wpm(const VocabImpl &v, std::string_view text, std::vector<TokenId> &out) {
    for (const std::string &w : wpm_words(v, text)) {
        if (w.empty()) continue;
        const std::string word = "\xE2\x96\x81" + w;  // the phantom space marks a word start
        const size_t n = word.size();
        const size_t before = out.size();
        for (size_t i = 0; i < n; ++i) {
            bool matched = false;
            for (size_t j = std::min(n, i + v.max_token_len + 1); j > i; --j) {
                const TokenId id = v.find(std::string_view(word).substr(i, j - i));
                if (id != k_no_token) {
                    out.push_back(id);
                    matched = true;
                    i = j - 1;
                    break;
                }
            }
            if (!matched) {  // one unmatched position discards the whole word
                out.resize(before);
                break;
            }
        }
        if (out.size() == before && v.unk != k_no_token) out.push_back(v.unk);
    }
}

}  // namespace ember::tokenizer
