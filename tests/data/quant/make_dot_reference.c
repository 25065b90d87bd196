/* make_dot_reference.c - llama.cpp's CPU dot products, as reference values for ember's
 * scalar vec_dot. Links the baseline x86-64 variant of the CPU backend from node-llama-cpp
 * 3.21.1 (libggml-cpu-x64.so: no AVX, so ggml uses its generic scalar dots) and writes:
 *   act.f32          8192 activation floats from a fixed generator
 *   act.<vt>.q       the CPU backend's from_float(act) for each activation format vt
 *                    (q8_0, q8_1, q8_K, f16, bf16; f32 weights use act.f32 itself)
 *   <type>.dot       f32 results of vec_dot(weight row, act row) for row lengths
 *                    32, 96, 256, 768, 2048, 8192 (those that are whole blocks), where the
 *                    weight row is the first n elements of <type>.q (see make_reference.c;
 *                    for f32/f16/bf16: input.f32 converted) and the act row the first n of
 *                    act.<vt>.q.
 * Build and run: see README.md. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "ggml-cpu.h"

enum { N = 8192 };
static const int64_t lengths[] = {32, 96, 256, 768, 2048, 8192};

static uint64_t rng_state = 0xAC71A7104Eull;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }
static double gauss(void) { return sqrt(-2.0 * log(uniform() + 1e-300)) * cos(6.283185307179586 * uniform()); }

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(1); }
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(*size);
    if (fread(p, 1, *size, f) != *size) { fprintf(stderr, "cannot read %s\n", path); exit(1); }
    fclose(f);
    return p;
}
static void write_file(const char *path, const void *data, size_t bytes) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
}

int main(void) {
    ggml_cpu_init();
    static float act[N];
    for (int i = 0; i < N; ++i)  /* activations: gaussian, a few large channels, some zeros */
        act[i] = (float)(i % 97 == 3 ? 0.0 : gauss() * (i % 61 == 7 ? 20.0 : 1.0));
    write_file("act.f32", act, sizeof act);

    const enum ggml_type act_types[] = {GGML_TYPE_Q8_0, GGML_TYPE_Q8_1, GGML_TYPE_Q8_K, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_F32};
    static uint8_t act_q[6][N * 4];
    for (int a = 0; a < 6; ++a) {
        if (act_types[a] == GGML_TYPE_F32) { memcpy(act_q[a], act, sizeof act); continue; }
        const struct ggml_type_traits_cpu *t = ggml_get_type_traits_cpu(act_types[a]);
        memset(act_q[a], 0, sizeof act_q[a]);
        t->from_float(act, act_q[a], N);
        char path[64];
        snprintf(path, sizeof path, "act.%s.q", ggml_type_name(act_types[a]));
        write_file(path, act_q[a], ggml_row_size(act_types[a], N));
    }

    size_t in_size;
    float *input = read_file("input.f32", &in_size);
    const enum ggml_type weight_types[] = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1,
                                           GGML_TYPE_Q5_0, GGML_TYPE_Q5_1, GGML_TYPE_Q8_0, GGML_TYPE_Q2_K, GGML_TYPE_Q3_K,
                                           GGML_TYPE_Q4_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K};
    for (size_t w = 0; w < sizeof weight_types / sizeof weight_types[0]; ++w) {
        const enum ggml_type type = weight_types[w];
        const struct ggml_type_traits_cpu *t = ggml_get_type_traits_cpu(type);
        void *weights;
        char path[64];
        if (type == GGML_TYPE_F32) {
            weights = input;
        } else if (type == GGML_TYPE_F16) {
            weights = malloc(2 * N);
            ggml_fp32_to_fp16_row(input, weights, N);
        } else if (type == GGML_TYPE_BF16) {
            weights = malloc(2 * N);
            ggml_fp32_to_bf16_row_ref(input, weights, N);
        } else {
            size_t size;
            snprintf(path, sizeof path, "%s.q", ggml_type_name(type));
            weights = read_file(path, &size);
        }
        int a = 0;
        while (act_types[a] != t->vec_dot_type) {
            if (++a == 6) { fprintf(stderr, "unexpected vec_dot_type for %s\n", ggml_type_name(type)); return 1; }
        }
        float dots[6];
        int n_dots = 0;
        for (int l = 0; l < 6; ++l) {
            if (lengths[l] % ggml_blck_size(type) != 0) continue;
            float s = 0;
            t->vec_dot((int)lengths[l], &s, 0, weights, 0, act_q[a], 0, 1);
            dots[n_dots++] = s;
        }
        snprintf(path, sizeof path, "%s.dot", ggml_type_name(type));
        write_file(path, dots, sizeof(float) * n_dots);
    }
    return 0;
}
