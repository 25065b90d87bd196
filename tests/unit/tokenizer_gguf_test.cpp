// Reading tokenizer.ggml.* from GGUF files: every key lands where it should, and a key of
// the wrong type or an id out of range is an Errc::tokenizer error that names the key.
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "tokenizer/tokenizer.hpp"

#include "tokenizer_fixture.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ember;
using namespace ember::tokenizer;

namespace {

// The SPM fixture written as a GGUF file, before `tweak` changes it.
template <class Tweak>
std::vector<uint8_t> spm_file(Tweak &&tweak) {
    const VocabData d = test::spm_vocab();
    gguf::Writer w;
    w.set_string(gguf::key::architecture, "llama");
    w.set_string(gguf::key::tokenizer_model, d.model);
    w.set_string_array(gguf::key::tokenizer_tokens, std::span<const std::string>(d.tokens));
    w.set_array<float>(gguf::key::tokenizer_scores, std::span<const float>(d.scores));
    w.set_array<int32_t>(gguf::key::tokenizer_token_type, std::span<const int32_t>(d.types));
    w.set_u32(gguf::key::tokenizer_bos_id, 1);
    w.set_u32(gguf::key::tokenizer_eos_id, 2);
    w.set_u32(gguf::key::tokenizer_unk_id, 0);
    w.set_bool(gguf::key::tokenizer_add_bos, true);
    tweak(w);
    return w.to_bytes();
}

Error load_error(const std::vector<uint8_t> &bytes) {
    const gguf::File f = gguf::File::parse(bytes, "tweaked.gguf");
    try {
        Tokenizer t = Tokenizer::from_gguf(f);
    } catch (const Error &e) {
        return e;
    }
    FAIL("no ember::Error thrown");
    return Error(Errc::internal, "");
}

}  // namespace

TEST_CASE("a GGUF's tokenizer metadata gives the same tokenizer as the same data in memory") {
    const auto bytes = spm_file([](gguf::Writer &) {});
    const gguf::File f = gguf::File::parse(bytes, "spm.gguf");
    const Tokenizer from_file = Tokenizer::from_gguf(f);
    const Tokenizer in_memory(test::spm_vocab());
    CHECK(from_file.vocab_size() == in_memory.vocab_size());
    CHECK(from_file.bos() == 1);
    CHECK(from_file.eos() == 2);
    CHECK(from_file.add_bos());
    for (const char *text : {"the abc", "\xC3\xBC x <|user|>", ""})
        CHECK(from_file.encode(text, {.parse_special = true}) == in_memory.encode(text, {.parse_special = true}));
}

TEST_CASE("wrong types and bad ids in the file are named") {
    SUBCASE("tokens that are not strings") {
        const Error e = load_error(spm_file([](gguf::Writer &w) {
            const std::vector<uint32_t> nums = {1, 2, 3};
            w.set_array<uint32_t>(gguf::key::tokenizer_tokens, std::span<const uint32_t>(nums));
        }));
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("tokenizer.ggml.tokens") != std::string::npos);
    }
    SUBCASE("an id that is a string") {
        const Error e = load_error(spm_file([](gguf::Writer &w) { w.set_string(gguf::key::tokenizer_eos_id, "2"); }));
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("eos_token_id") != std::string::npos);
    }
    SUBCASE("an id past the vocabulary") {
        const Error e = load_error(spm_file([](gguf::Writer &w) { w.set_u32(gguf::key::tokenizer_bos_id, 99999); }));
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("99999") != std::string::npos);
    }
    SUBCASE("no tokenizer at all") {
        const Error e = load_error(spm_file([](gguf::Writer &w) { w.remove(gguf::key::tokenizer_model); }));
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("tokenizer.ggml.model") != std::string::npos);
    }
    SUBCASE("token types of the wrong element type") {
        const Error e = load_error(spm_file([](gguf::Writer &w) {
            const std::vector<float> t(300, 1.0f);
            w.set_array<float>(gguf::key::tokenizer_token_type, std::span<const float>(t));
        }));
        CHECK(e.code() == Errc::tokenizer);
        CHECK(std::string(e.what()).find("token_type") != std::string::npos);
    }
    SUBCASE("add_bos_token that is not a bool") {
        const Error e = load_error(spm_file([](gguf::Writer &w) { w.set_u8(gguf::key::tokenizer_add_bos, 1); }));
        CHECK(e.code() == Errc::tokenizer);
    }
}
