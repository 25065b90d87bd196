/* capi_generate.c - the C ABI's success paths on a real model (stories260K): version,
 * model info, tokens, greedy text equal to llama.cpp's, streaming, stop strings, seeds,
 * thread counts, pull-style generation, cancel from a callback and from another thread,
 * chat with KV reuse.
 *
 * usage: capi_generate MODEL.gguf REFERENCE.json   (reference: stories260K.f32kv.json) */
#define _POSIX_C_SOURCE 200809L /* nanosleep, pthreads under strict C99 */

#include "check.h"

#include <pthread.h>
#include <time.h>

/* ---- a minimal reader for one JSON string value (the reference file is trusted) ------- */
static char *json_string(const char *path, const char *key) {
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char pattern[256];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(buf, pattern);
    REQUIRE(p != NULL);
    p += strlen(pattern);
    char *out = malloc(strlen(p) + 1), *o = out;
    REQUIRE(out != NULL);
    for (; *p && *p != '"'; ++p) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        ++p;
        switch (*p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)strtoul((char[5]){p[1], p[2], p[3], p[4], 0}, NULL, 16);
            p += 4;
            REQUIRE(cp < 0x80); /* the stories text is ASCII */
            *o++ = (char)cp;
            break;
        }
        default: *o++ = *p; break; /* \" \\ \/ */
        }
    }
    *o = '\0';
    return out;
}

/* ---- callbacks -------------------------------------------------------------------------- */
typedef struct {
    char text[8192];
    size_t length;
    int calls;
    int stop_after; /* 0: never */
    ember_session *cancel_session;
} Collector;

static bool collect(const char *text, size_t length, void *user_data) {
    Collector *c = user_data;
    if (c->length + length < sizeof c->text) {
        memcpy(c->text + c->length, text, length);
        c->length += length;
        c->text[c->length] = '\0';
    }
    ++c->calls;
    if (c->cancel_session && c->calls == 3) ember_session_cancel(c->cancel_session);
    return c->stop_after == 0 || c->calls < c->stop_after;
}

static bool progress_seen(float fraction, void *user_data) {
    float *last = user_data;
    if (fraction < *last) *last = 2.0f; /* must not go backwards */
    else *last = fraction;
    return true;
}

static void *cancel_later(void *session) {
    struct timespec t = {0, 20 * 1000 * 1000};
    nanosleep(&t, NULL);
    ember_session_cancel(session);
    return NULL;
}

/* ---- tests -------------------------------------------------------------------------- */
static ember_session *new_session(ember_model *model, uint32_t threads, uint64_t seed) {
    ember_session_options so;
    ember_session_options_init(&so);
    so.kv_type = EMBER_KV_F32; /* the reference was made with an F32 cache */
    so.n_threads = threads;
    so.seed = seed;
    so.n_ctx = 256;
    ember_session *s = NULL;
    REQUIRE(ember_session_create(model, &so, &s) == EMBER_OK);
    return s;
}

static void test_info_and_tokens(ember_model *model) {
    ember_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(ember_model_get_info(model, &info) == EMBER_OK);
    CHECK(strcmp(info.architecture, "llama") == 0);
    CHECK(info.n_vocab == 512);
    CHECK(info.n_layer == 5);
    CHECK(info.n_embd == 64);
    CHECK(info.n_head == 8);
    CHECK(info.n_head_kv == 4);
    CHECK(info.bos_token == 1);
    CHECK(info.eos_token == 2);
    CHECK(info.n_params > 200000 && info.n_params < 300000);
    CHECK(ember_token_is_end_of_generation(model, 2));
    CHECK(!ember_token_is_end_of_generation(model, 403));

    int32_t ids[16];
    size_t n = 0;
    REQUIRE(ember_tokenize(model, "Hello world", 11, false, false, ids, 16, &n) == EMBER_OK);
    const int32_t hello[] = {346, 306, 414, 263, 304, 341}; /* llama.cpp's tokens */
    CHECK(n == 6);
    CHECK(memcmp(ids, hello, sizeof hello) == 0);
    REQUIRE(ember_tokenize(model, "Hello world", 11, true, false, NULL, 0, &n) == EMBER_ERR_INVALID_ARGUMENT);
    CHECK(n == 7); /* sizing call: BOS + 6 */
    char text[64];
    size_t length = 0;
    REQUIRE(ember_detokenize(model, hello, 6, false, text, sizeof text, &length) == EMBER_OK);
    CHECK(strcmp(text, "Hello world") == 0);
    CHECK(length == 11);

    ember_message messages[] = {{"user", "Hi"}};
    REQUIRE(ember_apply_chat_template(model, messages, 1, true, NULL, 0, &length) == EMBER_ERR_INVALID_ARGUMENT);
    char *rendered = malloc(length + 1);
    REQUIRE(ember_apply_chat_template(model, messages, 1, true, rendered, length + 1, &length) == EMBER_OK);
    CHECK(strstr(rendered, "Hi") != NULL);
    free(rendered);
}

static void test_greedy_matches_llama_cpp(ember_model *model, const char *expected) {
    ember_session *s = new_session(model, 1, 0);
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.temperature = 0.0f;
    go.max_tokens = 48;
    Collector c = {0};
    ember_result r;
    ember_result_init(&r);
    REQUIRE(ember_generate(s, "", &go, collect, &c, &r) == EMBER_OK);
    CHECK(r.finish_reason == EMBER_FINISH_LENGTH);
    CHECK(r.n_tokens == 48);
    CHECK(r.generated_tokens == 48);
    CHECK(r.prompt_tokens == 1); /* BOS alone */
    CHECK(r.text_length > 100);
    CHECK(strncmp(r.text, expected, r.text_length) == 0);
    CHECK(strcmp(c.text, r.text) == 0); /* the streamed pieces add up to the result */
    CHECK(r.generated_tokens_per_second > 0.0);
    ember_result_clear(&r);
    CHECK(r.text == NULL && r.struct_size == sizeof r);
    ember_session_free(s);
}

static void test_seeds_and_threads(ember_model *model) {
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.temperature = 1.0f;
    go.max_tokens = 40;
    go.use_seed = true;
    go.seed = 1234;
    ember_result a, b, c;
    ember_result_init(&a);
    ember_result_init(&b);
    ember_result_init(&c);
    ember_session *s1 = new_session(model, 1, 0), *s2 = new_session(model, 2, 0);
    REQUIRE(ember_generate(s1, "Once upon a time", &go, NULL, NULL, &a) == EMBER_OK);
    REQUIRE(ember_generate(s2, "Once upon a time", &go, NULL, NULL, &b) == EMBER_OK);
    CHECK(a.n_tokens == b.n_tokens && memcmp(a.tokens, b.tokens, a.n_tokens * sizeof(int32_t)) == 0);
    CHECK(strcmp(a.text, b.text) == 0);
    go.seed = 99;
    REQUIRE(ember_generate(s1, "Once upon a time", &go, NULL, NULL, &c) == EMBER_OK);
    CHECK(strcmp(a.text, c.text) != 0);
    CHECK(c.reused_tokens == 4); /* BOS + "Once upon a time" minus the last, kept from before */
    ember_result_clear(&a);
    ember_result_clear(&b);
    ember_result_clear(&c);
    ember_session_free(s1);
    ember_session_free(s2);
}

static void test_stop_and_cancel(ember_model *model, const char *expected) {
    ember_session *s = new_session(model, 1, 0);
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.temperature = 0.0f;
    go.max_tokens = 100;
    const char *stops[] = {"Lily"};
    go.stop = stops;
    go.n_stop = 1;
    ember_result r;
    ember_result_init(&r);
    Collector c = {0};
    REQUIRE(ember_generate(s, "", &go, collect, &c, &r) == EMBER_OK);
    CHECK(r.finish_reason == EMBER_FINISH_STOP);
    const char *at = strstr(expected, "Lily");
    REQUIRE(at != NULL);
    CHECK(r.text_length == (size_t)(at - expected)); /* everything before the stop string */
    CHECK(strncmp(r.text, expected, r.text_length) == 0);
    CHECK(strcmp(c.text, r.text) == 0);

    /* The callback says stop after its second piece. */
    go.stop = NULL;
    go.n_stop = 0;
    Collector c2 = {0};
    c2.stop_after = 2;
    REQUIRE(ember_generate(s, "", &go, collect, &c2, &r) == EMBER_OK);
    CHECK(r.finish_reason == EMBER_FINISH_STOP);
    CHECK(c2.calls == 2);
    CHECK(strcmp(r.text, c2.text) == 0);

    /* Cancel from inside the callback (the same thread). */
    Collector c3 = {0};
    c3.cancel_session = s;
    REQUIRE(ember_generate(s, "", &go, collect, &c3, &r) == EMBER_OK);
    CHECK(r.finish_reason == EMBER_FINISH_CANCELLED);
    CHECK(r.n_tokens < 10);

    /* Cancel from another thread, during a generation that would otherwise run long. */
    go.max_tokens = -1;
    pthread_t thread;
    for (int attempt = 0; attempt < 3; ++attempt) {
        ember_session_reset(s);
        REQUIRE(pthread_create(&thread, NULL, cancel_later, s) == 0);
        ember_status st = ember_generate(s, "", &go, NULL, NULL, &r);
        pthread_join(thread, NULL);
        CHECK(st == EMBER_OK);
        if (r.finish_reason == EMBER_FINISH_CANCELLED) break;
        /* On a very fast machine the 256-token context may fill first: try again. */
        CHECK(r.finish_reason == EMBER_FINISH_LENGTH);
    }
    CHECK(r.finish_reason == EMBER_FINISH_CANCELLED || r.finish_reason == EMBER_FINISH_LENGTH);
    ember_result_clear(&r);
    ember_session_free(s);
}

static void test_pull_style(ember_model *model, const char *expected) {
    ember_session *s = new_session(model, 1, 0);
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.temperature = 0.0f;
    go.max_tokens = 20;
    REQUIRE(ember_generate_start(s, "", &go) == EMBER_OK);
    char text[4096] = {0};
    size_t total = 0;
    int steps = 0;
    for (;;) {
        const char *piece = NULL;
        size_t length = 0;
        bool done = false;
        REQUIRE(ember_generate_next(s, &piece, &length, &done) == EMBER_OK);
        if (done) break;
        memcpy(text + total, piece, length);
        total += length;
        ++steps;
        REQUIRE(steps < 100);
    }
    CHECK(steps == 21); /* 20 tokens, then the step that finds max_tokens reached */
    CHECK(strncmp(text, expected, total) == 0);
    ember_result r;
    ember_result_init(&r);
    REQUIRE(ember_generate_result(s, &r) == EMBER_OK);
    CHECK(r.n_tokens == 20);
    CHECK(r.text_length == total);
    CHECK(r.finish_reason == EMBER_FINISH_LENGTH);
    ember_result_clear(&r);
    ember_session_free(s);
}

static void test_chat(ember_model *model) {
    ember_session *s = new_session(model, 1, 0);
    ember_chat *chat = NULL;
    REQUIRE(ember_chat_create(s, "You tell stories.", &chat) == EMBER_OK);
    CHECK(ember_chat_message_count(chat) == 1);
    ember_generate_options go;
    ember_generate_options_init(&go);
    go.temperature = 0.0f;
    go.max_tokens = 8;
    ember_result r;
    ember_result_init(&r);
    REQUIRE(ember_chat_send(chat, "Tell me about a cat.", &go, NULL, NULL, &r) == EMBER_OK);
    CHECK(r.n_tokens == 8);
    CHECK(r.reused_tokens == 0);
    CHECK(ember_chat_message_count(chat) == 3);
    const int first_prompt = r.prompt_tokens;
    REQUIRE(ember_chat_send(chat, "And a dog?", &go, NULL, NULL, &r) == EMBER_OK);
    CHECK(ember_chat_message_count(chat) == 5);
    /* The second turn keeps the first turn's cache: only the new tokens are evaluated. */
    CHECK(r.reused_tokens >= first_prompt);
    CHECK(r.prompt_tokens < first_prompt);
    REQUIRE(ember_chat_reset(chat) == EMBER_OK);
    CHECK(ember_chat_message_count(chat) == 1);

    ember_message messages[] = {{"user", "Hi"}};
    REQUIRE(ember_generate_chat(s, messages, 1, &go, NULL, NULL, &r) == EMBER_OK);
    CHECK(r.n_tokens > 0);
    ember_result_clear(&r);
    ember_chat_free(chat);
    ember_session_free(s);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: capi_generate MODEL.gguf REFERENCE.json\n");
        return 2;
    }
    CHECK(strcmp(ember_version(), EMBER_VERSION_STRING_HEADER) == 0);
    CHECK(ember_abi_version() == EMBER_ABI_VERSION);
    CHECK(strcmp(ember_status_name(EMBER_ERR_CONTEXT_FULL), "context_full") == 0);
    CHECK(strcmp(ember_status_name((ember_status)99), "unknown") == 0);
    ember_model_free(NULL);
    ember_session_free(NULL);
    ember_chat_free(NULL);
    ember_result_clear(NULL);
    ember_session_cancel(NULL);

    char *expected = json_string(argv[2], "greedy_from_bos_text");
    ember_model_options mo;
    ember_model_options_init(&mo);
    float last = -1.0f;
    mo.progress = progress_seen;
    mo.progress_user_data = &last;
    mo.load_mode = EMBER_LOAD_READ;
    ember_model *model = NULL;
    REQUIRE(ember_model_load(argv[1], &mo, &model) == EMBER_OK);
    CHECK(last == 1.0f); /* reached the end, never went backwards */

    test_info_and_tokens(model);
    test_greedy_matches_llama_cpp(model, expected);
    test_seeds_and_threads(model);
    test_stop_and_cancel(model, expected);
    test_pull_style(model, expected);
    test_chat(model);

    ember_model_free(model);
    free(expected);
    return check_report("capi_generate");
}
