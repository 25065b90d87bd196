// ops/attention.hpp - causal multi-head attention over the KV cache (GQA/MQA, sliding window).
#pragma once

#include "ops/kv_cache.hpp"

#include <cstddef>
#include <cstdint>

namespace ember::ops {

struct AttentionShape {
    int n_head = 0;      // query heads
    int n_head_kv = 0;   // key/value heads; query head h reads kv head h / (n_head / n_head_kv)
    int head_dim_k = 0;  // length of a query/key head
    int head_dim_v = 0;  // length of a value head
    float scale = 1.0f;  // scores are (q . k) * scale before the softmax
    int64_t window = 0;  // > 0: the query at p sees keys p-window+1 .. p only (sliding window)
};

// Floats of scratch attention() needs for a cache of n_ctx positions.
size_t attention_scratch_floats(const AttentionShape &s, int64_t n_ctx);

// out[t] = softmax(q[t] . K^T * scale over visible keys) . V for the n_tokens queries at
// positions pos0 .. pos0+n_tokens-1, whose keys/values are already stored in layer l of kv.
// q: [n_tokens, ldq] (n_head heads of head_dim_k); out: [n_tokens, ldo] (n_head heads of
// head_dim_v). Numerics follow llama.cpp's CPU backend:
//   f32 cache: softmax(q.k * scale) (sum in double) times V, all in f32 (as without flash
//              attention; with an f32 cache the two differ only by float rounding).
//   f16 cache, kv.flash_numerics() false: as llama.cpp without flash attention: the query
//              is rounded to fp16 for q.k and the probabilities to fp16 before they weight V.
//   f16 cache, kv.flash_numerics() true: as llama.cpp's flash attention (its CPU default):
//              query rounded to fp16, one online-softmax pass accumulating V in fp16. Heads run in parallel in the calling oneTBB
// arena; each output value has one summation order whatever the batch or thread count.
void attention(const AttentionShape &s, const KvCache &kv, int l, const float *q, int64_t ldq,
               int64_t n_tokens, int64_t pos0, float *out, int64_t ldo, float *scratch);

}  // namespace ember::ops
