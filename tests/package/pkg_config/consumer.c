/* A C99 program built with nothing but `pkg-config --cflags --libs ember`. */
#include <ember/ember.h>

#include <stdio.h>

int main(int argc, char **argv) {
    ember_model *model = NULL;
    ember_session *session = NULL;
    ember_generate_options options;
    ember_result result;
    int ok;
    if (argc < 2) return 2;
    if (ember_model_load(argv[1], NULL, &model) != EMBER_OK) {
        fprintf(stderr, "load: %s\n", ember_last_error());
        return 1;
    }
    if (ember_session_create(model, NULL, &session) != EMBER_OK) {
        fprintf(stderr, "session: %s\n", ember_last_error());
        ember_model_free(model);
        return 1;
    }
    ember_generate_options_init(&options);
    options.max_tokens = 8;
    options.temperature = 0.0f;
    ember_result_init(&result);
    ok = ember_generate(session, "Once upon a time", &options, NULL, NULL, &result) == EMBER_OK &&
         result.n_tokens == 8;
    printf("ember %s: %s\n", ember_version(), result.text ? result.text : "");
    ember_result_clear(&result);
    ember_session_free(session);
    ember_model_free(model);
    return ok ? 0 : 1;
}
