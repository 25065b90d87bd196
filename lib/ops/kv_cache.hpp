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

// K and V of every layer for positions [0, n_ctx). Layer l's keys are rows
// [n_ctx, k_dim] (k_dim = n_head_kv * head_dim_k), values [n_ctx, v_dim]. Everything is
// allocated here, once; storing never allocates.
class KvCache {
public:
    KvCache() = default;
    // Throws Errc::out_of_memory (with the byte count) when the cache cannot be allocated.
    // flash_numerics: read an fp16 cache the way llama.cpp's flash attention does (its
    // default on CPU) rather than through two matrix products (see ops/attention.hpp).
    KvCache(int n_layer, int64_t n_ctx, int64_t k_dim, int64_t v_dim, KvType type,
            bool flash_numerics = false);

    KvType type() const { return type_; }
    bool flash_numerics() const { return flash_; }
    int n_layer() const { return n_layer_; }
    int64_t n_ctx() const { return n_ctx_; }
    int64_t k_dim() const { return k_dim_; }
    int64_t v_dim() const { return v_dim_; }
    uint64_t bytes() const;

    // Write rows t < n_tokens of k ([n_tokens, ldk]) and v ([n_tokens, ldv]) at positions
    // pos0 + t of layer l (the caller has checked pos0 + n_tokens <= n_ctx).
    void store(int l, int64_t pos0, int64_t n_tokens, const float *k, int64_t ldk, const float *v,
               int64_t ldv);

    // Row of position pos in layer l: fp16 bits for KvType::f16, floats for f32.
    const uint16_t *k_f16(int l, int64_t pos) const { return k16_.data() + offset_k(l, pos); }
    const uint16_t *v_f16(int l, int64_t pos) const { return v16_.data() + offset_v(l, pos); }
    const float *k_f32(int l, int64_t pos) const { return k32_.data() + offset_k(l, pos); }
    const float *v_f32(int l, int64_t pos) const { return v32_.data() + offset_v(l, pos); }

private:
    size_t offset_k(int l, int64_t pos) const {
        return static_cast<size_t>((static_cast<int64_t>(l) * n_ctx_ + pos) * k_dim_);
    }
    size_t offset_v(int l, int64_t pos) const {
        return static_cast<size_t>((static_cast<int64_t>(l) * n_ctx_ + pos) * v_dim_);
    }

    KvType type_ = KvType::f16;
    bool flash_ = false;
    int n_layer_ = 0;
    int64_t n_ctx_ = 0, k_dim_ = 0, v_dim_ = 0;
    std::vector<uint16_t> k16_, v16_;
    std::vector<float> k32_, v32_;
};

}  // namespace ember::ops
