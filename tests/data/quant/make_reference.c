/* make_reference.c - reference quantization data from llama.cpp's ggml, for ember's tests.
 *
 * Links the prebuilt libggml-base.so of node-llama-cpp 3.21.1 (see README.md for the exact
 * command) and writes, into the current directory:
 *   input.f32            N_IN floats from a fixed generator (zeros, tiny, huge, ties, ...)
 *   <type>.q             quantize_row_<type>_ref(input)           (every format)
 *   <type>.deq           dequantize_row_<type>(<type>.q)          (every weight format, q8_K)
 *   <type>.rand.q        N_RAND_BLOCKS blocks of random bytes (fp16 scale fields forced to
 *                        finite values), to reach every bit pattern a file may hold
 *   <type>.rand.deq      dequantize_row_<type>(<type>.rand.q)
 * All little-endian raw arrays without headers. ember's tests compare byte for byte. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*quantize_fn)(const float *x, void *y, int64_t k);
typedef void (*dequantize_fn)(const void *x, float *y, int64_t k);

/* ggml's exported symbols (ggml-quants.h); block pointers taken as void*. */
#define DECL(t) void quantize_row_##t##_ref(const float *, void *, int64_t); \
                void dequantize_row_##t(const void *, float *, int64_t);
DECL(q4_0) DECL(q4_1) DECL(q5_0) DECL(q5_1) DECL(q8_0)
DECL(q2_K) DECL(q3_K) DECL(q4_K) DECL(q5_K) DECL(q6_K) DECL(q8_K)
void quantize_row_q8_1_ref(const float *, void *, int64_t);
uint16_t ggml_fp32_to_fp16(float);

enum { N_IN = 8192, N_RAND_BLOCKS = 32 };

struct format {
    const char *name;
    int block_elems, block_bytes;
    quantize_fn quantize;
    dequantize_fn dequantize;           /* NULL: ggml has none (q8_1) */
    int fp16_offsets[2];                /* byte offsets of fp16 fields in a block, -1 none */
    int f32_offset;                     /* byte offset of an f32 scale (q8_K), -1 none */
};

static const struct format formats[] = {
    {"q4_0", 32, 18, quantize_row_q4_0_ref, dequantize_row_q4_0, {0, -1}, -1},
    {"q4_1", 32, 20, quantize_row_q4_1_ref, dequantize_row_q4_1, {0, 2}, -1},
    {"q5_0", 32, 22, quantize_row_q5_0_ref, dequantize_row_q5_0, {0, -1}, -1},
    {"q5_1", 32, 24, quantize_row_q5_1_ref, dequantize_row_q5_1, {0, 2}, -1},
    {"q8_0", 32, 34, quantize_row_q8_0_ref, dequantize_row_q8_0, {0, -1}, -1},
    {"q8_1", 32, 36, quantize_row_q8_1_ref, NULL, {0, 2}, -1},
    {"q2_K", 256, 84, quantize_row_q2_K_ref, dequantize_row_q2_K, {80, 82}, -1},
    {"q3_K", 256, 110, quantize_row_q3_K_ref, dequantize_row_q3_K, {108, -1}, -1},
    {"q4_K", 256, 144, quantize_row_q4_K_ref, dequantize_row_q4_K, {0, 2}, -1},
    {"q5_K", 256, 176, quantize_row_q5_K_ref, dequantize_row_q5_K, {0, 2}, -1},
    {"q6_K", 256, 210, quantize_row_q6_K_ref, dequantize_row_q6_K, {208, -1}, -1},
    {"q8_K", 256, 292, quantize_row_q8_K_ref, dequantize_row_q8_K, {-1, -1}, 0},
};

/* splitmix64: fixed, portable. */
static uint64_t rng_state = 0x5EED0F0E3BE12345ull;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; } /* [0,1) */
static double gauss(void) {
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* 32 super-blocks of 256, each a different kind of data. */
static void make_input(float *x) {
    for (int sb = 0; sb < N_IN / 256; ++sb) {
        float *p = x + 256 * sb;
        for (int j = 0; j < 256; ++j) {
            double v;
            switch (sb) {
            case 0: v = 0.0; break;                                        /* all zeros */
            case 1: v = 0.02 * gauss(); break;                             /* weight-like */
            case 2: v = 0.02 * gauss() * (j % 37 == 5 ? 60.0 : 1.0); break; /* outliers */
            case 3: v = gauss() * pow(10.0, -4.0 - 4.0 * uniform()); break; /* tiny: fp16
                                                                   scales go subnormal */
            case 4: v = gauss() * 1e-30; break;                            /* scales flush to 0 */
            case 5: v = 3000.0 * gauss(); break;                           /* large */
            case 6: v = uniform(); break;                                  /* all positive */
            case 7: v = -0.5 - uniform(); break;                           /* all negative */
            case 8: v = j < 128 ? 0.5 : (j == 200 ? -1.0 : 0.0); break;    /* constant, one-hot */
            case 9: v = 0.25 * (double)((j % 33) - 16); break;             /* exact ties */
            case 10: v = (j % 3 == 0) ? 0.0 : 0.05 * gauss(); break;       /* sparse zeros */
            case 11: v = (j % 32 == 0) ? 1.0 : 1e-3 * gauss(); break;      /* one big per 32 */
            case 12: v = (j % 16 < 8) ? 0.0 : gauss(); break;              /* half-empty groups */
            case 13: v = -(j % 32 == 7 ? 8.0 : 0.01 * uniform()); break;   /* negative extreme */
            default: v = gauss() * pow(10.0, -3.0 + 3.0 * uniform() * ((j / 32) % 2)) *
                             (1.0 + 0.5 * sin(j * 0.1)); break;             /* mixed scales */
            }
            p[j] = (float)v;
        }
    }
}

static void write_file(const char *name, const char *suffix, const void *data, size_t bytes) {
    char path[256];
    snprintf(path, sizeof path, "%s%s", name, suffix);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

/* Random bytes, with scale fields replaced by finite fp16 (or f32) values of varied size. */
static void make_random_blocks(const struct format *fmt, uint8_t *q, int nblocks) {
    for (int i = 0; i < nblocks * fmt->block_bytes; ++i) q[i] = (uint8_t)next_u64();
    for (int b = 0; b < nblocks; ++b) {
        uint8_t *block = q + (size_t)b * fmt->block_bytes;
        for (int k = 0; k < 2; ++k) {
            if (fmt->fp16_offsets[k] < 0) continue;
            float s = (float)(gauss() * pow(10.0, -6.0 + 7.0 * uniform()));
            if (b == 0) s = 0.0f;
            uint16_t h = ggml_fp32_to_fp16(s);
            memcpy(block + fmt->fp16_offsets[k], &h, 2);
        }
        if (fmt->f32_offset >= 0) {
            float s = (float)(gauss() * pow(10.0, -4.0 + 4.0 * uniform()));
            memcpy(block + fmt->f32_offset, &s, 4);
        }
    }
}

int main(void) {
    static float x[N_IN], y[N_IN];
    static uint8_t q[N_IN / 32 * 36 + 16384];
    make_input(x);
    write_file("input", ".f32", x, sizeof x);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; ++f) {
        const struct format *fmt = &formats[f];
        const size_t qbytes = (size_t)N_IN / fmt->block_elems * fmt->block_bytes;
        memset(q, 0, sizeof q);  /* q8_K leaves bsums unset for all-zero blocks */
        fmt->quantize(x, q, N_IN);
        write_file(fmt->name, ".q", q, qbytes);
        if (!fmt->dequantize) continue;
        fmt->dequantize(q, y, N_IN);
        write_file(fmt->name, ".deq", y, sizeof(float) * N_IN);

        const int nrand = fmt->block_elems == 32 ? 8 * N_RAND_BLOCKS : N_RAND_BLOCKS;
        make_random_blocks(fmt, q, nrand);
        write_file(fmt->name, ".rand.q", q, (size_t)nrand * fmt->block_bytes);
        fmt->dequantize(q, y, (int64_t)nrand * fmt->block_elems);
        write_file(fmt->name, ".rand.deq", y, sizeof(float) * (size_t)nrand * fmt->block_elems);
    }
    return 0;
}
