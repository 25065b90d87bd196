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

#include <algorithm>
#include <array>
#include <cmath>
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
};

// Scratch layout: per kv head [n_ctx, head_dim_k + head_dim_v] f32 keys/values (fp16 cache),
// then per query head n_ctx scores, head_dim_k query, head_dim_v accumulator.
size_t attention_kv_slot_floats(const AttentionShape &s, int64_t n_ctx);
size_t attention_head_slot_floats(const AttentionShape &s, int64_t n_ctx);
// Phase 1 (fp16 cache only): kv head g's visible rows to f32, once per call.
void attention_convert_base(const AttentionArgs &a, int g);
void attention_convert_avx2(const AttentionArgs &a, int g);
// Phase 2: every query of the batch for query head h.
void attention_head_base(const AttentionArgs &a, int h);
void attention_head_avx2(const AttentionArgs &a, int h);

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

// Dot product with eight partial sums combined in a fixed tree: one order for any n.
float dot(const float *a, const float *b, int n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
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
void fp16_row_to_f32(const uint16_t *src, float *dst, int n) {
#if defined(EMBER_ATTENTION_F16C)
    for (int i = 0; i < n; ++i) {
        _Float16 h;
        std::memcpy(&h, src + i, sizeof h);
        dst[i] = static_cast<float>(h);
    }
#else
    const float *tab = fp16_table();
    for (int i = 0; i < n; ++i) dst[i] = tab[src[i]];
#endif
}

// o[i] = sum over j of w[j] * v[j][i], summed in j order for every i (the order of one
// running sum per element), in column chunks held in registers across all rows rather than
// loading and storing o once per row.
void weighted_sum(const float *w, const float *v, int64_t vstride, int64_t n, int hv, float *o) {
    constexpr int chunk = 64;  // 8 AVX2 accumulators: enough independent sums to hide the add latency
    int i0 = 0;
    for (; i0 + chunk <= hv; i0 += chunk) {
        float acc[chunk] = {};
        for (int64_t j = 0; j < n; ++j) {
            const float *vr = v + j * vstride + i0;
            const float wj = w[j];
            for (int c = 0; c < chunk; ++c) acc[c] += wj * vr[c];
        }
        std::copy(acc, acc + chunk, o + i0);
    }
    if (i0 < hv) {
        std::fill(o + i0, o + hv, 0.0f);
        for (int64_t j = 0; j < n; ++j) {
            const float *vr = v + j * vstride;
            for (int i = i0; i < hv; ++i) o[i] += w[j] * vr[i];
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
    for (int64_t j = first; j < last; ++j) {
        fp16_row_to_f32(kv.k_f16(args.l, j) + static_cast<int64_t>(g) * hk, k + (j - first) * hk, hk);
        fp16_row_to_f32(kv.v_f16(args.l, j) + static_cast<int64_t>(g) * hv, v + (j - first) * hv, hv);
    }
}

void attention_head(const AttentionArgs &args, int h) {
    const AttentionShape &s = *args.s;
    const KvCache &kv = *args.kv;
    const int l = args.l;
    const float *q = args.q;
    const int64_t ldq = args.ldq, n_tokens = args.n_tokens, pos0 = args.pos0, ldo = args.ldo;
    float *out = args.out, *scratch = args.scratch;
    const int g = h / (s.n_head / s.n_head_kv);
    const int hk = s.head_dim_k, hv = s.head_dim_v;
    const bool half = kv.type() == KvType::f16;
    const bool flash = half && kv.flash_numerics();
    const int64_t n_ctx = kv.n_ctx();
    const int64_t first = first_key(s, pos0);

    const size_t kv_slot = attention_kv_slot_floats(s, n_ctx);
    float *hbase = scratch + kv_slot * static_cast<size_t>(s.n_head_kv) +
                   attention_head_slot_floats(s, n_ctx) * static_cast<size_t>(h);
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
        krows = kv.k_f32(l, first) + static_cast<int64_t>(g) * hk;
        vrows = kv.v_f32(l, first) + static_cast<int64_t>(g) * hv;
        kstride = kv.k_dim();
        vstride = kv.v_dim();
    }
    for (int64_t t = 0; t < n_tokens; ++t) {
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
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = lo; j <= p; ++j) {
            const float sc = dot(qh, krows + (j - first) * kstride, hk) * s.scale;
            sl.scores[j - lo] = sc;
            mx = std::max(mx, sc);
        }
        double sum = 0.0;
        for (int64_t j = lo; j <= p; ++j) {
            const float e = std::exp(sl.scores[j - lo] - mx);
            sl.scores[j - lo] = e;
            sum += static_cast<double>(e);
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t j = lo; j <= p; ++j) {
            float w = sl.scores[j - lo] * inv;
            if (half) w = round_fp16(w);  // probabilities meet an fp16 V as fp16
            sl.scores[j - lo] = w;
        }
        weighted_sum(sl.scores, vrows + (lo - first) * vstride, vstride, p - lo + 1, hv, o);
    }
}

}  // namespace
}  // namespace ember::ops
