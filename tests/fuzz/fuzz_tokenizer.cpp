// fuzz_tokenizer - libFuzzer entry point for the tokenizer: arbitrary text through every
// model and pre-tokenizer preset, and arbitrary small vocabulary metadata.
//
// First byte: 0 SPM, 1 BPE (second byte picks the preset), 2 WordPiece, 3 metadata. Text
// modes must never fail; they check that streaming decode equals whole decode and, where
// the vocabulary is lossless for the input, that decode(encode(s)) == s. Metadata mode
// must either build a tokenizer that then encodes and decodes, or throw ember::Error.
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

#include "../unit/tokenizer_fixture.hpp"

#include <ember/error.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace ember::tokenizer;

constexpr std::array<const char *, 18> k_presets = {
    "gpt-2",  "llama-bpe", "qwen2",  "qwen35", "default", "starcoder", "deepseek-coder", "deepseek-llm", "falcon",
    "bloom",  "viking",    "smollm", "mpt",    "refact",  "dbrx",      "stablelm2",      "poro-chat",    "gemma4"};

const Tokenizer &spm() {
    static const Tokenizer t(ember::test::spm_vocab());
    return t;
}
const Tokenizer &wpm() {
    static const Tokenizer t(ember::test::wpm_vocab());
    return t;
}
const Tokenizer &bpe(size_t i) {
    static std::array<std::unique_ptr<Tokenizer>, k_presets.size()> cache;
    if (!cache[i]) {
        auto d = ember::test::bpe_vocab(k_presets[i]);
        if (std::string_view(k_presets[i]) == "gemma4") {
            // Gemma 4 works on raw UTF-8 with <0xHH> byte tokens.
            d.model = "gemma4";
            for (int b = 0; b < 256; ++b) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "<0x%02X>", b);
                d.tokens[b] = buf;
                d.types[b] = 6;
            }
            d.merges = {"a b", "\xE2\x96\x81 a"};
            d.tokens.push_back("ab");
            d.types.push_back(1);
            d.tokens.push_back("a");
            d.types.push_back(1);
            d.tokens.push_back("b");
            d.types.push_back(1);
            d.tokens.push_back("\xE2\x96\x81");
            d.types.push_back(1);
            d.tokens.push_back("\xE2\x96\x81" "a");
            d.types.push_back(1);
        }
        cache[i] = std::make_unique<Tokenizer>(d);
    }
    return *cache[i];
}

// Strict UTF-8 (no overlongs, surrogates or values above U+10FFFF): what BPE reproduces.
bool strict_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const uint8_t b = uint8_t(s[i]);
        size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        uint32_t cp = n == 1 ? b : b & (0x7F >> n);
        for (size_t k = 1; k < n; ++k) {
            if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
        }
        static constexpr uint32_t k_min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < k_min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

void check_text(const Tokenizer &tok, std::string_view text, uint8_t flags, bool lossless) {
    const EncodeOptions opt{.add_special = (flags & 1) != 0, .parse_special = (flags & 2) != 0};
    const auto ids = tok.encode(text, opt);
    for (TokenId id : ids)
        if (id < 0 || size_t(id) >= tok.vocab_size()) std::abort();
    const DecodeOptions dopt{.remove_special = (flags & 4) != 0, .unparse_special = (flags & 8) != 0};
    const std::string whole = tok.decode(ids, dopt);
    StreamDecoder stream(tok, dopt);
    std::string streamed;
    std::vector<size_t> cuts;
    for (TokenId id : ids) {
        streamed += stream.push(id);
        cuts.push_back(streamed.size());
    }
    streamed += stream.flush();
    // decode() drops a final EOS under remove_special; a stream cannot know which is last.
    const bool final_eos = dopt.remove_special && tok.add_eos() && !ids.empty() && ids.back() == tok.eos();
    if (!final_eos && streamed != whole) std::abort();
    // No cut may fall inside a well-formed character of the output (half a character).
    for (size_t cut : cuts)
        for (size_t back = 1; !final_eos && back <= 3 && back <= cut; ++back) {
            const size_t start = cut - back;
            const size_t len = ember::tokenizer::unicode::utf8_len(uint8_t(whole[start]));
            if (len > back && start + len <= whole.size() && strict_utf8(std::string_view(whole).substr(start, len)))
                std::abort();
        }
    (void)tok.decode(ids, {.clean_spaces = true});
    if (lossless && !opt.add_special && !opt.parse_special && tok.decode(ids) != text) std::abort();
}

// ---- metadata mode: a tiny vocabulary described by the input bytes -----------------------

struct Reader {
    const uint8_t *p, *end;
    uint8_t byte() { return p < end ? *p++ : 0; }
    std::string str() {
        std::string s;
        while (p < end && *p != 0 && s.size() < 16) s.push_back(char(*p++));
        if (p < end && *p == 0) ++p;
        return s;
    }
};

void fuzz_metadata(const uint8_t *data, size_t size) {
    Reader r{data, data + size};
    static constexpr const char *k_models[] = {"llama", "gpt2", "bert", "gemma4", "t5", "bogus"};
    VocabData d;
    d.model = k_models[r.byte() % 6];
    d.pre = k_presets[r.byte() % k_presets.size()];
    const size_t n = r.byte() % 48 + 1;
    for (size_t i = 0; i < n; ++i) {
        d.tokens.push_back(r.str());
        d.types.push_back(int32_t(r.byte() % 8));
        d.scores.push_back(float(int8_t(r.byte())));
    }
    const size_t n_merges = r.byte() % 16;
    for (size_t i = 0; i < n_merges; ++i) {
        const std::string &a = d.tokens[r.byte() % n];
        const std::string &b = d.tokens[r.byte() % n];
        d.merges.push_back(a + " " + b);
    }
    const auto maybe_id = [&]() -> std::optional<int64_t> {
        const uint8_t b = r.byte();
        if (b < 64) return std::nullopt;
        return int64_t(b) - 80;  // some negative, some past the end
    };
    d.bos = maybe_id();
    d.eos = maybe_id();
    d.unk = maybe_id();
    d.sep = maybe_id();
    const uint8_t fl = r.byte();
    if (fl & 1) d.add_bos = (fl & 2) != 0;
    if (fl & 4) d.add_eos = (fl & 8) != 0;
    if (fl & 16) d.add_space_prefix = (fl & 32) != 0;
    const std::string_view text(reinterpret_cast<const char *>(r.p), size_t(r.end - r.p));
    try {
        const Tokenizer tok(std::move(d));
        check_text(tok, text, fl >> 4, false);
    } catch (const ember::Error &) {
        // refused metadata (or an unsupported model): the expected outcome for most inputs
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const uint8_t mode = data[0] % 4, arg = data[1];
    const std::string_view text(reinterpret_cast<const char *>(data + 2), size - 2);
    const bool has_user_token = text.find("<tool>") != std::string_view::npos;
    switch (mode) {
    case 0:
        // SPM keeps every byte, but an invalid sequence can swallow the first byte of the
        // U+2581 that stands for a following space (as upstream), so only valid text round-trips.
        check_text(spm(), text, arg,
                   !has_user_token && strict_utf8(text) && text.find("\xE2\x96\x81") == std::string_view::npos);
        break;
    case 1: {
        const size_t preset = (arg >> 4) % k_presets.size();
        const bool gemma = std::string_view(k_presets[preset]) == "gemma4";
        const bool lossless = !has_user_token && strict_utf8(text) &&
                              (!gemma || text.find("\xE2\x96\x81") == std::string_view::npos);
        check_text(bpe(preset), text, arg & 15, lossless);
        break;
    }
    case 2:
        check_text(wpm(), text, arg, false);
        break;
    default:
        fuzz_metadata(data + 1, size - 1);
        break;
    }
    return 0;
}
