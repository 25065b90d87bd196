// tokenizer_fixture.hpp - small hand-made vocabularies for tokenizer tests and the fuzzer.
#pragma once

#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace ember::test {

// SentencePiece-style: <unk> <s> </s>, 256 byte tokens, a few scored pieces, one control
// token "<|user|>" and one user-defined "<tool>".
inline tokenizer::VocabData spm_vocab() {
    tokenizer::VocabData d;
    d.model = "llama";
    const auto add = [&](std::string text, float score, int32_t type) {
        d.tokens.push_back(std::move(text));
        d.scores.push_back(score);
        d.types.push_back(type);
    };
    add("<unk>", 0, 2);
    add("<s>", 0, 3);
    add("</s>", 0, 3);
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        add(buf, 0, 6);
    }
    float score = -1;
    for (const char *piece : {"\xE2\x96\x81", "a", "b", "c", "t", "h", "e", "\xE2\x96\x81t", "he", "\xE2\x96\x81the",
                              "ab", "\xE2\x96\x81" "ab", "abc", "\xE2\x96\x81\xE2\x96\x81", "\xC3\xA9", "x"})
        add(piece, score--, 1);
    add("<|user|>", 0, 3);
    add("<tool>", 0, 4);
    d.bos = 1;
    d.eos = 2;
    d.unk = 0;
    return d;
}

// Byte-level BPE over GPT-2's alphabet (every byte is a token, so any valid UTF-8 round
// trips), with a handful of merges and the preset given.
inline tokenizer::VocabData bpe_vocab(std::string pre = "gpt-2") {
    tokenizer::VocabData d;
    d.model = "gpt2";
    d.pre = std::move(pre);
    for (int b = 0; b < 256; ++b) d.tokens.push_back(tokenizer::unicode::byte_to_unicode(uint8_t(b)));
    d.types.assign(256, 1);
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"\xC4\xA0", "t"}, {"h", "e"}, {"\xC4\xA0t", "he"}, {"i", "n"}, {"\xC4\xA0", "a"}, {"e", "r"},
        {"1", "2"},        {"\xC4\xA0", "\xC4\xA0"}, {"o", "u"}, {"'", "s"}};
    for (const auto &[l, r] : merges) {
        d.merges.push_back(l + " " + r);
        d.tokens.push_back(l + r);
        d.types.push_back(1);
    }
    d.tokens.push_back("<|endoftext|>");
    d.types.push_back(3);
    d.tokens.push_back("<|im_end|>");
    d.types.push_back(3);
    d.tokens.push_back("<tool>");
    d.types.push_back(4);
    d.bos = d.eos = int64_t(d.tokens.size() - 3);
    return d;
}

// WordPiece: [PAD] [UNK] [CLS] [SEP] [MASK] and a few words.
inline tokenizer::VocabData wpm_vocab() {
    tokenizer::VocabData d;
    d.model = "bert";
    d.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "\xE2\x96\x81hello", "\xE2\x96\x81world", "\xE2\x96\x81" ",",
                "\xE2\x96\x81" "cafe", "\xE2\x96\x81" "a", "b"};
    d.types = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
    d.pad = 0;
    d.unk = 1;
    d.bos = 2;
    d.sep = 3;
    d.mask = 4;
    return d;
}

}  // namespace ember::test
