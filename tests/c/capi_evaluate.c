/* capi_evaluate.c - ember_session_evaluate, _truncate and _n_cached on stories260K:
 * log-probs equal llama.cpp's teacher-forced ones, the same bits however the tokens are
 * split, sizing and capacity errors that leave the caller's buffers and the session alone,
 * rewinding, and flash_attn reaching the runtime.
 *
 * usage: capi_evaluate MODEL.gguf REFERENCE.json   (reference: stories260K.f32kv.json) */
#include "check.h"

#include <math.h>

/* ---- the reference: fixed_sequence and its log-softmax rows (the file is trusted) ----- */
enum { N_VOCAB = 512, MAX_TOKENS = 64 };

typedef struct {
    int32_t tokens[MAX_TOKENS];
    size_t n_tokens;
    double *logprobs; /* [n_tokens][N_VOCAB] */
} Reference;

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') ++p;
    return p;
}

/* The numbers of a flat JSON array starting at p ('['), into out (at most cap). */
static size_t json_numbers(const char **at, double *out, size_t cap) {
    const char *p = skip_space(*at);
    REQUIRE(*p == '[');
    size_t n = 0;
    p = skip_space(p + 1);
    while (*p != ']') {
        char *end = NULL;
        const double v = strtod(p, &end);
        REQUIRE(end != p && n < cap);
        out[n++] = v;
        p = skip_space(end);
        if (*p == ',') p = skip_space(p + 1);
    }
    *at = p + 1;
    return n;
}

static const char *json_key(const char *text, const char *key) {
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(text, pattern);
    REQUIRE(p != NULL);
    p = skip_space(p + strlen(pattern));
    REQUIRE(*p == ':');
    return skip_space(p + 1);
}

static Reference read_reference(const char *path) {
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    REQUIRE(fseek(f, 0, SEEK_END) == 0);
    const long size = ftell(f);
    REQUIRE(size > 0 && fseek(f, 0, SEEK_SET) == 0);
    char *text = malloc((size_t)size + 1);
    REQUIRE(text != NULL && fread(text, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    text[size] = '\0';

    Reference r;
    double ids[MAX_TOKENS];
    const char *p = json_key(text, "fixed_sequence");
    r.n_tokens = json_numbers(&p, ids, MAX_TOKENS);
    REQUIRE(r.n_tokens > 8);
    for (size_t i = 0; i < r.n_tokens; ++i) r.tokens[i] = (int32_t)ids[i];

    r.logprobs = malloc(r.n_tokens * N_VOCAB * sizeof(double));
    REQUIRE(r.logprobs != NULL);
    p = json_key(text, "logprobs");
    REQUIRE(*p == '[');
    ++p;
    for (size_t i = 0; i < r.n_tokens; ++i) {
        REQUIRE(json_numbers(&p, r.logprobs + i * N_VOCAB, N_VOCAB) == N_VOCAB);
        p = skip_space(p);
        if (*p == ',') ++p;
    }
    free(text);
    return r;
}

/* ---- helpers ------------------------------------------------------------------------- */
static ember_session *new_session(ember_model *model, int32_t kv_type, uint32_t n_batch, bool flash_attn) {
    ember_session_options so;
    ember_session_options_init(&so);
    CHECK(!so.flash_attn); /* off unless asked for */
    so.kv_type = kv_type;
    so.n_ctx = 128;
    so.n_batch = n_batch;
    so.n_threads = 2;
    so.flash_attn = flash_attn;
    ember_session *s = NULL;
    REQUIRE(ember_session_create(model, &so, &s) == EMBER_OK);
    return s;
}

static ember_evaluate_options all_logits(void) {
    ember_evaluate_options o;
    ember_evaluate_options_init(&o);
    CHECK(!o.all_logits); /* the default is the last position only */
    o.all_logits = true;
    return o;
}

/* Largest |log_softmax(row) - reference| over n rows. */
static double worst_logprob_error(const float *logits, const Reference *ref, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float *row = logits + i * N_VOCAB;
        double max = row[0], sum = 0.0;
        for (size_t v = 1; v < N_VOCAB; ++v) max = row[v] > max ? row[v] : max;
        for (size_t v = 0; v < N_VOCAB; ++v) sum += exp(row[v] - max);
        const double lse = max + log(sum);
        for (size_t v = 0; v < N_VOCAB; ++v) {
            const double d = fabs(row[v] - lse - ref->logprobs[i * N_VOCAB + v]);
            worst = d > worst ? d : worst;
        }
    }
    return worst;
}

static float *evaluate_all(ember_session *s, const int32_t *tokens, size_t n) {
    const ember_evaluate_options all = all_logits();
    float *logits = malloc(n * N_VOCAB * sizeof(float));
    REQUIRE(logits != NULL);
    size_t written = 0;
    REQUIRE(ember_session_evaluate(s, tokens, n, &all, logits, n * N_VOCAB, &written) == EMBER_OK);
    CHECK(written == n * N_VOCAB);
    return logits;
}

/* ---- tests --------------------------------------------------------------------------- */
static void test_matches_llama_cpp(ember_model *model, const Reference *ref, float **whole) {
    ember_session *s = new_session(model, EMBER_KV_F32, 512, false); /* the reference's F32 cache */
    const ember_evaluate_options all = all_logits();
    size_t need = 0;
    /* Sizing: capacity 0 says how many floats, evaluates nothing. */
    CHECK_ERROR(ember_session_evaluate(s, ref->tokens, ref->n_tokens, &all, NULL, 0, &need),
                EMBER_ERR_INVALID_ARGUMENT, "needed");
    CHECK(need == ref->n_tokens * N_VOCAB);
    CHECK(ember_session_n_cached(s) == 0);

    *whole = evaluate_all(s, ref->tokens, ref->n_tokens);
    CHECK(ember_session_n_cached(s) == ref->n_tokens);
    const double worst = worst_logprob_error(*whole, ref, ref->n_tokens);
    if (!(worst < 1e-4)) fprintf(stderr, "largest |log-prob - llama.cpp| = %g\n", worst);
    CHECK(worst < 1e-4);
    ember_session_free(s);
}

static void test_same_bits_however_split(ember_model *model, const Reference *ref, const float *whole) {
    const size_t n = ref->n_tokens, row = N_VOCAB * sizeof(float);
    const ember_evaluate_options all = all_logits();
    const uint32_t batches[] = {1, 7, 512};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; ++b) {
        ember_session *s = new_session(model, EMBER_KV_F32, batches[b], false);
        float *got = malloc(n * row);
        REQUIRE(got != NULL);
        /* Pieces of 1, 2, 3 ... tokens, each call appending to the context. */
        size_t at = 0;
        for (size_t len = 1; at < n; ++len) {
            const size_t k = len < n - at ? len : n - at;
            size_t written = 0;
            REQUIRE(ember_session_evaluate(s, ref->tokens + at, k, &all, got + at * N_VOCAB, k * N_VOCAB,
                                           &written) == EMBER_OK);
            CHECK(written == k * N_VOCAB);
            at += k;
            CHECK(ember_session_n_cached(s) == at);
        }
        if (memcmp(got, whole, n * row) != 0) fprintf(stderr, "n_batch %u: other bits\n", (unsigned)batches[b]);
        CHECK(memcmp(got, whole, n * row) == 0);
        free(got);
        ember_session_free(s);
    }

    /* Last position only (options NULL): the last row of the whole evaluation. */
    ember_session *s = new_session(model, EMBER_KV_F32, 512, false);
    float last[N_VOCAB];
    size_t written = 0;
    REQUIRE(ember_session_evaluate(s, ref->tokens, n, NULL, last, N_VOCAB, &written) == EMBER_OK);
    CHECK(written == N_VOCAB);
    CHECK(memcmp(last, whole + (n - 1) * N_VOCAB, row) == 0);
    ember_session_free(s);
}

static void test_refusals_leave_everything_alone(ember_model *model, const Reference *ref) {
    ember_session *s = new_session(model, EMBER_KV_F32, 512, false);
    float buf[2 * N_VOCAB];
    size_t n = 0;
    REQUIRE(ember_session_evaluate(s, ref->tokens, 5, NULL, buf, N_VOCAB, &n) == EMBER_OK);
    REQUIRE(ember_session_n_cached(s) == 5);
    const ember_evaluate_options all = all_logits();
    const int32_t *next = ref->tokens + 5;

    /* Too small: the size needed comes back, nothing is evaluated or written. */
    for (size_t i = 0; i < 2 * N_VOCAB; ++i) buf[i] = -7.0f;
    n = 0;
    CHECK_ERROR(ember_session_evaluate(s, next, 1, NULL, buf, N_VOCAB - 1, &n), EMBER_ERR_INVALID_ARGUMENT,
                "512 needed");
    CHECK(n == N_VOCAB);
    CHECK_ERROR(ember_session_evaluate(s, next, 2, &all, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT,
                "1024 needed");
    CHECK(n == 2 * N_VOCAB);
    CHECK(buf[0] == -7.0f && buf[N_VOCAB - 1] == -7.0f);
    CHECK(ember_session_n_cached(s) == 5);

    /* Other refusals: *n_logits untouched. */
    const size_t sentinel = 12345;
    n = sentinel;
    CHECK_ERROR(ember_session_evaluate(NULL, next, 1, NULL, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT, "session");
    CHECK_ERROR(ember_session_evaluate(s, NULL, 1, NULL, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT, "tokens");
    CHECK_ERROR(ember_session_evaluate(s, next, 1, NULL, buf, N_VOCAB, NULL), EMBER_ERR_INVALID_ARGUMENT, "n_logits");
    CHECK_ERROR(ember_session_evaluate(s, next, 0, NULL, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT, "n_tokens is 0");
    CHECK_ERROR(ember_session_evaluate(s, next, 1, NULL, NULL, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT, "logits");
    const int32_t bad[] = {next[0], N_VOCAB};
    CHECK_ERROR(ember_session_evaluate(s, bad, 2, NULL, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT,
                "outside the vocabulary");
    const int32_t negative[] = {-1};
    CHECK_ERROR(ember_session_evaluate(s, negative, 1, NULL, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT,
                "outside the vocabulary");
    ember_evaluate_options stale = all;
    stale.struct_size = 4;
    CHECK_ERROR(ember_session_evaluate(s, next, 1, &stale, buf, N_VOCAB, &n), EMBER_ERR_INVALID_ARGUMENT,
                "struct_size");
    int32_t too_long[124]; /* 5 + 124 > n_ctx 128 */
    for (size_t i = 0; i < 124; ++i) too_long[i] = next[0];
    CHECK_ERROR(ember_session_evaluate(s, too_long, 124, NULL, buf, N_VOCAB, &n), EMBER_ERR_CONTEXT_FULL, "context");
    CHECK(n == sentinel);
    CHECK(buf[0] == -7.0f);
    CHECK(ember_session_n_cached(s) == 5);

    CHECK_ERROR(ember_session_truncate(s, 6), EMBER_ERR_INVALID_ARGUMENT, "5 cached");
    CHECK_ERROR(ember_session_truncate(NULL, 0), EMBER_ERR_INVALID_ARGUMENT, "session");
    CHECK(ember_session_n_cached(s) == 5);
    CHECK(ember_session_n_cached(NULL) == 0);
    ember_evaluate_options_init(NULL); /* a no-op, like every _init */
    ember_session_free(s);
}

static void test_truncate_rewinds(ember_model *model, const Reference *ref, const float *whole) {
    const size_t n = ref->n_tokens, half = n / 2;
    ember_session *s = new_session(model, EMBER_KV_F32, 512, false);
    float last[N_VOCAB];
    size_t written = 0;
    REQUIRE(ember_session_evaluate(s, ref->tokens, n, NULL, last, N_VOCAB, &written) == EMBER_OK);
    /* Rewind half way, and evaluate a different continuation there first. */
    REQUIRE(ember_session_truncate(s, half) == EMBER_OK);
    CHECK(ember_session_n_cached(s) == half);
    REQUIRE(ember_session_evaluate(s, ref->tokens + 1, 3, NULL, last, N_VOCAB, &written) == EMBER_OK);
    REQUIRE(ember_session_truncate(s, half) == EMBER_OK);
    /* The second half again gives the same bits as the uninterrupted evaluation. */
    const ember_evaluate_options all = all_logits();
    float *rows = malloc((n - half) * N_VOCAB * sizeof(float));
    REQUIRE(rows != NULL);
    REQUIRE(ember_session_evaluate(s, ref->tokens + half, n - half, &all, rows, (n - half) * N_VOCAB, &written) ==
            EMBER_OK);
    CHECK(memcmp(rows, whole + half * N_VOCAB, (n - half) * N_VOCAB * sizeof(float)) == 0);
    CHECK(ember_session_n_cached(s) == n);
    REQUIRE(ember_session_truncate(s, 0) == EMBER_OK);
    CHECK(ember_session_n_cached(s) == 0);
    free(rows);
    ember_session_free(s);
}

static void test_flash_attn(ember_model *model, const Reference *ref) {
    const size_t n = ref->n_tokens;
    ember_session *plain = new_session(model, EMBER_KV_F16, 512, false);
    ember_session *flash = new_session(model, EMBER_KV_F16, 512, true);
    float *a = evaluate_all(plain, ref->tokens, n);
    float *b = evaluate_all(flash, ref->tokens, n);
    bool finite = true;
    for (size_t i = 0; i < n * N_VOCAB; ++i) finite = finite && isfinite(a[i]) && isfinite(b[i]);
    CHECK(finite);
    /* The option reaches the runtime: fp16 sums of V round differently from f32 ones... */
    CHECK(memcmp(a, b, n * N_VOCAB * sizeof(float)) != 0);
    /* ...and both stay near the F32-cache reference (f16 keys and values: about 0.02). */
    const double worst_plain = worst_logprob_error(a, ref, n), worst_flash = worst_logprob_error(b, ref, n);
    fprintf(stderr, "f16 cache: largest log-prob error %g (flash_attn off), %g (on)\n", worst_plain, worst_flash);
    CHECK(worst_plain < 5e-2);
    CHECK(worst_flash < 5e-2);
    free(a);
    free(b);
    ember_session_free(plain);
    ember_session_free(flash);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: capi_evaluate MODEL.gguf REFERENCE.json\n");
        return 2;
    }
    Reference ref = read_reference(argv[2]);
    ember_model *model = NULL;
    REQUIRE(ember_model_load(argv[1], NULL, &model) == EMBER_OK);
    ember_model_info info;
    info.struct_size = sizeof info;
    REQUIRE(ember_model_get_info(model, &info) == EMBER_OK);
    REQUIRE(info.n_vocab == N_VOCAB);

    float *whole = NULL;
    test_matches_llama_cpp(model, &ref, &whole);
    test_same_bits_however_split(model, &ref, whole);
    test_refusals_leave_everything_alone(model, &ref);
    test_truncate_rewinds(model, &ref, whole);
    test_flash_attn(model, &ref);

    free(whole);
    free(ref.logprobs);
    ember_model_free(model);
    return check_report("capi_evaluate");
}
