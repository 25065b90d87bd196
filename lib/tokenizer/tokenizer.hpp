// tokenizer/tokenizer.hpp - text <-> token ids, from a GGUF's own tokenizer.ggml.* metadata.
//
// Three models, as llama.cpp implements them (token ids must match it exactly):
//   llama  SentencePiece-style: merges by score, byte fallback, optional leading space
//   gpt2   byte-level BPE with ranked merges after a preset pre-tokenizer (`pre`)
//   bert   WordPiece (longest match, lowercase and accent stripping)
// (and gemma4: BPE on raw UTF-8 with SentencePiece spaces.)
//
// Invalid UTF-8 in text to encode is never an error. SPM keeps every byte (unknown bytes
// go through the byte-fallback tokens; a byte with no token becomes <unk>). BPE and
// WordPiece work on code points decoded as llama.cpp does (overlong forms and surrogates
// pass): each byte that does not start a sequence stands for U+FFFD, so such input does not
// round-trip. A sequence decoding above U+10FFFF, where llama.cpp throws, is U+FFFD per byte. Decoding returns bytes; they are valid UTF-8 only if the tokens
// spell valid UTF-8, and StreamDecoder holds back an incomplete character until it completes.
//
// A Tokenizer is immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::gguf {
class File;
}

namespace ember::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId k_no_token = -1;

enum class Model { spm, bpe, wpm, ugm };

// GGUF token types (tokenizer.ggml.token_type), numbered as in the files.
enum class TokenType : int32_t {
    undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

// The tokenizer metadata, decoupled from GGUF so tests and fuzzers can build vocabularies.
struct VocabData {
    std::string model;  // tokenizer.ggml.model
    std::string pre;    // tokenizer.ggml.pre ("" when absent)
    std::vector<std::string> tokens;
    std::vector<float> scores;    // empty, or one per token
    std::vector<int32_t> types;   // empty, or one per token
    std::vector<std::string> merges;
    std::optional<int64_t> bos, eos, eot, eom, unk, sep, pad, mask;
    std::optional<int64_t> fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    std::optional<bool> add_bos, add_eos, add_space_prefix;
    std::optional<bool> lowercase, strip_accents;  // WordPiece normalizer
    std::string general_name;  // general.name: a few per-model token attributes key on it
    std::string architecture;

    // Reads every tokenizer.ggml.* key; throws Errc::tokenizer naming a key of wrong type.
    static VocabData from_gguf(const gguf::File &file);
};

struct EncodeOptions {
    bool add_special = true;     // add BOS/EOS as the model asks (add_bos / add_eos)
    bool parse_special = false;  // text spelling a control token becomes that token
};

struct DecodeOptions {
    bool remove_special = false;   // drop a leading BOS / trailing EOS the model would add
    bool unparse_special = false;  // render control/unknown tokens' text (else nothing)
    bool clean_spaces = false;     // llama.cpp's clean-up (" ." -> "."), for presets that use it
    // The ids start the text: drop the space SentencePiece put in front of the first word.
    // As in llama.cpp, only the very first token is stripped, so a leading BOS (rendered,
    // or removed by remove_special) keeps the space. Set false to continue a text.
    bool strip_leading_space = true;
};

struct VocabImpl;

class Tokenizer {
public:
    explicit Tokenizer(VocabData data);  // throws Errc::tokenizer / unsupported
    static Tokenizer from_gguf(const gguf::File &file);
    Tokenizer(Tokenizer &&) noexcept;
    Tokenizer &operator=(Tokenizer &&) noexcept;
    ~Tokenizer();

    std::vector<TokenId> encode(std::string_view text, const EncodeOptions &options = {}) const;
    std::string decode(std::span<const TokenId> ids, const DecodeOptions &options = {}) const;
    // The bytes of one token; control/unknown tokens give their text only when `special`.
    // Throws Errc::invalid_argument for an id outside the vocabulary.
    std::string_view token_to_piece(TokenId id, bool special = true) const;

    Model model() const;
    const std::string &model_name() const;  // as in the file: "llama", "gpt2", ...
    const std::string &pre_name() const;
    size_t vocab_size() const;
    std::string_view token_text(TokenId id) const;  // the vocabulary entry itself
    TokenType token_type(TokenId id) const;
    bool is_control(TokenId id) const;
    bool is_byte(TokenId id) const;
    bool is_eog(TokenId id) const;  // ends generation: EOS, EOT, EOM and their kin
    TokenId find(std::string_view text) const;  // k_no_token if absent

    TokenId bos() const;  // k_no_token if the model has none
    TokenId eos() const;
    TokenId eot() const;
    TokenId eom() const;
    TokenId unk() const;
    TokenId pad() const;
    TokenId sep() const;
    std::string_view bos_text() const;  // "" without one
    std::string_view eos_text() const;
    bool add_bos() const;
    bool add_eos() const;
    bool add_space_prefix() const;
    bool clean_spaces() const;  // the preset's own choice, for DecodeOptions::clean_spaces
    const std::vector<TokenId> &eog_ids() const;

    const VocabImpl &impl() const { return *impl_; }

private:
    std::unique_ptr<VocabImpl> impl_;
};

// Incremental decoding for streaming output: push ids one at a time and get the text they
// complete. Never returns part of a UTF-8 character; the concatenation of all push()
// results and flush() equals decode() of the same ids with the same options, except that
// clean_spaces is not applied and a final EOS is not dropped (remove_special), since a
// stream cannot know which token is the last.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer &tok, DecodeOptions options = {});
    std::string push(TokenId id);
    std::string flush();  // whatever is held back, even if it is not valid UTF-8
    void reset();

private:
    const Tokenizer *tok_;
    DecodeOptions options_;
    std::string pending_;
    bool first_ = true;
};

}  // namespace ember::tokenizer
