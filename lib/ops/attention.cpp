// ops/attention.cpp - causal attention over the KV cache.
//
// Dense float work without quantization; written as plain loops with a fixed number of
// partial sums rather than through Eigen, because Eigen's GEMM/GEMV pick their blocking
// (and so their summation order) from the matrix sizes, and the number of keys differs
// between a prompt fed at once and the same prompt fed token by token. Determinism wins.
// The loops live in attention_impl.hpp, compiled twice: here for any x86-64 and in
// attention_avx2.cpp with wider vectors; both give the same bits.
#include "ops/attention.hpp"

#include "core/cpu_features.hpp"
#include "ops/attention_impl.hpp"
#include "ops/parallel.hpp"

#include <tbb/blocked_range.h>

#include <array>

namespace ember::ops {

size_t attention_kv_slot_floats(const AttentionShape &s, int64_t n_ctx) {
    return static_cast<size_t>(n_ctx) * static_cast<size_t>(s.head_dim_k + s.head_dim_v);
}

size_t attention_head_slot_floats(const AttentionShape &s, int64_t n_ctx) {
    return static_cast<size_t>(n_ctx) + static_cast<size_t>(s.head_dim_k + s.head_dim_v);
}

size_t attention_scratch_floats(const AttentionShape &s, int64_t n_ctx) {
    return attention_kv_slot_floats(s, n_ctx) * static_cast<size_t>(s.n_head_kv) +
           attention_head_slot_floats(s, n_ctx) * static_cast<size_t>(s.n_head) * k_query_parts;
}

void attention_convert_base(const AttentionArgs &a, int g) { attention_convert(a, g); }
void attention_head_base(const AttentionArgs &a, int h, int64_t t0, int64_t t1, int slot) {
    attention_head(a, h, t0, t1, slot);
}

namespace {
// Where to cut a batch's queries into k_query_parts pieces of about equal work: query t
// reads every key it can see, so causal work grows along the batch and the cut of two
// parts lands near n / sqrt(2), not n / 2. cuts[0] = 0, cuts[k_query_parts] = n_tokens.
std::array<int64_t, k_query_parts + 1> query_cuts(const AttentionShape &s, int64_t n_tokens, int64_t pos0) {
    auto keys = [&](int64_t t) {
        const int64_t p = pos0 + t;
        return s.window > 0 ? std::min<int64_t>(p + 1, s.window) : p + 1;
    };
    int64_t total = 0;
    for (int64_t t = 0; t < n_tokens; ++t) total += keys(t);
    std::array<int64_t, k_query_parts + 1> cuts{};
    int64_t acc = 0, t = 0;
    for (int k = 1; k < k_query_parts; ++k) {
        while (t < n_tokens && acc * k_query_parts < total * k) acc += keys(t++);
        cuts[k] = t;
    }
    cuts[k_query_parts] = n_tokens;
    return cuts;
}
}  // namespace

void attention(const AttentionShape &s, const KvCache &kv, int l, const float *q, int64_t ldq,
               int64_t n_tokens, int64_t pos0, float *out, int64_t ldo, float *scratch) {
    // The ISA choice is made once per process (core/cpu_features), so it is the same for
    // every call and every thread.
    static const bool scalar = active_isa() == Isa::scalar;
    AttentionArgs args{&s, &kv, l, q, ldq, n_tokens, pos0, out, ldo, scratch};
    args.f16_direct = !scalar && kv.type() == KvType::f16 && !kv.flash_numerics() && n_tokens <= 2;
    // Two hand-offs: fp16 rows to f32 once per kv head (shared by its query heads; skipped when
    // decode reads the cache in place), then the queries. Each output value is computed
    // inside one task in a fixed order either way.
    if (kv.type() == KvType::f16 && !args.f16_direct)
        parallel_for(tbb::blocked_range<int>(0, s.n_head_kv, 1),
                     [&](const tbb::blocked_range<int> &r) {
                         for (int g = r.begin(); g < r.end(); ++g)
                             scalar ? attention_convert_base(args, g) : attention_convert_avx2(args, g);
                     },
                     tbb::simple_partitioner());
    // Then one task per query head and part of the batch (a model with fewer heads than
    // threads, or a head count the threads do not divide, still balances).
    const auto cuts = query_cuts(s, n_tokens, pos0);
    parallel_for(tbb::blocked_range<int>(0, s.n_head * k_query_parts, 1),
                 [&](const tbb::blocked_range<int> &r) {
                     for (int i = r.begin(); i < r.end(); ++i) {
                         const int h = i / k_query_parts, part = i % k_query_parts;
                         if (cuts[part] == cuts[part + 1]) continue;
                         scalar ? attention_head_base(args, h, cuts[part], cuts[part + 1], i)
                                : attention_head_avx2(args, h, cuts[part], cuts[part + 1], i);
                     }
                 },
                 tbb::simple_partitioner());
}

}  // namespace ember::ops
