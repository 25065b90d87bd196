// ops/kv_cache.hpp - per-layer key and value storage for one sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ember::ops {

enum class KvType {
    f16,  // llama.cpp's default: K and V rounded to fp16 when stored
    f32,
};

// K and V of every layer for positions [0, n_ctx), head-major: layer l's kv head g holds its
// keys as rows [n_ctx, head_dim_k] and its values as rows [n_ctx, head_dim_v], so attention
// streams one head's positions from contiguous memory (a position-major cache strides by
// the whole k_dim between the rows one head reads, which the hardware prefetcher cannot
// follow: decode at a 1024-token depth spent most of its time waiting for those rows).
// Everything is allocated here, once; storing never allocates.
class KvCache {
public:
    KvCache() = default;
    // Throws Errc::out_of_memory (with the byte count) when the cache cannot be allocated.
    // flash_numerics: read an fp16 cache the way llama.cpp's flash attention does (its
    // default on CPU) rather than through two matrix products (see ops/attention.hpp).
    KvCache(int n_layer, int64_t n_ctx, int n_head_kv, int64_t head_dim_k, int64_t head_dim_v,
            KvType type, bool flash_numerics = false);

    KvType type() const { return type_; }
    bool flash_numerics() const { return flash_; }
    int n_layer() const { return n_layer_; }
    int64_t n_ctx() const { return n_ctx_; }
    int n_head_kv() const { return n_head_kv_; }
    int64_t head_dim_k() const { return hk_; }
    int64_t head_dim_v() const { return hv_; }
    int64_t k_dim() const { return n_head_kv_ * hk_; }  // one position's keys, all heads
    int64_t v_dim() const { return n_head_kv_ * hv_; }
    uint64_t bytes() const;

    // Write rows t < n_tokens of k ([n_tokens, ldk], heads side by side) and v ([n_tokens,
    // ldv]) at positions pos0 + t of layer l (the caller has checked pos0 + n_tokens <= n_ctx).
    void store(int l, int64_t pos0, int64_t n_tokens, const float *k, int64_t ldk, const float *v,
               int64_t ldv);

    // Kv head g's row at position pos in layer l (the next position's row follows it):
    // fp16 bits for KvType::f16, floats for f32.
    const uint16_t *k_f16(int l, int g, int64_t pos) const { return k16_.data() + offset(l, g, pos, hk_); }
    const uint16_t *v_f16(int l, int g, int64_t pos) const { return v16_.data() + offset(l, g, pos, hv_); }
    const float *k_f32(int l, int g, int64_t pos) const { return k32_.data() + offset(l, g, pos, hk_); }
    const float *v_f32(int l, int g, int64_t pos) const { return v32_.data() + offset(l, g, pos, hv_); }

private:
    size_t offset(int l, int g, int64_t pos, int64_t hd) const {
        return static_cast<size_t>(((static_cast<int64_t>(l) * n_head_kv_ + g) * n_ctx_ + pos) * hd);
    }

    KvType type_ = KvType::f16;
    bool flash_ = false;
    int n_layer_ = 0, n_head_kv_ = 0;
    int64_t n_ctx_ = 0, hk_ = 0, hv_ = 0;
    std::vector<uint16_t> k16_, v16_;
    std::vector<float> k32_, v32_;
};

}  // namespace ember::ops
