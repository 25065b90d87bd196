/* hello.c - ask a model one question through ember's C API, streaming the answer.
 *   cc hello.c -lember -o hello && ./hello SmolLM2-135M-Instruct.Q4_1.gguf "What is a star?" */
#include <ember/ember.h>

#include <stdio.h>

static bool print_piece(const char *text, size_t length, void *user_data) {
    (void)user_data;
    fwrite(text, 1, length, stdout);
    fflush(stdout);
    return true; /* false would stop the answer here */
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.gguf [QUESTION]\n", argv[0]);
        return 2;
    }
    ember_model *model = NULL;
    ember_session *session = NULL;
    ember_chat *chat = NULL;
    ember_generate_options options;
    ember_generate_options_init(&options);
    options.max_tokens = 128;

    ember_status status = ember_model_load(argv[1], NULL, &model);
    if (status == EMBER_OK) status = ember_session_create(model, NULL, &session);
    if (status == EMBER_OK) status = ember_chat_create(session, "You are a helpful assistant.", &chat);
    if (status == EMBER_OK)
        status = ember_chat_send(chat, argc > 2 ? argv[2] : "Say hello in one sentence.", &options,
                                 print_piece, NULL, NULL);
    if (status != EMBER_OK) fprintf(stderr, "error: %s\n", ember_last_error());
    printf("\n");

    ember_chat_free(chat); /* every _free accepts NULL */
    ember_session_free(session);
    ember_model_free(model);
    return status == EMBER_OK ? 0 : 1;
}
