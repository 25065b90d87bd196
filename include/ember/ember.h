/* ember/ember.h - the stable C ABI of libember (C99).
 *
 *   ember_model *model = NULL;
 *   if (ember_model_load("model.gguf", NULL, &model) != EMBER_OK) {
 *       fprintf(stderr, "%s\n", ember_last_error());
 *       return 1;
 *   }
 *
 * Rules that hold for every function below:
 *  - Fallible calls return ember_status (EMBER_OK = 0). On failure, ember_last_error()
 *    gives a message naming what is wrong, and out-parameters are left untouched unless
 *    stated otherwise. No exception or abort ever crosses this boundary.
 *  - Handles are opaque. Each is released by its _free function, which accepts NULL.
 *  - Options structs begin with struct_size. Fill one with its _init function, change what
 *    you need, and pass it by pointer (NULL means all defaults). A struct_size the library
 *    does not know is refused with EMBER_ERR_INVALID_ARGUMENT.
 *  - Strings are UTF-8. Unless stated, a string the library returns is owned by the
 *    object it came from and valid while that object lives.
 *  - Threads: a model may be shared by any number of threads and sessions; a session or
 *    chat is used by one thread at a time, except ember_session_cancel (any thread).
 *  - Compatibility: enums have explicit values and only grow; structs only grow at their
 *    end; functions are only added. EMBER_ABI_VERSION (the shared library's SOVERSION)
 *    changes if that promise is ever broken.
 */
#ifndef EMBER_H
#define EMBER_H

#include <ember/version.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EMBER_C_API __attribute__((visibility("default")))
#else
#define EMBER_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status, errors, version --------------------------------------------------------- */

/* The same numbers as ember::Errc (error.hpp). */
typedef enum ember_status {
    EMBER_OK = 0,
    EMBER_ERR_INVALID_ARGUMENT = 1, /* a value passed in is NULL, out of range or malformed */
    EMBER_ERR_IO = 2,               /* the operating system refused (open, read, map) */
    EMBER_ERR_INVALID_FILE = 3,     /* not a well-formed GGUF file */
    EMBER_ERR_UNSUPPORTED = 4,      /* well-formed, but uses something ember lacks */
    EMBER_ERR_OUT_OF_MEMORY = 5,
    EMBER_ERR_CONTEXT_FULL = 6,     /* the prompt does not fit the session's context */
    EMBER_ERR_CANCELLED = 7,        /* a progress callback returned false */
    EMBER_ERR_INVALID_MODEL = 8,    /* tensors or metadata do not fit the architecture */
    EMBER_ERR_TOKENIZER = 9,
    EMBER_ERR_TEMPLATE = 10,        /* the chat template failed */
    EMBER_ERR_INTERNAL = 11         /* a bug in ember: please report it */
} ember_status;

/* The library's version, "MAJOR.MINOR.PATCH". Static storage. */
EMBER_C_API const char *ember_version(void);
/* The ABI major version of the library loaded (compare with EMBER_ABI_VERSION). */
EMBER_C_API uint32_t ember_abi_version(void);
/* Short stable name of a status ("invalid_file"); "unknown" for other values. Static. */
EMBER_C_API const char *ember_status_name(ember_status status);
/* The message of the last failed call on this thread ("" if none yet). Owned by the
 * library, valid until the next failing ember_* call on this thread. */
EMBER_C_API const char *ember_last_error(void);

/* ---- model ---------------------------------------------------------------------------- */

typedef struct ember_model ember_model;

typedef enum ember_load_mode {
    EMBER_LOAD_MMAP = 0,        /* map the file, use weights in place (default) */
    EMBER_LOAD_MMAP_LOCKED = 1, /* map and lock in RAM */
    EMBER_LOAD_READ = 2         /* copy into anonymous memory */
} ember_load_mode;

/* Called with the fraction loaded (0..1). Return false to cancel the load. */
typedef bool (*ember_progress_fn)(float fraction, void *user_data);

typedef struct ember_model_options {
    size_t struct_size;          /* sizeof(ember_model_options), set by _init */
    int32_t load_mode;           /* ember_load_mode */
    ember_progress_fn progress;  /* may be NULL */
    void *progress_user_data;    /* passed to progress as is */
} ember_model_options;

EMBER_C_API void ember_model_options_init(ember_model_options *options);

/* Load a GGUF file. options may be NULL. On success *out_model is a new model the caller
 * owns (release with ember_model_free). Errors: INVALID_ARGUMENT (NULL path/out_model, bad
 * options), IO, INVALID_FILE, UNSUPPORTED, INVALID_MODEL, CANCELLED, OUT_OF_MEMORY. */
EMBER_C_API ember_status ember_model_load(const char *path, const ember_model_options *options,
                                          ember_model **out_model);
/* Release a model. Sessions created from it keep the weights alive until they are freed.
 * NULL is a no-op. */
EMBER_C_API void ember_model_free(ember_model *model);

typedef struct ember_model_info {
    size_t struct_size;        /* sizeof(ember_model_info), set by the caller */
    const char *architecture;  /* "llama", "qwen2" ... owned by the model */
    const char *name;          /* general.name or "", owned by the model */
    uint64_t n_params;
    uint64_t n_bytes;          /* bytes of weights */
    uint32_t context_length;   /* trained context */
    uint32_t n_vocab;
    uint32_t n_layer;
    uint32_t n_embd;
    uint32_t n_head;
    uint32_t n_head_kv;
    bool has_chat_template;    /* false: chat uses ChatML */
    int32_t bos_token;         /* -1 when the model has none */
    int32_t eos_token;
    int32_t eot_token;
} ember_model_info;

/* Fill *info (whose struct_size the caller sets) with facts about the model. */
EMBER_C_API ember_status ember_model_get_info(const ember_model *model, ember_model_info *info);

/* Text (text_length bytes; need not be NUL-terminated) to tokens. Writes up to capacity
 * tokens into the caller's array and always sets *n_tokens to the number the text needs;
 * when capacity is too small it returns EMBER_ERR_INVALID_ARGUMENT, so call once with
 * capacity 0 to size the array. tokens may be NULL when capacity is 0. */
EMBER_C_API ember_status ember_tokenize(const ember_model *model, const char *text, size_t text_length,
                                        bool add_special, bool parse_special, int32_t *tokens,
                                        size_t capacity, size_t *n_tokens);

/* Tokens to text. Writes up to capacity bytes, NUL-terminated when room is left, into the
 * caller's buffer and always sets *text_length to the length without the NUL; capacity too
 * small (length + 1 needed) returns EMBER_ERR_INVALID_ARGUMENT. */
EMBER_C_API ember_status ember_detokenize(const ember_model *model, const int32_t *tokens, size_t n_tokens,
                                          bool render_special, char *text, size_t capacity,
                                          size_t *text_length);

/* true when token ends generation (EOS, EOT ...); false for NULL model or bad ids. */
EMBER_C_API bool ember_token_is_end_of_generation(const ember_model *model, int32_t token);

typedef struct ember_message {
    const char *role;     /* "system", "user", "assistant" */
    const char *content;
} ember_message;

/* Render messages with the model's chat template, into the caller's buffer like
 * ember_detokenize. */
EMBER_C_API ember_status ember_apply_chat_template(const ember_model *model, const ember_message *messages,
                                                   size_t n_messages, bool add_generation_prompt, char *text,
                                                   size_t capacity, size_t *text_length);

/* ---- session -------------------------------------------------------------------------- */

typedef struct ember_session ember_session;

typedef enum ember_kv_type { EMBER_KV_F16 = 0, EMBER_KV_F32 = 1 } ember_kv_type;

typedef struct ember_session_options {
    size_t struct_size;
    uint32_t n_ctx;      /* 0: the model's context, capped at 4096 */
    uint32_t n_batch;    /* prompt tokens per forward pass (default 512) */
    uint32_t n_threads;  /* 0: all hardware threads */
    int32_t kv_type;     /* ember_kv_type */
    uint64_t seed;       /* the sampler's RNG seed (default 0) */
    bool flash_attn;     /* f16 KV cache: llama.cpp's flash-attention numerics (V summed in
                            fp16) rather than its two-matmul attention (default false, the
                            faster one today); no effect on an f32 cache */
} ember_session_options;

EMBER_C_API void ember_session_options_init(ember_session_options *options);

/* Create a session (KV cache and buffers) over a model; options may be NULL. The caller
 * owns *out_session (ember_session_free). The session keeps the model's weights alive. */
EMBER_C_API ember_status ember_session_create(const ember_model *model, const ember_session_options *options,
                                              ember_session **out_session);
EMBER_C_API void ember_session_free(ember_session *session);

/* Stop the generation running in session at the next layer of the forward pass in progress
 * (prompt or token); it then returns
 * EMBER_OK with finish reason EMBER_FINISH_CANCELLED. Any thread; NULL is a no-op; no
 * effect on later generations. */
EMBER_C_API void ember_session_cancel(ember_session *session);

/* Forget the session's KV cache and penalty history. */
EMBER_C_API ember_status ember_session_reset(ember_session *session);

/* ---- generation ----------------------------------------------------------------------- */

typedef struct ember_logit_bias {
    int32_t token;
    float bias; /* added to the token's logit; -INFINITY bans it */
} ember_logit_bias;

/* Sampler chain order: logit bias, penalties, (temperature 0: greedy) top-k, typical-p,
 * top-p, min-p, temperature, seeded draw. Out-of-range values: EMBER_ERR_INVALID_ARGUMENT. */
typedef struct ember_generate_options {
    size_t struct_size;
    int32_t max_tokens;        /* -1 (default): until end of generation or a full context */
    float temperature;         /* 0.8; 0 is greedy */
    int32_t top_k;             /* 40; 0 off */
    float top_p;               /* 0.95; 1 off */
    float min_p;               /* 0.05; 0 off */
    float typical_p;           /* 1 (off) */
    float repeat_penalty;      /* 1 (off) */
    float frequency_penalty;   /* 0 */
    float presence_penalty;    /* 0 */
    int32_t penalty_last_n;    /* 64; -1 all tokens */
    const char *const *stop;   /* n_stop NUL-terminated stop strings, or NULL */
    size_t n_stop;
    const ember_logit_bias *logit_bias; /* n_logit_bias entries, or NULL */
    size_t n_logit_bias;
    bool use_seed;             /* true: reseed with seed before generating */
    uint64_t seed;
} ember_generate_options;

EMBER_C_API void ember_generate_options_init(ember_generate_options *options);

/* Receives each piece of generated text (length bytes, not NUL-terminated, valid during
 * the call only). Return false to stop generating. */
typedef bool (*ember_token_fn)(const char *text, size_t length, void *user_data);

typedef enum ember_finish_reason {
    EMBER_FINISH_STOP = 0,      /* end of generation, a stop string, or the callback said stop */
    EMBER_FINISH_LENGTH = 1,    /* max_tokens, or the context is full */
    EMBER_FINISH_CANCELLED = 2, /* ember_session_cancel */
    EMBER_FINISH_ERROR = 3      /* failed after generation began (the call returns the error) */
} ember_finish_reason;

/* What a generation produced. Initialise with ember_result_init; the library fills the
 * fields and owns nothing in it: text and tokens are allocated for the caller, released
 * by ember_result_clear (which also makes the struct reusable). */
typedef struct ember_result {
    size_t struct_size;
    char *text;              /* NUL-terminated, without the stop string */
    size_t text_length;
    int32_t *tokens;         /* generated tokens */
    size_t n_tokens;
    int32_t finish_reason;   /* ember_finish_reason */
    int32_t prompt_tokens;   /* evaluated (not reused) prompt tokens */
    int32_t reused_tokens;   /* prompt tokens whose cache was kept from before */
    int32_t generated_tokens;
    double prompt_ms;
    double generate_ms;
    double prompt_tokens_per_second;
    double generated_tokens_per_second;
} ember_result;

EMBER_C_API void ember_result_init(ember_result *result);
/* Free text and tokens and reset the fields. NULL is a no-op. */
EMBER_C_API void ember_result_clear(ember_result *result);

/* Continue prompt (NUL-terminated; "" starts from BOS alone). options, on_token and result
 * may be NULL. A result passed in is cleared first. Returns EMBER_OK when generation ran to
 * a finish (stop, length, cancelled); CONTEXT_FULL when the prompt does not fit; errors
 * after generation began return their status with result->finish_reason ERROR and the
 * text so far. */
EMBER_C_API ember_status ember_generate(ember_session *session, const char *prompt,
                                        const ember_generate_options *options, ember_token_fn on_token,
                                        void *user_data, ember_result *result);

/* The same, for a conversation rendered with the model's chat template. */
EMBER_C_API ember_status ember_generate_chat(ember_session *session, const ember_message *messages,
                                             size_t n_messages, const ember_generate_options *options,
                                             ember_token_fn on_token, void *user_data, ember_result *result);

/* Pull-style: start, then call next until *done is true. *text points to the piece this
 * token released (length may be 0), owned by the session, valid until the next call on
 * it. ember_generate_result copies out the totals. */
EMBER_C_API ember_status ember_generate_start(ember_session *session, const char *prompt,
                                              const ember_generate_options *options);
EMBER_C_API ember_status ember_generate_next(ember_session *session, const char **text, size_t *length,
                                             bool *done);
EMBER_C_API ember_status ember_generate_result(ember_session *session, ember_result *result);

/* ---- chat ----------------------------------------------------------------------------- */

typedef struct ember_chat ember_chat;

/* A conversation over session (which must outlive it), rendered with the model's
 * template each turn and reusing the KV cache of earlier turns. system_prompt may be NULL.
 * The caller owns *out_chat (ember_chat_free). */
EMBER_C_API ember_status ember_chat_create(ember_session *session, const char *system_prompt,
                                           ember_chat **out_chat);
EMBER_C_API void ember_chat_free(ember_chat *chat);
/* Send the user's message and generate the answer (kept in the history); options, on_token,
 * result and the returned status work as in ember_generate. */
EMBER_C_API ember_status ember_chat_send(ember_chat *chat, const char *user_message,
                                         const ember_generate_options *options, ember_token_fn on_token,
                                         void *user_data, ember_result *result);
/* Forget the conversation except the system prompt. */
EMBER_C_API ember_status ember_chat_reset(ember_chat *chat);
/* Number of messages in the history (system prompt included); 0 for NULL. */
EMBER_C_API size_t ember_chat_message_count(const ember_chat *chat);

/* ---- evaluation ----------------------------------------------------------------------- */

/* What ember_session_evaluate returns. */
typedef struct ember_evaluate_options {
    size_t struct_size;  /* sizeof(ember_evaluate_options), set by _init */
    bool all_logits;     /* false (default): the logits after the last token, n_vocab floats;
                            true: after every token, n_tokens * n_vocab floats, row-major */
} ember_evaluate_options;

EMBER_C_API void ember_evaluate_options_init(ember_evaluate_options *options);

/* Append n_tokens tokens to the session's context (after its cached tokens) without
 * sampling, and write their logits (n_vocab per ember_model_info) into the caller's
 * buffer: the same numbers generation computes for those positions, however the tokens
 * are split across calls. options may be NULL (last position only). Ends a pull-style
 * generation in progress.
 * Sizing: *n_logits is set to the floats needed on success and when capacity is too small;
 * then nothing is evaluated and the call returns EMBER_ERR_INVALID_ARGUMENT, so call once
 * with capacity 0 (logits may be NULL then) to size the buffer.
 * Errors: INVALID_ARGUMENT (NULL session, tokens or n_logits, n_tokens 0, an id outside the
 * vocabulary, bad options, capacity too small), CONTEXT_FULL (the cached plus the new
 * tokens exceed n_ctx; nothing changes), CANCELLED (ember_session_cancel during the call:
 * the batches completed stay cached and their rows of logits may have been written). */
EMBER_C_API ember_status ember_session_evaluate(ember_session *session, const int32_t *tokens, size_t n_tokens,
                                                const ember_evaluate_options *options, float *logits,
                                                size_t capacity, size_t *n_logits);

/* Keep the first n cached tokens and forget the rest: rewinds after rejected draft tokens,
 * or back to a shared prefix. n above ember_session_n_cached: INVALID_ARGUMENT. */
EMBER_C_API ember_status ember_session_truncate(ember_session *session, size_t n);

/* Tokens whose keys and values are in the session's cache now (prompt, generated and
 * evaluated); 0 for NULL. */
EMBER_C_API size_t ember_session_n_cached(const ember_session *session);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
