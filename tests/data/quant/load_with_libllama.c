/* load_with_libllama.c - does llama.cpp load and run a GGUF file? (checks `ember quantize`
 * output against the npm libllama; not part of CI, which has no llama.cpp).
 * Build and run: see README.md. Prints the argmax token after BOS and 8 more tokens, and
 * exits non-zero if loading or decoding fails or a logit is not finite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "ggml-backend.h"
#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: load_with_libllama MODEL.gguf\n"); return 2; }
    llama_log_set(quiet, NULL);
    /* The CPU backend is a plugin: load the variants from GGML_BACKEND_DIR, as node-llama-cpp does. */
    const char *dir = getenv("GGML_BACKEND_DIR");
    if (dir) ggml_backend_load_all_from_path(dir); else ggml_backend_load_all();
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed\n"); return 1; }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 1;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "context failed\n"); return 1; }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_token tok = 1; /* BOS of the tiny models' vocabulary */
    printf("%s: %llu params, tokens:", argv[1], (unsigned long long)llama_model_n_params(model));
    for (int step = 0; step < 9; ++step) {
        if (llama_decode(ctx, llama_batch_get_one(&tok, 1)) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
        const float *logits = llama_get_logits_ith(ctx, -1);
        int best = 0;
        for (int i = 0; i < n_vocab; ++i) {
            if (!isfinite(logits[i])) { fprintf(stderr, "non-finite logit\n"); return 1; }
            if (logits[i] > logits[best]) best = i;
        }
        tok = best;
        printf(" %d", best);
    }
    printf("\n");
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
