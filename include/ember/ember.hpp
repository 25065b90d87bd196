// ember/ember.hpp - the C++ API: load a GGUF model, open a session, generate text.
//
//   ember::Model model = ember::Model::load("model.gguf");
//   ember::Session session(model, {.n_ctx = 2048});
//   ember::Chat chat(session);
//   chat.send("Why is the sky blue?", {}, [](std::string_view text) {
//       std::fwrite(text.data(), 1, text.size(), stdout);
//       return true;  // false stops the answer
//   });
//
// Errors are ember::Error (error.hpp) with a code and a message naming what is wrong.
// Threads: a Model is immutable once loaded and may be shared by any number of threads and
// sessions (copies share the same weights). A Session is used by one thread at a time;
// Session::cancel() is the one call any thread may make. Determinism: the same model,
// prompt, options and seed give the same tokens whatever the thread count, the batching
// of the prompt, or the CPU's instruction set (every kernel family computes the same bits).
//
// This header includes only the standard library. Classes hold a pointer to their
// implementation, so adding private state never changes their layout.
#pragma once

#include <ember/error.hpp>
#include <ember/export.hpp>
#include <ember/version.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ember {

using Token = int32_t;

namespace detail {
struct ModelAccess;  // how the library reaches a Model's internals
}

// ---- Model -----------------------------------------------------------------------------

enum class LoadMode {
    mmap = 0,         // map the file and use weights in place (default; fastest to load)
    mmap_locked = 1,  // map and lock in RAM so the OS cannot evict idle weights
    read = 2,         // copy the file into anonymous memory (immune to page-cache eviction)
};

struct LoadOptions {
    LoadMode mode = LoadMode::mmap;
    // Called with the fraction loaded, from 0 to 1, on the loading thread. Returning false
    // cancels: load() then throws Error(Errc::cancelled).
    std::function<bool(float fraction)> progress;
};

// Special tokens of the vocabulary; -1 where the model has none.
struct SpecialTokens {
    Token bos = -1;  // beginning of sequence
    Token eos = -1;  // end of sequence
    Token eot = -1;  // end of turn (chat models)
    Token pad = -1;
    Token unk = -1;
};

struct TensorTypeCount {
    std::string type;  // ggml type name: "f32", "q4_0", "q6_k" ...
    uint32_t tensors = 0;
    uint64_t bytes = 0;
};

struct ModelInfo {
    std::string path;
    std::string architecture;  // general.architecture: "llama", "qwen2", "gemma3" ...
    std::string name;          // general.name, or "" when the file has none
    uint64_t n_params = 0;     // weights, counted from the tensor shapes
    uint64_t n_bytes = 0;      // bytes of tensor data
    uint32_t context_length = 0;  // the context the model was trained for
    uint32_t n_vocab = 0;
    uint32_t n_layer = 0;
    uint32_t n_embd = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    std::vector<TensorTypeCount> tensor_types;  // most bytes first
    bool has_chat_template = false;  // false: chat falls back to ChatML
    SpecialTokens special;
};

// One turn of a conversation. role is "system", "user" or "assistant" (templates may
// accept others, such as "tool").
struct Message {
    std::string role;
    std::string content;
};

class EMBER_API Model {
public:
    // Open, validate and bind a GGUF file. Throws Error: io (cannot open/read),
    // invalid_file (not GGUF or malformed), unsupported (architecture or tensor type),
    // invalid_model (tensors do not fit the architecture), cancelled (progress said stop).
    static Model load(const std::string &path, const LoadOptions &options = {});

    Model(const Model &) noexcept;  // cheap: copies share the loaded weights
    Model &operator=(const Model &) noexcept;
    Model(Model &&) noexcept;
    Model &operator=(Model &&) noexcept;
    ~Model();

    const ModelInfo &info() const noexcept;

    // Text to tokens. add_special: prepend BOS (and append EOS) as the model's metadata
    // asks. parse_special: "<|im_start|>" and the like become their special tokens rather
    // than plain text (use for templated chat text, never for untrusted user input).
    std::vector<Token> tokenize(std::string_view text, bool add_special = true,
                                bool parse_special = false) const;
    // Tokens to text, as llama_detokenize does. Special tokens (BOS, EOS ...) are left out
    // unless render_special; SentencePiece's leading space is dropped from the first token
    // only (so [BOS, "▁Once"] gives " Once", ["▁Once"] gives "Once").
    // Throws invalid_argument for an id outside the vocabulary.
    std::string detokenize(std::span<const Token> tokens, bool render_special = false) const;
    // True for end-of-generation tokens (EOS, EOT and the like).
    bool is_end_of_generation(Token token) const;

    // Render messages with the model's chat template (ChatML when it has none).
    // add_generation_prompt appends the opening of the assistant's turn.
    std::string apply_chat_template(std::span<const Message> messages,
                                    bool add_generation_prompt = true) const;

    struct Impl;  // defined inside the library

private:
    friend struct detail::ModelAccess;
    explicit Model(std::shared_ptr<const Impl> impl);
    std::shared_ptr<const Impl> impl_;
};

// ---- Generation options and results ----------------------------------------------------

// The sampler chain, applied in this order: logit bias, penalties, then (temperature 0:
// greedy, stop) top-k, typical-p, top-p, min-p, temperature, seeded draw. Out-of-range
// values (negative or NaN temperature, top_p outside [0, 1] ...) throw invalid_argument.
struct SamplerOptions {
    float temperature = 0.8f;     // 0: greedy (always the most likely token)
    int32_t top_k = 40;           // keep the k most likely; 0: off
    float top_p = 0.95f;          // keep the smallest set with this much mass; 1: off
    float min_p = 0.05f;          // drop tokens below min_p * p(best); 0: off
    float typical_p = 1.0f;       // locally typical sampling; 1: off
    float repeat_penalty = 1.0f;  // > 1 discourages repeating recent tokens; 1: off
    float frequency_penalty = 0.0f;  // minus count * this, for recent tokens
    float presence_penalty = 0.0f;   // minus this, for any recent token
    int32_t penalty_last_n = 64;     // how many recent tokens the penalties see; -1: all
    std::vector<std::pair<Token, float>> logit_bias;  // added to the logit; -inf bans
};

struct GenerateOptions {
    int32_t max_tokens = -1;  // stop after this many new tokens; -1: until the context is full
    std::vector<std::string> stop;  // stop before any of these strings (left out of the text)
    SamplerOptions sampling;
    std::optional<uint64_t> seed;  // reseed before this generation; else the session's RNG goes on
};

enum class FinishReason {
    stop = 0,       // end-of-generation token, a stop string, or on_token returned false
    length = 1,     // max_tokens reached, or the context is full
    cancelled = 2,  // Session::cancel()
    error = 3,      // an error after generation began; Result::error says what
};

struct Timings {
    int32_t prompt_tokens = 0;     // tokens evaluated for the prompt (reused ones not counted)
    int32_t reused_tokens = 0;     // prompt tokens whose KV cache was kept from before
    int32_t generated_tokens = 0;
    double prompt_ms = 0.0;
    double generate_ms = 0.0;
    double prompt_tokens_per_second() const { return prompt_ms > 0 ? prompt_tokens * 1000.0 / prompt_ms : 0.0; }
    double generated_tokens_per_second() const {
        return generate_ms > 0 ? generated_tokens * 1000.0 / generate_ms : 0.0;
    }
};

struct Result {
    std::string text;           // the generated text (stop string left out)
    std::vector<Token> tokens;  // the generated tokens
    FinishReason finish_reason = FinishReason::stop;
    Errc error_code = Errc::ok;  // the code when finish_reason == error
    std::string error;           // the message when finish_reason == error
    Timings timings;
};

// Receives each new piece of text as soon as it is safe to show: never half a UTF-8
// character, never the beginning of a stop string. Return false to stop.
using OnToken = std::function<bool(std::string_view text)>;

// ---- Session ---------------------------------------------------------------------------

enum class KvType { f16 = 0, f32 = 1 };

// What Session::evaluate returns.
struct EvaluateOptions {
    // false: the logits after the last token, [n_vocab]. true: the logits after every
    // token, [n_tokens][n_vocab] row-major (perplexity, log-probs, draft verification).
    bool all_logits = false;
};

struct SessionOptions {
    uint32_t n_ctx = 0;      // tokens of context; 0: the model's, capped at 4096
    uint32_t n_batch = 512;  // prompt tokens evaluated per forward pass
    uint32_t n_threads = 0;  // 0: the machine's hardware threads
    KvType kv_type = KvType::f16;
    uint64_t seed = 0;       // seeds the sampler's RNG
    // With an f16 KV cache: true reproduces llama.cpp's flash-attention numerics (its CPU
    // default, -fa auto/on: V summed in fp16), false its two-matmul attention (-fa off).
    // false by default: the fp16 running sum costs a rounding per value per key, which is
    // slow until it has a vector kernel. No effect on an f32 cache.
    bool flash_attn = false;
};

class EMBER_API Session {
public:
    // Allocates the KV cache and buffers now (nothing is allocated while generating).
    // Throws invalid_argument for n_ctx/n_batch out of range, out_of_memory.
    Session(const Model &model, const SessionOptions &options = {});
    Session(Session &&) noexcept;
    Session &operator=(Session &&) noexcept;
    ~Session();

    const Model &model() const noexcept;
    const SessionOptions &options() const noexcept;  // with 0s resolved to actual values

    // Generate a continuation of prompt. The prompt is tokenized with BOS; "" starts from
    // BOS alone. Tokens already in the KV cache from the previous call that begin the new
    // prompt are reused, not recomputed. Throws before generation begins (bad options,
    // Errc::context_full when the prompt does not fit); after that, problems end the
    // generation with FinishReason::error and the text so far.
    Result generate(std::string_view prompt, const GenerateOptions &options = {}, const OnToken &on_token = {});
    Result generate(std::span<const Token> prompt, const GenerateOptions &options = {},
                    const OnToken &on_token = {});
    // Render messages with the model's chat template, then generate the assistant's turn.
    Result generate(std::span<const Message> messages, const GenerateOptions &options = {},
                    const OnToken &on_token = {});

    // Pull-style generation: start(), then next() until it returns nullopt; result()
    // holds the totals. Each next() samples one token and returns the text it releases
    // (possibly empty while a UTF-8 character or a possible stop string is incomplete).
    void start(std::string_view prompt, const GenerateOptions &options = {});
    void start(std::span<const Token> prompt, const GenerateOptions &options = {});
    std::optional<std::string> next();
    const Result &result() const noexcept;

    // Append tokens to the context (after cached_tokens()) without sampling and return
    // their logits, as EvaluateOptions says. The same bits as generate() computes for those
    // positions, however the tokens are split across calls. Ends a pull-style generation in
    // progress. Throws invalid_argument (empty list, id outside the vocabulary),
    // context_full (cached_tokens().size() + tokens.size() > n_ctx; nothing is changed),
    // cancelled (cancel() during the call; the tokens of completed batches stay cached).
    std::vector<float> evaluate(std::span<const Token> tokens, const EvaluateOptions &options = {});
    // The same into the caller's buffer, which must hold n_vocab floats (n_vocab per token
    // with all_logits); invalid_argument otherwise. Allocates nothing.
    void evaluate(std::span<const Token> tokens, std::span<float> logits, const EvaluateOptions &options = {});
    // Keep the first n cached tokens and forget the rest (n <= cached_tokens().size()):
    // rewinds after rejected draft tokens, or back to a shared prefix.
    void truncate(size_t n);

    // Stop the generation running now at the next layer of the forward pass in progress
    // (prompt or token); it ends with FinishReason::cancelled. Safe from any thread, including signal-driven
    // ones; has no effect on generations started afterwards.
    void cancel() noexcept;

    // Forget the KV cache and the penalty history (the next prompt is evaluated whole).
    void reset();
    // Tokens whose keys and values are in the cache now (prompt and generated).
    std::span<const Token> cached_tokens() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// ---- Chat ------------------------------------------------------------------------------

// A conversation over a session: keeps the messages, renders them with the model's
// template each turn, and lets the session reuse the KV cache for the turns already seen,
// so each turn evaluates only its new tokens.
class EMBER_API Chat {
public:
    // The session must outlive the chat. An empty system prompt adds no system message.
    explicit Chat(Session &session, std::string system_prompt = {});
    Chat(Chat &&) noexcept;
    Chat &operator=(Chat &&) noexcept;
    ~Chat();

    // Add the user's message, generate the answer, add it to the history and return it.
    // A cancelled or stopped answer is kept in the history as far as it got; on an error
    // the user's message is taken back so the call can be retried.
    Result send(std::string_view user_message, const GenerateOptions &options = {}, const OnToken &on_token = {});

    std::span<const Message> messages() const noexcept;
    // Forget the conversation (the system prompt stays) and the session's cache.
    void reset();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ember
