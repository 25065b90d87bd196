// The tokenizer's contract on hand-made vocabularies: metadata validation, special tokens,
// BOS/EOS, decoding, streaming, end-of-generation ids, invalid UTF-8.
#include "tokenizer/tokenizer.hpp"

#include "tokenizer_fixture.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace ember;
using namespace ember::tokenizer;
using ember::test::bpe_vocab;
using ember::test::spm_vocab;
using ember::test::wpm_vocab;

namespace {

// Runs fn and returns the error it throws (checking it is one).
template <class Fn>
Error error_of(Fn &&fn) {
    try {
        fn();
    } catch (const Error &e) {
        return e;
    }
    FAIL("no ember::Error thrown");
    return Error(Errc::internal, "");
}

std::string streamed(const Tokenizer &tok, const std::vector<TokenId> &ids, DecodeOptions opt = {}) {
    StreamDecoder s(tok, opt);
    std::string out;
    for (TokenId id : ids) {
        const std::string part = s.push(id);
        // Never half a character: every chunk is complete UTF-8 on its own.
        CHECK(unicode::incomplete_utf8_tail(part) == 0);
        out += part;
    }
    return out + s.flush();
}

}  // namespace

TEST_CASE("bad metadata is a clear tokenizer error") {
    SUBCASE("special id outside the vocabulary") {
        auto d = spm_vocab();
        d.eos = 100000;
        const Error e = error_of([&] { Tokenizer t(d); });
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("eos_token_id = 100000") != std::string::npos);
    }
    SUBCASE("-1 means no such token") {
        auto d = spm_vocab();
        d.eot = -1;
        d.pad = 0xFFFFFFFF;
        const Tokenizer t(d);
        CHECK(t.pad() == k_no_token);
    }
    SUBCASE("merge naming an unknown token") {
        auto d = bpe_vocab();
        d.merges.push_back("q zz");
        const Error e = error_of([&] { Tokenizer t(d); });
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("'zz'") != std::string::npos);
    }
    SUBCASE("merge without a separator") {
        auto d = bpe_vocab();
        d.merges.push_back("ab");
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
    SUBCASE("BPE without merges") {
        auto d = bpe_vocab();
        d.merges.clear();
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
    SUBCASE("byte token that does not spell a byte") {
        auto d = spm_vocab();
        d.tokens[3] = "<0xZZ>";
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
    SUBCASE("scores shorter than tokens") {
        auto d = spm_vocab();
        d.scores.resize(3);
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
    SUBCASE("unknown model and pre-tokenizer") {
        auto d = spm_vocab();
        d.model = "klingon";
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
        auto b = bpe_vocab("no-such-preset");
        CHECK(error_of([&] { Tokenizer t(b); }).code() == Errc::tokenizer);
        auto known = bpe_vocab("tekken");  // known upstream, not implemented here
        CHECK(error_of([&] { Tokenizer t(known); }).code() == Errc::unsupported);
    }
    SUBCASE("empty vocabulary") {
        VocabData d;
        d.model = "llama";
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
    SUBCASE("add_bos without a BOS token") {
        auto d = bpe_vocab();
        d.bos = -1;
        d.add_bos = true;
        CHECK(error_of([&] { Tokenizer t(d); }).code() == Errc::tokenizer);
    }
}

TEST_CASE("SPM: scores, byte fallback, leading space, BOS") {
    const Tokenizer tok(spm_vocab());
    CHECK(tok.model() == Model::spm);
    CHECK(tok.add_bos());
    CHECK_FALSE(tok.add_eos());
    const auto ids = tok.encode("the abc");
    REQUIRE(ids.size() >= 3);
    CHECK(ids.front() == tok.bos());
    CHECK(tok.token_text(ids[1]) == "\xE2\x96\x81the");
    // llama.cpp's rule: the phantom space is dropped only from the very first token, so a
    // leading BOS (rendered or removed) keeps it.
    CHECK(tok.decode(ids) == " the abc");
    CHECK(tok.decode(ids, {.unparse_special = true}) == "<s> the abc");
    CHECK(tok.decode(ids, {.remove_special = true}) == " the abc");
    const std::vector<TokenId> text_only(ids.begin() + 1, ids.end());
    CHECK(tok.decode(text_only) == "the abc");
    CHECK(tok.decode(text_only, {.strip_leading_space = false}) == " the abc");
    CHECK(streamed(tok, text_only) == "the abc");
    CHECK(streamed(tok, ids) == " the abc");

    // "ü" is not a piece: its two bytes go through <0xC3> <0xBC>.
    const auto u = tok.encode("\xC3\xBC", {.add_special = false});
    REQUIRE(u.size() == 3);
    CHECK(tok.token_text(u[1]) == "<0xC3>");
    CHECK(tok.token_text(u[2]) == "<0xBC>");
    CHECK(tok.is_byte(u[1]));
    CHECK(tok.token_to_piece(u[1]) == "\xC3");
    CHECK(tok.decode(u) == "\xC3\xBC");
    // The stream holds the first byte back until the character is whole.
    StreamDecoder s(tok);
    CHECK(s.push(u[0]) == "");  // the phantom space, stripped
    CHECK(s.push(u[1]) == "");
    CHECK(s.push(u[2]) == "\xC3\xBC");
    CHECK(s.flush() == "");
}

TEST_CASE("special tokens: parse_special and user-defined tokens") {
    const Tokenizer tok(spm_vocab());
    const TokenId user = tok.find("<|user|>");
    const TokenId tool = tok.find("<tool>");
    REQUIRE(user != k_no_token);
    REQUIRE(tool != k_no_token);
    const auto plain = tok.encode("<|user|>the", {.add_special = false, .parse_special = false});
    CHECK(std::find(plain.begin(), plain.end(), user) == plain.end());
    const auto parsed = tok.encode("<|user|>the", {.add_special = false, .parse_special = true});
    REQUIRE(parsed.size() >= 2);
    CHECK(parsed[0] == user);
    CHECK(tok.token_text(parsed[1]) == "\xE2\x96\x81the");  // a space is prefixed after a special token
    // User-defined tokens are split out even without parse_special.
    const auto t = tok.encode("a<tool>b", {.add_special = false});
    CHECK(std::find(t.begin(), t.end(), tool) != t.end());
    CHECK(tok.token_to_piece(user, false) == "");
    CHECK(tok.token_to_piece(user, true) == "<|user|>");
    CHECK(tok.token_to_piece(tool, false) == "<tool>");
}

TEST_CASE("BPE: merges by rank, round trips, streaming, EOG") {
    for (const char *pre : {"gpt-2", "llama-bpe", "qwen2", "default", "starcoder", "deepseek-coder", "deepseek-llm",
                            "falcon", "bloom", "viking", "qwen35", "smollm"}) {
        CAPTURE(pre);
        const Tokenizer tok(bpe_vocab(pre));
        const std::string text = "the 12 cat's \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80  \n\n end  ";
        const auto ids = tok.encode(text, {.add_special = false});
        CHECK(tok.decode(ids) == text);
        CHECK(streamed(tok, ids) == text);
    }
    const Tokenizer tok(bpe_vocab());
    const auto ids = tok.encode(" the", {.add_special = false});
    REQUIRE(ids.size() == 1);
    CHECK(tok.token_text(ids[0]) == "\xC4\xA0the");  // three merges: Ġ t, h e, Ġt he
    CHECK(tok.is_eog(tok.eos()));
    CHECK(tok.is_eog(tok.find("<|im_end|>")));  // recognised by its text
    CHECK(tok.eot() == tok.find("<|im_end|>"));
    CHECK_FALSE(tok.is_eog(ids[0]));
    CHECK(tok.eos_text() == "<|endoftext|>");
    // Invalid UTF-8 is defined: each bad byte stands for U+FFFD.
    const auto bad = tok.encode("a\xFF" "b", {.add_special = false});
    CHECK(tok.decode(bad) == "a\xEF\xBF\xBD" "b");
}

TEST_CASE("clean_spaces follows llama.cpp's detokenizer") {
    const Tokenizer tok(bpe_vocab());
    const auto ids = tok.encode("Hello , world . it 's ' ok '", {.add_special = false});
    CHECK(tok.decode(ids, {.clean_spaces = true}) == "Hello, world. it's'ok '");
    CHECK(tok.decode(ids) == "Hello , world . it 's ' ok '");
}

TEST_CASE("WordPiece: CLS/SEP, lowercase, accents, unknown words") {
    const Tokenizer tok(wpm_vocab());
    const auto ids = tok.encode("Hello, WORLD caf\xC3\xA9 zzz");
    const std::vector<TokenId> expected = {2, 5, 7, 6, 8, 1, 3};
    CHECK(ids == expected);
}

TEST_CASE("ids outside the vocabulary are refused, not read") {
    const Tokenizer tok(spm_vocab());
    CHECK(error_of([&] { (void)tok.token_to_piece(-5); }).code() == Errc::invalid_argument);
    const std::vector<TokenId> ids = {1, int(tok.vocab_size())};
    CHECK(error_of([&] { (void)tok.decode(ids); }).code() == Errc::invalid_argument);
    StreamDecoder s(tok);
    CHECK(error_of([&] { (void)s.push(123456); }).code() == Errc::invalid_argument);
}
