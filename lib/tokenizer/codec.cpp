// tokenizer/codec.cpp - encode (special-token partition, BOS/EOS), decode, streaming.
#include "core/fail.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab_impl.hpp"

#include <cctype>

namespace ember::tokenizer {
namespace {

// A piece of the input: either raw text [off, off+len) or an already-decided token.
struct Fragment {
    TokenId token;  // k_no_token for raw text
    size_t off, len;
};

bool is_space(char c) { return std::isspace(uint8_t(c)) != 0; }

// Cut special tokens out of the text, longest token first over the whole text (not
// leftmost-longest): that order decides overlaps, and upstream uses it.
std::vector<Fragment> partition(const VocabImpl &v, std::string_view text, bool parse_special) {
    std::vector<Fragment> frags;
    if (text.empty()) return frags;
    frags.push_back({k_no_token, 0, text.size()});
    std::vector<Fragment> next;
    for (TokenId id : v.special_by_len) {
        const TokenData &tok = v.tokens[id];
        // Without parse_special only user-defined tokens are split out.
        if (!parse_special && (tok.attr & (attr_control | attr_unknown))) continue;
        const std::string_view needle = tok.text;
        if (text.find(needle) == std::string_view::npos) continue;  // the common case: cheap
        next.clear();
        for (const Fragment &f : frags) {
            if (f.token != k_no_token) {
                next.push_back(f);
                continue;
            }
            size_t off = f.off, len = f.len;
            while (len > 0) {
                const size_t hit = text.substr(0, off + len).find(needle, off);
                if (hit == std::string_view::npos) {
                    next.push_back({k_no_token, off, len});
                    break;
                }
                size_t left_len = hit - off;
                if (tok.attr & attr_lstrip)
                    while (left_len > 0 && is_space(text[off + left_len - 1])) --left_len;
                if (left_len > 0) next.push_back({k_no_token, off, left_len});
                next.push_back({id, 0, 0});
                size_t right_off = hit + needle.size();
                size_t right_len = off + len - right_off;
                if (tok.attr & attr_rstrip)
                    while (right_len > 0 && is_space(text[right_off])) ++right_off, --right_len;
                off = right_off;
                len = right_len;
            }
        }
        std::swap(frags, next);
    }
    return frags;
}

}  // namespace

std::vector<TokenId> Tokenizer::encode(std::string_view text, const EncodeOptions &options) const {
    const VocabImpl &v = *impl_;
    // Offsets inside the encoders are 32-bit; 2 GiB of text in one call is a caller's mistake.
    if (text.size() >= (size_t(1) << 31))
        fail(Errc::invalid_argument, "text of {} bytes is too long to tokenize in one call (limit 2 GiB)", text.size());
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 4);
    const std::vector<Fragment> frags = partition(v, text, options.parse_special);
    switch (v.model) {
    case Model::spm: {
        if (options.add_special && v.add_bos) out.push_back(v.bos);
        bool prev_special = true;  // SentencePiece puts a space before the first word
        std::string buf;
        for (const Fragment &f : frags) {
            if (f.token != k_no_token) {
                out.push_back(f.token);
                prev_special = true;
                continue;
            }
            buf.clear();
            if (v.add_space_prefix && prev_special) buf += "\xE2\x96\x81";
            for (char c : text.substr(f.off, f.len)) {
                if (c == ' ') buf += "\xE2\x96\x81";
                else buf += c;
            }
            encode_spm(v, buf, out);
            prev_special = false;
        }
        if (options.add_special && v.add_eos) out.push_back(v.eos);
        break;
    }
    case Model::bpe:
        if (options.add_special && v.add_bos) out.push_back(v.bos);
        for (const Fragment &f : frags) {
            if (f.token != k_no_token) out.push_back(f.token);
            else encode_bpe(v, text.substr(f.off, f.len), out);
        }
        if (options.add_special && v.add_eos) out.push_back(v.eos);
        break;
    case Model::wpm:
        // BERT-style: [CLS] ... [SEP] whenever special tokens are requested.
        if (options.add_special) out.push_back(v.bos);
        for (const Fragment &f : frags) {
            if (f.token != k_no_token) out.push_back(f.token);
            else encode_wpm(v, text.substr(f.off, f.len), out);
        }
        if (options.add_special) out.push_back(v.sep);
        break;
    case Model::ugm:
        fail(Errc::unsupported, "encoding with a T5/Unigram vocabulary (tokenizer.ggml.model 't5') is not implemented");
    }
    return out;
}

// ---- decoding --------------------------------------------------------------------------------

namespace {

// llama.cpp's clean_up_tokenization_spaces: three in-place passes over the bytes. They are
// written in place on purpose: pass two blanks the space it skips, which the next step
// then sees (exact parity with upstream in corner cases).
std::string apply_clean_spaces(std::string t) {
    size_t total = t.size();
    const auto pass = [&](auto &&body) {
        const size_t n = total;
        total = n ? 1 : 0;
        for (size_t i = 1; i < n; ++i) body(i, n);
    };
    pass([&](size_t &i, size_t) {  // " ?" " !" " ." " ," lose the space
        const char x = t[i];
        if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
        t[total++] = x;
    });
    pass([&](size_t &i, size_t n) {  // " ' " loses both spaces
        const char x = t[i];
        if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
            --total;
            t[++i] = '\0';
        }
        t[total++] = x;
    });
    pass([&](size_t &i, size_t n) {  // " 's" " 'm" " 're" " 've" lose the space
        const char x = t[i];
        if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            const char x1 = t[i + 1];
            if (x1 == 's' || x1 == 'm') --total;
            else if (i + 2 < n && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e'))) --total;
        }
        t[total++] = x;
    });
    t.resize(total);
    return t;
}

std::string_view strip_one_space(std::string_view piece) {
    return (!piece.empty() && piece.front() == ' ') ? piece.substr(1) : piece;
}

}  // namespace

std::string Tokenizer::decode(std::span<const TokenId> ids, const DecodeOptions &options) const {
    const VocabImpl &v = *impl_;
    bool strip = v.add_space_prefix && options.strip_leading_space;
    if (options.remove_special && v.add_bos && !ids.empty() && ids.front() == v.bos) {
        strip = false;
        ids = ids.subspan(1);
    }
    if (options.remove_special && v.add_eos && !ids.empty() && ids.back() == v.eos) ids = ids.first(ids.size() - 1);
    std::string out;
    for (TokenId id : ids) {
        std::string_view piece = token_to_piece(id, options.unparse_special);
        if (strip) piece = strip_one_space(piece);
        strip = false;
        out += piece;
    }
    return options.clean_spaces ? apply_clean_spaces(std::move(out)) : out;
}

StreamDecoder::StreamDecoder(const Tokenizer &tok, DecodeOptions options) : tok_(&tok), options_(options) {}

void StreamDecoder::reset() {
    pending_.clear();
    first_ = true;
}

std::string StreamDecoder::push(TokenId id) {
    std::string_view piece;
    if (first_) {
        first_ = false;
        bool strip = tok_->add_space_prefix() && options_.strip_leading_space;
        if (options_.remove_special && tok_->add_bos() && id == tok_->bos()) {
            (void)tok_->token_to_piece(id);  // still validates the id
            return {};
        }
        piece = tok_->token_to_piece(id, options_.unparse_special);
        if (strip) piece = strip_one_space(piece);
    } else {
        piece = tok_->token_to_piece(id, options_.unparse_special);
    }
    pending_ += piece;
    // Emit everything except an unfinished UTF-8 character at the end; byte-fallback tokens
    // arrive one byte at a time, so a character may take several pushes to complete.
    const size_t hold = unicode::incomplete_utf8_tail(pending_);
    std::string ready = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return ready;
}

std::string StreamDecoder::flush() {
    std::string rest;
    rest.swap(pending_);
    return rest;
}

}  // namespace ember::tokenizer
