// tokenizer/tokenizer.cpp - building a vocabulary from metadata, with llama.cpp's defaults.
//
// Everything a file says is checked here, once: ids in range, merges that name tokens,
// byte tokens that spell a byte. The encoders then trust the tables.
#include "core/fail.hpp"
#include "tokenizer/unicode.hpp"
#include "tokenizer/vocab_impl.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace ember::tokenizer {
namespace {

namespace uc = unicode;

uint32_t attr_from_type(int32_t type) {
    switch (TokenType(type)) {
    case TokenType::unknown: return attr_unknown;
    case TokenType::unused: return attr_unused;
    case TokenType::normal: return attr_normal;
    case TokenType::control: return attr_control;
    case TokenType::user_defined: return attr_user_defined;
    case TokenType::byte: return attr_byte;
    default: return 0;  // undefined: rendered as nothing, like upstream
    }
}

int parse_byte_token(std::string_view t) {
    if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
    int v = 0;
    for (char c : t.substr(3, 2)) {
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else return -1;
    }
    return v;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out.append(to);
    }
    out.append(s, pos);
    return out;
}

// GPT-2's byte alphabet back to bytes; a code point outside it is kept visibly.
std::string gpt2_decode(std::string_view text) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = pos;
        const uint32_t cp = uc::decode_one(text, pos);
        const int b = uc::unicode_to_byte(cp);
        if (b >= 0) {
            out.push_back(char(b));
            continue;
        }
        out += "[UNK_BYTE_0x";
        for (size_t i = start; i < pos; ++i) out += fmt::format("{:02x}", uint8_t(text[i]));
        out += text;
        out += "]";
    }
    return out;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

}  // namespace

Tokenizer::Tokenizer(VocabData d) : impl_(std::make_unique<VocabImpl>()) {
    VocabImpl &v = *impl_;
    v.model_name = d.model;
    v.pre_name = d.pre;

    // ---- model and its defaults ----------------------------------------------------------
    struct Defaults {
        TokenId bos = k_no_token, eos = k_no_token, unk = k_no_token, sep = k_no_token, pad = k_no_token,
                mask = k_no_token;
    } def;
    if (d.model == "llama") {
        v.model = Model::spm;
        def = {1, 2, 0, k_no_token, k_no_token, k_no_token};
        v.add_space_prefix = true;
        v.add_bos = true;
    } else if (d.model == "bert") {
        v.model = Model::wpm;
        def = {101, k_no_token, 100, 102, 0, 103};
        v.add_bos = true;
        v.add_sep = true;
        v.clean_spaces = true;
    } else if (d.model == "gpt2" || d.model == "gemma4") {
        v.model = Model::bpe;
        if (d.model == "gemma4") v.pre_name = "gemma4";
        else def.bos = def.eos = 11;
        v.preset = preset_for(v.pre_name);
        v.escape_whitespace = v.preset.escape_whitespace;
        v.clean_spaces = v.preset.clean_spaces;
        v.ignore_merges = v.preset.ignore_merges;
        v.add_bos = v.preset.add_bos;
        if (v.pre_name == "glm4" || v.pre_name == "chatglm-bpe") def.bos = k_no_token;
    } else if (d.model == "t5") {
        v.model = Model::ugm;
        def = {k_no_token, 1, 2, k_no_token, 0, k_no_token};
        v.add_eos = true;
    } else if (d.model == "no_vocab" || d.model == "none") {
        fail(Errc::unsupported, "tokenizer.ggml.model '{}': the model has no vocabulary", d.model);
    } else if (d.model == "rwkv" || d.model == "plamo2" || d.model == "hybriddna" || d.model == "whitespace") {
        fail(Errc::unsupported, "tokenizer.ggml.model '{}' is not implemented by ember", d.model);
    } else {
        fail(Errc::tokenizer, "tokenizer.ggml.model '{}' is not a known tokenizer model", d.model);
    }
    if (d.add_space_prefix) v.add_space_prefix = *d.add_space_prefix;

    // ---- tokens ---------------------------------------------------------------------------
    const size_t n = d.tokens.size();
    if (n == 0) fail(Errc::tokenizer, "tokenizer.ggml.tokens is empty");
    if (n > size_t(std::numeric_limits<int32_t>::max()))
        fail(Errc::tokenizer, "tokenizer.ggml.tokens has {} entries, more than token ids can number", n);
    if (!d.scores.empty() && d.scores.size() < n)
        fail(Errc::tokenizer, "tokenizer.ggml.scores has {} entries for {} tokens", d.scores.size(), n);
    if (!d.types.empty() && d.types.size() < n)
        fail(Errc::tokenizer, "tokenizer.ggml.token_type has {} entries for {} tokens", d.types.size(), n);
    v.tokens.resize(n);
    for (size_t i = 0; i < n; ++i) {
        TokenData &t = v.tokens[i];
        t.text = d.tokens[i].empty() ? fmt::format("[EMPTY_{}]", i) : std::move(d.tokens[i]);
        t.score = d.scores.empty() ? 0.0f : d.scores[i];
        t.type = d.types.empty() ? TokenType::normal : TokenType(d.types[i]);
        t.attr = d.types.empty() ? attr_normal : attr_from_type(d.types[i]);
        v.max_token_len = std::max(v.max_token_len, t.text.size());
        if (t.attr & attr_byte) {
            t.byte_value = parse_byte_token(t.text);
            if (t.byte_value < 0 && v.model != Model::wpm)
                fail(Errc::tokenizer, "token {} has type byte but its text '{}' is not <0xHH>", i, t.text);
        }
    }

    v.to_id.build(TokenTexts{&v.tokens}, n);  // a repeated text maps to its last id, as upstream

    // ---- SPM: can text be cut before each word (see encode_spm)? --------------------------
    if (v.model == Model::spm) {
        constexpr std::string_view space = "\xE2\x96\x81";
        v.spm_split_at_words = std::none_of(v.tokens.begin(), v.tokens.end(), [&](const TokenData &t) {
            for (size_t p = t.text.find(space, 1); p != std::string::npos; p = t.text.find(space, p + 1))
                if (p < 3 || std::string_view(t.text).substr(p - 3, 3) != space) return true;
            return false;
        });
    }

    // ---- BPE merges -----------------------------------------------------------------------
    if (v.model == Model::bpe) {
        if (d.merges.empty()) fail(Errc::tokenizer, "tokenizer.ggml.merges is missing or empty (needed by BPE)");
        v.merges.reserve(d.merges.size());  // the first of repeated merges wins
        for (size_t i = 0; i < d.merges.size(); ++i) {
            const std::string &m = d.merges[i];
            const size_t sp = m.find(' ', 1);
            if (sp == std::string::npos)
                fail(Errc::tokenizer, "tokenizer.ggml.merges[{}] '{}' is not two tokens separated by a space", i, m);
            const std::string_view left = std::string_view(m).substr(0, sp), right = std::string_view(m).substr(sp + 1);
            const TokenId l = v.find(left), r = v.find(right), res = v.find(std::string(left) + std::string(right));
            if (l == k_no_token || r == k_no_token || res == k_no_token)
                fail(Errc::tokenizer, "tokenizer.ggml.merges[{}] '{}' names '{}', which is not in the vocabulary", i, m,
                     l == k_no_token ? std::string(left) : r == k_no_token ? std::string(right)
                                                                            : std::string(left) + std::string(right));
            if (i > size_t(std::numeric_limits<int32_t>::max())) fail(Errc::tokenizer, "too many merges");
            v.merges.insert((uint64_t(uint32_t(l)) << 32) | uint32_t(r), int32_t(i), res);
        }
    }

    // ---- byte fallback table --------------------------------------------------------------
    v.byte_tokens.fill(k_no_token);
    for (int b = 0; b < 256; ++b) {
        TokenId id = v.find(fmt::format("<0x{:02X}>", b));
        if (id == k_no_token && v.model != Model::bpe) id = v.find(std::string(1, char(b)));
        v.byte_tokens[b] = id;
    }

    // ---- special ids: defaults quietly dropped if out of range, file values must fit -------
    const auto pick = [&](const std::optional<int64_t> &given, TokenId fallback, std::string_view key) -> TokenId {
        // -1 (often stored as u32 0xFFFFFFFF) is how converters write "no such token".
        if (given && (*given == -1 || *given == int64_t(UINT32_MAX))) return k_no_token;
        if (given) {
            if (*given < 0 || uint64_t(*given) >= n)
                fail(Errc::tokenizer, "tokenizer.ggml.{} = {} is outside the vocabulary (size {})", key, *given, n);
            return TokenId(*given);
        }
        return (fallback >= 0 && size_t(fallback) < n) ? fallback : k_no_token;
    };
    v.bos = pick(d.bos, def.bos, "bos_token_id");
    v.eos = pick(d.eos, def.eos, "eos_token_id");
    v.eot = pick(d.eot, k_no_token, "eot_token_id");
    v.eom = pick(d.eom, k_no_token, "eom_token_id");
    v.unk = pick(d.unk, def.unk, "unknown_token_id");
    v.sep = pick(d.sep, def.sep, "seperator_token_id");
    v.pad = pick(d.pad, def.pad, "padding_token_id");
    v.mask = pick(d.mask, def.mask, "mask_token_id");
    v.fim_pre = pick(d.fim_pre, k_no_token, "fim_pre_token_id");
    v.fim_suf = pick(d.fim_suf, k_no_token, "fim_suf_token_id");
    v.fim_mid = pick(d.fim_mid, k_no_token, "fim_mid_token_id");
    v.fim_pad = pick(d.fim_pad, k_no_token, "fim_pad_token_id");
    v.fim_rep = pick(d.fim_rep, k_no_token, "fim_rep_token_id");
    v.fim_sep = pick(d.fim_sep, k_no_token, "fim_sep_token_id");
    if (d.add_bos) v.add_bos = *d.add_bos;
    if (d.add_eos) v.add_eos = *d.add_eos;
    if (v.model == Model::bpe && v.pre_name == "gemma4") v.add_bos = true;  // upstream overrides Gemma 4 files
    if (d.lowercase) v.lowercase = *d.lowercase;
    v.strip_accents = d.strip_accents.value_or(v.lowercase);
    if (v.add_bos && v.bos == k_no_token && v.model != Model::wpm)
        fail(Errc::tokenizer, "the vocabulary asks for a BOS token (add_bos_token) but has none");
    if (v.add_eos && v.eos == k_no_token) fail(Errc::tokenizer, "the vocabulary asks for an EOS token (add_eos_token) but has none");
    if (v.model == Model::wpm && (v.bos == k_no_token || v.sep == k_no_token))
        fail(Errc::tokenizer, "a WordPiece vocabulary needs CLS (bos) and SEP tokens");

    // ---- tokens recognised by their text (upstream: the files do not mark them) ------------
    const auto mark_control = [&](TokenId id) { v.tokens[id].attr |= attr_control; };
    // The first name in each list that the vocabulary has wins (Qwen has both <|im_end|> and
    // <|endoftext|>; the turn end is the former, as llama.cpp ends up choosing).
    const auto detect = [&](TokenId &slot, std::initializer_list<std::string_view> names) {
        if (slot != k_no_token) return;
        for (std::string_view name : names)
            if (const TokenId id = v.find(name); id != k_no_token) {
                slot = id;
                mark_control(id);
                return;
            }
    };
    detect(v.eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
                   "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"});
    detect(v.eom, {"<|eom_id|>"});
    detect(v.fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
                       "<|code_prefix|>", "<|prefix|>"});
    detect(v.fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
                       "<|code_suffix|>", "<|suffix|>"});
    detect(v.fim_mid, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
                       "<|code_middle|>", "<|middle|>"});
    detect(v.fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"});
    detect(v.fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
    detect(v.fim_sep, {"<|file_sep|>"});
    for (TokenData &t : v.tokens)
        if ((t.attr & attr_control) && contains(t.text, "unused")) t.attr |= attr_unused;

    // ---- end-of-generation set --------------------------------------------------------------
    static constexpr std::string_view k_eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["};
    std::vector<TokenId> eog;
    for (TokenId id : {v.fim_pad, v.fim_rep, v.fim_sep, v.eos, v.eot, v.eom})
        if (id != k_no_token) eog.push_back(id);
    for (std::string_view t : k_eog_texts)
        if (const TokenId id = v.find(t); id != k_no_token) {
            eog.push_back(id);
            mark_control(id);
        }
    std::sort(eog.begin(), eog.end());
    eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
    const auto eog_with_text = [&](std::string_view t) {
        for (TokenId id : eog)
            if (v.tokens[id].text == t) return id;
        return k_no_token;
    };
    // Harmony-style vocabularies end a message with <|end|> but keep generating after it.
    if (const TokenId end = eog_with_text("<|end|>"); end != k_no_token) {
        const bool harmony = eog_with_text("<|return|>") != k_no_token && eog_with_text("<|call|>") != k_no_token;
        const bool solar = eog_with_text("<|calls|>") != k_no_token && eog_with_text("<|flush|>") != k_no_token;
        if (harmony || solar) {
            eog.erase(std::find(eog.begin(), eog.end(), end));
            v.tokens[end].attr = attr_user_defined;
        }
    }
    if (const TokenId s = eog_with_text("</s>"); s != k_no_token && eog_with_text("<|tool_response>") != k_no_token) {
        eog.erase(std::find(eog.begin(), eog.end(), s));
        v.tokens[s].attr = attr_normal;
    }
    for (TokenData &t : v.tokens)
        if (t.text == "<|channel|>" || t.text == "<|message|>" || t.text == "<|start|>" || t.text == "<|constrain|>")
            t.attr = attr_user_defined;
    v.eog = std::move(eog);

    // ---- special tokens that are split out of text before encoding, longest first ----------
    for (TokenId id = 0; id < TokenId(n); ++id)
        if (v.tokens[id].attr & (attr_control | attr_user_defined | attr_unknown)) v.special_by_len.push_back(id);
    std::stable_sort(v.special_by_len.begin(), v.special_by_len.end(),
                     [&](TokenId a, TokenId b) { return v.tokens[a].text.size() > v.tokens[b].text.size(); });

    // ---- rendered pieces --------------------------------------------------------------------
    for (TokenData &t : v.tokens) {
        if (t.attr & (attr_unknown | attr_control | attr_user_defined)) {
            t.piece = t.text;
        } else if (t.attr & attr_normal) {
            if (v.model == Model::bpe && !v.escape_whitespace) t.piece = gpt2_decode(t.text);
            else t.piece = replace_all(t.text, "\xE2\x96\x81", " ");
        } else if ((t.attr & attr_byte) && t.byte_value >= 0) {
            t.piece = std::string(1, char(t.byte_value));
        }
    }

    // ---- per-model strip attributes (after the special list, as upstream) -------------------
    std::string name = d.general_name;
    for (char &c : name) c = char(std::tolower(uint8_t(c)));
    const auto set_attr = [&](std::string_view text, uint32_t a, bool on) {
        const TokenId id = v.find(text);
        if (id == k_no_token) return;
        v.tokens[id].attr = on ? (v.tokens[id].attr | a) : (v.tokens[id].attr & ~a);
    };
    if (contains(v.pre_name, "jina-v2-de") || contains(v.pre_name, "jina-v2-es") || contains(v.pre_name, "jina-v2-code") ||
        contains(d.architecture, "nomic-bert-moe") || contains(d.architecture, "jina-bert-v3")) {
        set_attr("<mask>", attr_lstrip, true);
    } else if (contains(name, "phi-3") || contains(name, "phi3")) {
        for (TokenId id : v.special_by_len) v.tokens[id].attr |= attr_rstrip;
        set_attr("</s>", attr_rstrip, true);
        for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set_attr(t, attr_rstrip, false);
    } else if (contains(name, "modern-bert")) {
        set_attr("[MASK]", attr_lstrip, true);
    }
}

Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
Tokenizer &Tokenizer::operator=(Tokenizer &&) noexcept = default;
Tokenizer::~Tokenizer() = default;

// ---- accessors ------------------------------------------------------------------------------

namespace {
const TokenData &token_at(const VocabImpl &v, TokenId id) {
    if (id < 0 || size_t(id) >= v.tokens.size())
        fail(Errc::invalid_argument, "token id {} is outside the vocabulary (size {})", id, v.tokens.size());
    return v.tokens[size_t(id)];
}
}  // namespace

Model Tokenizer::model() const { return impl_->model; }
const std::string &Tokenizer::model_name() const { return impl_->model_name; }
const std::string &Tokenizer::pre_name() const { return impl_->pre_name; }
size_t Tokenizer::vocab_size() const { return impl_->tokens.size(); }
std::string_view Tokenizer::token_text(TokenId id) const { return token_at(*impl_, id).text; }
TokenType Tokenizer::token_type(TokenId id) const { return token_at(*impl_, id).type; }
bool Tokenizer::is_control(TokenId id) const { return (token_at(*impl_, id).attr & attr_control) != 0; }
bool Tokenizer::is_byte(TokenId id) const { return (token_at(*impl_, id).attr & attr_byte) != 0; }
bool Tokenizer::is_eog(TokenId id) const { return std::binary_search(impl_->eog.begin(), impl_->eog.end(), id); }
TokenId Tokenizer::find(std::string_view text) const { return impl_->find(text); }
TokenId Tokenizer::bos() const { return impl_->bos; }
TokenId Tokenizer::eos() const { return impl_->eos; }
TokenId Tokenizer::eot() const { return impl_->eot; }
TokenId Tokenizer::eom() const { return impl_->eom; }
TokenId Tokenizer::unk() const { return impl_->unk; }
TokenId Tokenizer::pad() const { return impl_->pad; }
TokenId Tokenizer::sep() const { return impl_->sep; }
std::string_view Tokenizer::bos_text() const {
    return impl_->bos == k_no_token ? std::string_view() : std::string_view(impl_->tokens[impl_->bos].text);
}
std::string_view Tokenizer::eos_text() const {
    return impl_->eos == k_no_token ? std::string_view() : std::string_view(impl_->tokens[impl_->eos].text);
}
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
bool Tokenizer::add_space_prefix() const { return impl_->add_space_prefix; }
bool Tokenizer::clean_spaces() const { return impl_->clean_spaces; }
const std::vector<TokenId> &Tokenizer::eog_ids() const { return impl_->eog; }

std::string_view Tokenizer::token_to_piece(TokenId id, bool special) const {
    const TokenData &t = token_at(*impl_, id);
    if (!special && (t.attr & (attr_unknown | attr_control))) return {};
    return t.piece;
}

}  // namespace ember::tokenizer
