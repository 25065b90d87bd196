/* capi_errors.c - every error path of the C ABI returns its status and a message, and
 * never crashes: NULL arguments, missing and broken files, bad struct sizes, out-of-range
 * options, context overflow, cancelled loads, buffers too small.
 *
 * usage: capi_errors MODEL.gguf SCRATCH_DIR */
#include "check.h"

static bool cancel_at_half(float fraction, void *user_data) {
    (void)user_data;
    return fraction < 0.5f;
}

static void write_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(bytes, 1, n, f) == n);
    fclose(f);
}

static void file_errors(const char *model_path, const char *scratch) {
    ember_model *model = NULL;
    char path[4096];

    CHECK_ERROR(ember_model_load(NULL, NULL, &model), EMBER_ERR_INVALID_ARGUMENT, "path is NULL");
    CHECK_ERROR(ember_model_load(model_path, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "out_model is NULL");
    CHECK_ERROR(ember_model_load("", NULL, &model), EMBER_ERR_INVALID_ARGUMENT, "empty");

    snprintf(path, sizeof path, "%s/does-not-exist.gguf", scratch);
    CHECK_ERROR(ember_model_load(path, NULL, &model), EMBER_ERR_IO, "does-not-exist.gguf");
    CHECK(model == NULL);

    /* Not GGUF at all. */
    snprintf(path, sizeof path, "%s/not-gguf.gguf", scratch);
    write_file(path, "hello, this is not a model file at all", 38);
    CHECK_ERROR(ember_model_load(path, NULL, &model), EMBER_ERR_INVALID_FILE, "not-gguf.gguf");
    CHECK(model == NULL);

    /* A real model cut short: the header promises more than the file holds. */
    FILE *in = fopen(model_path, "rb");
    REQUIRE(in != NULL);
    static unsigned char head[4096];
    size_t got = fread(head, 1, sizeof head, in);
    fclose(in);
    REQUIRE(got == sizeof head);
    snprintf(path, sizeof path, "%s/truncated.gguf", scratch);
    write_file(path, head, sizeof head);
    ember_status s = ember_model_load(path, NULL, &model);
    CHECK(s == EMBER_ERR_INVALID_FILE);
    CHECK(strlen(ember_last_error()) > 0);
    CHECK(model == NULL);

    /* Options: wrong struct_size, unknown load mode, a progress callback that cancels. */
    ember_model_options mo;
    ember_model_options_init(&mo);
    mo.struct_size = 3;
    CHECK_ERROR(ember_model_load(model_path, &mo, &model), EMBER_ERR_INVALID_ARGUMENT, "struct_size");
    ember_model_options_init(&mo);
    mo.load_mode = 42;
    CHECK_ERROR(ember_model_load(model_path, &mo, &model), EMBER_ERR_INVALID_ARGUMENT, "load_mode");
    ember_model_options_init(&mo);
    mo.progress = cancel_at_half;
    CHECK_ERROR(ember_model_load(model_path, &mo, &model), EMBER_ERR_CANCELLED, "cancelled");
    CHECK(model == NULL);
}

static void session_errors(const char *model_path) {
    ember_model *model = NULL;
    REQUIRE(ember_model_load(model_path, NULL, &model) == EMBER_OK);
    ember_session *session = NULL;

    CHECK_ERROR(ember_session_create(NULL, NULL, &session), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
    CHECK_ERROR(ember_session_create(model, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "out_session is NULL");
    ember_session_options so;
    ember_session_options_init(&so);
    so.struct_size = sizeof so + 8;
    CHECK_ERROR(ember_session_create(model, &so, &session), EMBER_ERR_INVALID_ARGUMENT, "struct_size");
    ember_session_options_init(&so);
    so.kv_type = 7;
    CHECK_ERROR(ember_session_create(model, &so, &session), EMBER_ERR_INVALID_ARGUMENT, "kv_type");
    ember_session_options_init(&so);
    so.n_ctx = 1u << 30; /* far beyond the model's training context */
    CHECK_ERROR(ember_session_create(model, &so, &session), EMBER_ERR_INVALID_ARGUMENT, "n_ctx");
    CHECK(session == NULL);

    ember_session_options_init(&so);
    so.n_ctx = 16;
    REQUIRE(ember_session_create(model, &so, &session) == EMBER_OK);

    ember_result result;
    ember_result_init(&result);
    CHECK_ERROR(ember_generate(NULL, "x", NULL, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
    CHECK_ERROR(ember_generate(session, NULL, NULL, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "prompt is NULL");

    ember_generate_options go;
    ember_generate_options_init(&go);
    go.struct_size = 0;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "struct_size");
    ember_generate_options_init(&go);
    go.temperature = -1.0f;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "temperature");
    ember_generate_options_init(&go);
    go.top_p = 1.5f;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "top_p");
    ember_generate_options_init(&go);
    go.max_tokens = -5;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "max_tokens");
    ember_generate_options_init(&go);
    go.n_stop = 2;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "stop");
    ember_generate_options_init(&go);
    ember_logit_bias bias = {100000, 1.0f};
    go.logit_bias = &bias;
    go.n_logit_bias = 1;
    CHECK_ERROR(ember_generate(session, "x", &go, NULL, NULL, &result), EMBER_ERR_INVALID_ARGUMENT, "100000");

    ember_result bad_result;
    ember_result_init(&bad_result);
    bad_result.struct_size = 1;
    CHECK_ERROR(ember_generate(session, "x", NULL, NULL, NULL, &bad_result), EMBER_ERR_INVALID_ARGUMENT, "ember_result");
    ember_result_clear(&bad_result); /* a struct of unknown size is left alone */

    /* A prompt longer than the 16-token context. */
    CHECK_ERROR(ember_generate(session, "Once upon a time there was a little girl named Lily who loved to play outside",
                               NULL, NULL, NULL, &result),
                EMBER_ERR_CONTEXT_FULL, "context");
    /* The session still works afterwards; generation stops at the full context (length). */
    ember_generate_options_init(&go);
    go.temperature = 0.0f;
    CHECK(ember_generate(session, "Once upon a time", &go, NULL, NULL, &result) == EMBER_OK);
    CHECK(result.finish_reason == EMBER_FINISH_LENGTH);
    CHECK(result.prompt_tokens + result.reused_tokens + result.generated_tokens == 16 + 1);
    ember_result_clear(&result);

    /* Pull-style misuse. */
    const char *text = NULL;
    size_t length = 0;
    bool done = false;
    CHECK_ERROR(ember_generate_next(NULL, &text, &length, &done), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
    CHECK_ERROR(ember_generate_next(session, NULL, &length, &done), EMBER_ERR_INVALID_ARGUMENT, "text is NULL");
    CHECK_ERROR(ember_generate_result(session, NULL), EMBER_ERR_INVALID_ARGUMENT, "result is NULL");
    CHECK_ERROR(ember_generate_start(session, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "prompt is NULL");

    /* Chats and sessions refuse NULLs. */
    ember_chat *chat = NULL;
    CHECK_ERROR(ember_chat_create(NULL, NULL, &chat), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
    CHECK_ERROR(ember_chat_create(session, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "out_chat is NULL");
    CHECK_ERROR(ember_chat_send(NULL, "hi", NULL, NULL, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "chat is NULL");
    CHECK_ERROR(ember_chat_reset(NULL), EMBER_ERR_INVALID_ARGUMENT, "chat is NULL");
    CHECK_ERROR(ember_session_reset(NULL), EMBER_ERR_INVALID_ARGUMENT, "session is NULL");
    REQUIRE(ember_chat_create(session, NULL, &chat) == EMBER_OK);
    CHECK_ERROR(ember_chat_send(chat, NULL, NULL, NULL, NULL, NULL), EMBER_ERR_INVALID_ARGUMENT, "user_message is NULL");
    CHECK(ember_chat_message_count(chat) == 0);
    ember_chat_free(chat);

    /* Model queries. */
    ember_model_info info;
    info.struct_size = 12;
    CHECK_ERROR(ember_model_get_info(model, &info), EMBER_ERR_INVALID_ARGUMENT, "struct_size");
    CHECK_ERROR(ember_model_get_info(NULL, &info), EMBER_ERR_INVALID_ARGUMENT, "model is NULL");
    size_t n = 0;
    int32_t tokens[2];
    CHECK_ERROR(ember_tokenize(model, "Once upon a time", 16, true, false, tokens, 2, &n), EMBER_ERR_INVALID_ARGUMENT,
                "needed");
    CHECK(n == 5); /* BOS + 4: the size the caller needs */
    CHECK_ERROR(ember_tokenize(model, NULL, 3, true, false, tokens, 2, &n), EMBER_ERR_INVALID_ARGUMENT, "text is NULL");
    int32_t bad_ids[1] = {999999};
    char buf[8];
    CHECK_ERROR(ember_detokenize(model, bad_ids, 1, false, buf, sizeof buf, &n), EMBER_ERR_INVALID_ARGUMENT, "999999");
    int32_t ids[4] = {403, 407, 261, 378}; /* "Once upon a time" */
    CHECK_ERROR(ember_detokenize(model, ids, 4, false, buf, sizeof buf, &n), EMBER_ERR_INVALID_ARGUMENT, "too small");
    CHECK(n == 16);
    ember_message bad_message = {NULL, "x"};
    CHECK_ERROR(ember_apply_chat_template(model, &bad_message, 1, true, buf, sizeof buf, &n),
                EMBER_ERR_INVALID_ARGUMENT, "messages[0]");
    CHECK(!ember_token_is_end_of_generation(NULL, 2));
    CHECK(!ember_token_is_end_of_generation(model, -1));

    ember_session_free(session);
    ember_model_free(model);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: capi_errors MODEL.gguf SCRATCH_DIR\n");
        return 2;
    }
    CHECK(strcmp(ember_last_error(), "") == 0); /* nothing failed yet on this thread */
    file_errors(argv[1], argv[2]);
    session_errors(argv[1]);
    return check_report("capi_errors");
}
