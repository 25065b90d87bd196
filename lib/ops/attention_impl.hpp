// ops/attention_impl.hpp - the body of ops::attention() for one kv head, included by
// attention.cpp (baseline x86-64) and attention_avx2.cpp (compiled for AVX2/FMA/F16C).
//
// Plain loops; the ISA file only lets the compiler use wider vectors. Floating-point
// contraction is off (-ffp-contract=off, lib/CMakeLists.txt), sums have a fixed order and fp16 rounding is round to
// nearest even in both, so both objects give the same bits. Everything but the entry point
// is in an anonymous namespace so the two copies never merge at link time.
#pragma once

#include "ops/attention.hpp"

// The F16C build converts through _Float16; compilers without it (clang before 15 on x86,
// used by the fuzz preset) take the table path, which gives the same bits.
#if defined(EMBER_ATTENTION_F16C) && !defined(__FLT16_MAX__)
#undef EMBER_ATTENTION_F16C
#endif
#include "quant/fp16.hpp"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ember::ops {

struct AttentionArgs {
    const AttentionShape *s;
    const KvCache *kv;
    int l;
    const float *q;
    int64_t ldq, n_tokens, pos0;
    float *out;
    int64_t ldo;
    float *scratch;
    // fp16 cache read in place, converted inside the loops (AVX2 build, a token or two with the
    // default numerics): no conversion phase, which for decode cost a hand-off and a write and
    // re-read of the whole visible cache per layer. fp16 to f32 is exact, so the same bits.
    bool f16_direct = false;
};

// Scratch layout: per kv head [n_ctx, head_dim_k + head_dim_v] f32 keys/values (fp16 cache),
// then per task (query head x part of the batch, k_query_parts per head) n_ctx scores,
// head_dim_k query, head_dim_v accumulator.
size_t attention_kv_slot_floats(const AttentionShape &s, int64_t n_ctx);
size_t attention_head_slot_floats(const AttentionShape &s, int64_t n_ctx);
// Phase 1 (fp16 cache only): kv head g's visible rows to f32, once per call.
void attention_convert_base(const AttentionArgs &a, int g);
void attention_convert_avx2(const AttentionArgs &a, int g);
// Phase 2: queries t0..t1-1 of the batch for query head h, in scratch slot `slot`.
constexpr int k_query_parts = 2;
void attention_head_base(const AttentionArgs &a, int h, int64_t t0, int64_t t1, int slot);
void attention_head_avx2(const AttentionArgs &a, int h, int64_t t0, int64_t t1, int slot);

namespace {


#if !defined(EMBER_ATTENTION_F16C)
// fp16 -> f32 for every bit pattern, computed once (immutable after first use).
const float *fp16_table() {
    static const std::array<float, 65536> table = [] {
        std::array<float, 65536> t{};
        for (uint32_t i = 0; i < 65536; ++i) t[i] = quant::fp16_to_f32(static_cast<uint16_t>(i));
        return t;
    }();
    return table.data();
}
#endif

#if defined(EMBER_ATTENTION_F16C)
// Compiled with F16C: the conversion is one instruction (round to nearest even, as ggml).
float round_fp16(float x) { return static_cast<float>(static_cast<_Float16>(x)); }
#else
float round_fp16(float x) { return fp16_table()[quant::f32_to_fp16(x)]; }
#endif

// Elements of K/V rows as f32: f32 rows as they are, fp16 rows (read in place by the AVX2
// build's decode path) converted exactly, so a loop gives the same bits over either.
inline float as_f32(float x) { return x; }
#if defined(__AVX2__)
inline float as_f32(uint16_t h) { return _cvtsh_ss(h); }
inline __m256 load8(const float *p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}
#endif

// Dot product with eight partial sums combined in a fixed tree: one order for any n.
template <class T>
float dot(const float *a, const T *b, int n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * as_f32(b[i + l]);
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; ++i) s += a[i] * as_f32(b[i]);
    return s;
}

// e^x for the softmax weights, the same bits in both builds: evaluated in double (reduction
// by ln 2, degree-9 Taylor polynomial, relative error about 1e-11) and rounded once to float,
// so it is the correctly rounded expf but for rare near-ties, as libm's expf is. A float
// polynomial (about 1 ulp) was tried first: quantized models flip activation roundings on
// such differences, and stories260K-Q4_0's perplexity moved 0.19% from llama.cpp's (libm
// gives 0.04%). Each step is one rounded double operation in a fixed order, so the AVX2
// lanes and the scalar loop agree.
constexpr double k_exp_lo = -104.0, k_exp_hi = 89.0;  // e^x rounds to 0 below, to inf above
constexpr double k_inv_ln2 = 1.4426950408889634, k_ln2 = 0.6931471805599453;
constexpr double k_exp_c[10] = {1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120,
                                1.0 / 24,     1.0 / 6,     0.5,        1.0,        1.0};

float exp_softmax(float x) {
    if (x != x) return x;
    const double xd = std::min(std::max(static_cast<double>(x), k_exp_lo), k_exp_hi);
    const double n = std::nearbyint(xd * k_inv_ln2);  // half to even, as the vector path
    const double r = xd - n * k_ln2;
    double p = k_exp_c[0];
    for (int i = 1; i < 10; ++i) p = p * r + k_exp_c[i];
    const uint64_t bits = static_cast<uint64_t>(static_cast<int64_t>(n) + 1023) << 52;
    double scale;
    std::memcpy(&scale, &bits, 8);
    return static_cast<float>(p * scale);
}

#if defined(__AVX2__)
__m128 exp_softmax4(__m128 x) {
    __m256d xd = _mm256_cvtps_pd(x);
    xd = _mm256_min_pd(_mm256_max_pd(xd, _mm256_set1_pd(k_exp_lo)), _mm256_set1_pd(k_exp_hi));
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(xd, _mm256_set1_pd(k_inv_ln2)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d r = _mm256_sub_pd(xd, _mm256_mul_pd(n, _mm256_set1_pd(k_ln2)));
    __m256d p = _mm256_set1_pd(k_exp_c[0]);
    for (int i = 1; i < 10; ++i) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(k_exp_c[i]));
    const __m256i e = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(n)), _mm256_set1_epi64x(1023)), 52);
    const __m128 out = _mm256_cvtpd_ps(_mm256_mul_pd(p, _mm256_castsi256_pd(e)));
    return _mm_blendv_ps(out, x, _mm_cmpunord_ps(x, x));  // NaN stays NaN
}
#endif

// The largest of n scores, NaNs skipped (max is exact: any order gives the same value).
float max_score(const float *x, int64_t n) {
    float mx = -std::numeric_limits<float>::infinity();
    int64_t j = 0;
#if defined(__AVX2__)
    __m256 m = _mm256_set1_ps(mx);
    for (; j + 8 <= n; j += 8) m = _mm256_max_ps(_mm256_loadu_ps(x + j), m);  // a NaN lane keeps m
    alignas(32) float t[8];
    _mm256_store_ps(t, m);
    for (float v : t) mx = std::max(mx, v);
#endif
    for (; j < n; ++j) mx = std::max(mx, x[j]);
    return mx;
}

// Softmax weights in place: w[j] = e^(w[j] - mx) / sum, the sum taken in double in a fixed order;
// rounded to fp16 when they will meet an fp16 V (as llama.cpp does).
void softmax_weights(float *w, int64_t n, float mx, bool half) {
    int64_t j = 0;
#if defined(__AVX2__)
    const __m128 m = _mm_set1_ps(mx);
    for (; j + 4 <= n; j += 4) _mm_storeu_ps(w + j, exp_softmax4(_mm_sub_ps(_mm_loadu_ps(w + j), m)));
#endif
    for (; j < n; ++j) w[j] = exp_softmax(w[j] - mx);
    // Eight double sums, element j into sum j mod 8, joined as (0+4)+(1+5) + (2+6)+(3+7):
    // the vector lanes' order, kept by the scalar loop, instead of one latency-bound chain.
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    j = 0;
#if defined(__AVX2__)
    __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
    for (; j + 8 <= n; j += 8) {
        s_lo = _mm256_add_pd(s_lo, _mm256_cvtps_pd(_mm_loadu_ps(w + j)));
        s_hi = _mm256_add_pd(s_hi, _mm256_cvtps_pd(_mm_loadu_ps(w + j + 4)));
    }
    _mm256_storeu_pd(p, s_lo);
    _mm256_storeu_pd(p + 4, s_hi);
#endif
    for (; j < n; ++j) p[j % 8] += static_cast<double>(w[j]);
    const double sum = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
    const float inv = static_cast<float>(1.0 / sum);
    j = 0;
#if defined(__AVX2__)
    const __m256 vi = _mm256_set1_ps(inv);
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(w + j), vi);
        if (half) v = _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm256_storeu_ps(w + j, v);
    }
#endif
    for (; j < n; ++j) {
        const float v = w[j] * inv;
        w[j] = half ? round_fp16(v) : v;
    }
}

// Scores of one query against n keys (rows k, k + ks, ...): out[j] = dot(q, key j, hk) * scale.
// The AVX2 build does eight keys at a time with the query loaded once per eight columns; each
// key keeps dot()'s order (lane l sums columns i = l mod 8 in turn, the same tree, then the
// tail), so both builds give the same bits.
#if defined(__AVX2__)
template <class T>
void scores8(const float *q, const T *k, int64_t ks, int hk, float scale, float *out) {
    __m256 acc[8];
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= hk; i += 8) {
        const __m256 qv = _mm256_loadu_ps(q + i);
        for (int r = 0; r < 8; ++r) acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(qv, load8(k + r * ks + i)));
    }
    // hadd pairs lanes (0+1), (2+3) per 128-bit half; twice gives (0+1)+(2+3) and
    // (4+5)+(6+7) of four keys, and the last add joins the halves: dot()'s tree exactly.
    const __m256 h01 = _mm256_hadd_ps(acc[0], acc[1]), h23 = _mm256_hadd_ps(acc[2], acc[3]);
    const __m256 h45 = _mm256_hadd_ps(acc[4], acc[5]), h67 = _mm256_hadd_ps(acc[6], acc[7]);
    const __m256 a = _mm256_hadd_ps(h01, h23), b = _mm256_hadd_ps(h45, h67);
    __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
    if (i < hk) {
        alignas(32) float t[8];
        _mm256_store_ps(t, sum);
        for (int r = 0; r < 8; ++r)
            for (int c = i; c < hk; ++c) t[r] += q[c] * as_f32(k[r * ks + c]);
        sum = _mm256_load_ps(t);
    }
    _mm256_storeu_ps(out, _mm256_mul_ps(sum, _mm256_set1_ps(scale)));
}
#endif

template <class T>
void scores(const float *q, const T *k, int64_t ks, int64_t n, int hk, float scale, float *out) {
    int64_t j = 0;
#if defined(__AVX2__)
    for (; j + 8 <= n; j += 8) scores8(q, k + j * ks, ks, hk, scale, out + j);
#endif
    for (; j < n; ++j) out[j] = dot(q, k + j * ks, hk) * scale;
}

// q . k in double: ggml's f16 dot sums its scalar tail (all of it for heads under 64) so.
float dot_double(const float *a, const float *b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += static_cast<double>(a[i] * b[i]);
    return static_cast<float>(s);
}

struct Slots {  // one query head's share of the scratch
    float *scores;  // [n_ctx]
    float *q;       // [head_dim_k]
    float *acc;     // [head_dim_v]
};


// One query against keys/values rows j0..j1 (inclusive) of an fp16 cache, the way
// llama.cpp's CPU flash attention does it: one pass with a running maximum, the weighted
// sum of V kept in fp16 (rescaled whenever the maximum grows), divided by the sum at the end.
void flash_one(const float *q, const float *k, int64_t ks, const float *v, int64_t vs_, int64_t j0,
               int64_t j1, int hk, int hv, float scale, float *acc, float *o) {
    float sum = 0.0f, mx = -std::numeric_limits<float>::infinity();
    std::fill(acc, acc + hv, 0.0f);
    for (int64_t j = j0; j <= j1; ++j) {
        const float sc = dot_double(q, k + j * ks, hk) * scale;
        float ms = 1.0f, w = 1.0f;
        if (sc > mx) {
            ms = std::exp(mx - sc);
            mx = sc;
            for (int i = 0; i < hv; ++i) acc[i] = round_fp16(acc[i] * ms);
        } else {
            w = std::exp(sc - mx);
        }
        const float *vr = v + j * vs_;
        // acc + v*w with one rounding (llama.cpp's SIMD path fuses it); in double, the
        // product is exact and the sum rounds once before the f32 step: as fma but for
        // rare double-rounding ties, and without a libm call per element.
        for (int i = 0; i < hv; ++i)
            acc[i] = round_fp16(static_cast<float>(static_cast<double>(vr[i]) * w + acc[i]));
        sum = sum * ms + w;
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < hv; ++i) o[i] = acc[i] * inv;
}


// fp16 bits to f32 (exact in both builds; the F16C build lets the compiler use vcvtph2ps).
void fp16_row_to_f32(const uint16_t *src, float *dst, int64_t n) {
#if defined(EMBER_ATTENTION_F16C)
    for (int64_t i = 0; i < n; ++i) {
        _Float16 h;
        std::memcpy(&h, src + i, sizeof h);
        dst[i] = static_cast<float>(h);
    }
#else
    const float *tab = fp16_table();
    for (int64_t i = 0; i < n; ++i) dst[i] = tab[src[i]];
#endif
}

// o[i] = sum over j of w[j] * v[j][i], summed in j order for every i (the order of one
// running sum per element), in column chunks held in registers across all rows rather than
// loading and storing o once per row.
template <class T>
void weighted_sum(const float *w, const T *v, int64_t vstride, int64_t n, int hv, float *o) {
    constexpr int chunk = 64;  // 8 AVX2 accumulators: enough independent sums to hide the add latency
    int i0 = 0;
#if defined(__AVX2__)
    // The same sums with the accumulators pinned in registers (GCC kept the array on the stack).
    for (; i0 + chunk <= hv; i0 += chunk) {
        __m256 acc[8];
        for (int c = 0; c < 8; ++c) acc[c] = _mm256_setzero_ps();
        for (int64_t j = 0; j < n; ++j) {
            const T *vr = v + j * vstride + i0;
            const __m256 wj = _mm256_set1_ps(w[j]);
            for (int c = 0; c < 8; ++c) acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(wj, load8(vr + 8 * c)));
        }
        for (int c = 0; c < 8; ++c) _mm256_storeu_ps(o + i0 + 8 * c, acc[c]);
    }
#endif
    for (; i0 + chunk <= hv; i0 += chunk) {
        float acc[chunk] = {};
        for (int64_t j = 0; j < n; ++j) {
            const T *vr = v + j * vstride + i0;
            const float wj = w[j];
            for (int c = 0; c < chunk; ++c) acc[c] += wj * as_f32(vr[c]);
        }
        std::copy(acc, acc + chunk, o + i0);
    }
    if (i0 < hv) {
        std::fill(o + i0, o + hv, 0.0f);
        for (int64_t j = 0; j < n; ++j) {
            const T *vr = v + j * vstride;
            for (int i = i0; i < hv; ++i) o[i] += w[j] * as_f32(vr[i]);
        }
    }
}

// Keys any query of this batch can see: first .. last-1.
int64_t first_key(const AttentionShape &s, int64_t pos0) {
    return s.window > 0 ? std::max<int64_t>(0, pos0 - s.window + 1) : 0;
}

void attention_convert(const AttentionArgs &args, int g) {
    const AttentionShape &s = *args.s;
    const KvCache &kv = *args.kv;
    const int hk = s.head_dim_k, hv = s.head_dim_v;
    const int64_t first = first_key(s, args.pos0), last = args.pos0 + args.n_tokens;
    float *k = args.scratch + attention_kv_slot_floats(s, kv.n_ctx()) * static_cast<size_t>(g);
    float *v = k + kv.n_ctx() * hk;
    // The head's rows are contiguous in the cache: one run each.
    fp16_row_to_f32(kv.k_f16(args.l, g, first), k, (last - first) * hk);
    fp16_row_to_f32(kv.v_f16(args.l, g, first), v, (last - first) * hv);
}

void attention_head(const AttentionArgs &args, int h, int64_t t0, int64_t t1, int slot) {
    const AttentionShape &s = *args.s;
    const KvCache &kv = *args.kv;
    const int l = args.l;
    const float *q = args.q;
    const int64_t ldq = args.ldq, pos0 = args.pos0, ldo = args.ldo;
    float *out = args.out, *scratch = args.scratch;
    const int g = h / (s.n_head / s.n_head_kv);
    const int hk = s.head_dim_k, hv = s.head_dim_v;
    const bool half = kv.type() == KvType::f16;
    const bool flash = half && kv.flash_numerics();
    const int64_t n_ctx = kv.n_ctx();
    const int64_t first = first_key(s, pos0);

    const size_t kv_slot = attention_kv_slot_floats(s, n_ctx);
    float *hbase = scratch + kv_slot * static_cast<size_t>(s.n_head_kv) +
                   attention_head_slot_floats(s, n_ctx) * static_cast<size_t>(slot);
    Slots sl{hbase, hbase + n_ctx, hbase + n_ctx + hk};
    // Rows of this head's keys/values for positions first..last-1, as f32.
    const float *krows, *vrows;
    int64_t kstride, vstride;
    if (half) {  // converted by attention_convert
        krows = scratch + kv_slot * static_cast<size_t>(g);
        vrows = krows + n_ctx * hk;
        kstride = hk;
        vstride = hv;
    } else {
        krows = kv.k_f32(l, g, first);
        vrows = kv.v_f32(l, g, first);
        kstride = hk;
        vstride = hv;
    }
    for (int64_t t = t0; t < t1; ++t) {
        const int64_t p = pos0 + t;
        const int64_t lo = s.window > 0 ? std::max<int64_t>(0, p - s.window + 1) : 0;
        const float *qh = q + t * ldq + static_cast<int64_t>(h) * hk;
        if (half) {  // llama.cpp converts the query to the cache's type for q.k
            for (int i = 0; i < hk; ++i) sl.q[i] = round_fp16(qh[i]);
            qh = sl.q;
        }
        float *o = out + t * ldo + static_cast<int64_t>(h) * hv;
        if (flash) {
            flash_one(qh, krows, kstride, vrows, vstride, lo - first, p - first, hk, hv, s.scale,
                      sl.acc, o);
            continue;
        }
        // Keys/values lo..p, f32 rows or (f16_direct) the cache's fp16 rows.
        const int64_t n = p - lo + 1;
        auto attend = [&](const auto *k, int64_t ks, const auto *v, int64_t vs) {
            scores(qh, k, ks, n, hk, s.scale, sl.scores);
            softmax_weights(sl.scores, n, max_score(sl.scores, n), half);
            weighted_sum(sl.scores, v, vs, n, hv, o);
        };
#if defined(__AVX2__)
        if (args.f16_direct) {
            attend(kv.k_f16(l, g, lo), hk, kv.v_f16(l, g, lo), hv);
            continue;
        }
#endif
        attend(krows + (lo - first) * kstride, kstride, vrows + (lo - first) * vstride, vstride);
    }
}

}  // namespace
}  // namespace ember::ops
