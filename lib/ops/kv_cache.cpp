// ops/kv_cache.cpp - KV storage.
#include "ops/kv_cache.hpp"

#include "core/fail.hpp"
#include "quant/fp16.hpp"

#include <algorithm>
#include <new>

namespace ember::ops {

KvCache::KvCache(int n_layer, int64_t n_ctx, int n_head_kv, int64_t head_dim_k, int64_t head_dim_v,
                 KvType type, bool flash_numerics)
    : type_(type), flash_(flash_numerics), n_layer_(n_layer), n_head_kv_(n_head_kv), n_ctx_(n_ctx),
      hk_(head_dim_k), hv_(head_dim_v) {
    if (n_layer <= 0 || n_ctx <= 0 || n_head_kv <= 0 || head_dim_k <= 0 || head_dim_v <= 0 ||
        head_dim_k > (int64_t{1} << 20) || head_dim_v > (int64_t{1} << 20))
        fail(Errc::invalid_argument, "KV cache: bad shape (layers {}, n_ctx {}, kv heads {}, head dims {} and {})",
             n_layer, n_ctx, n_head_kv, head_dim_k, head_dim_v);
    const int64_t k_dim = this->k_dim(), v_dim = this->v_dim();
    const auto per_layer = checked_mul(static_cast<uint64_t>(n_ctx),
                                       static_cast<uint64_t>(k_dim + v_dim));
    const auto elems = per_layer ? checked_mul(*per_layer, static_cast<uint64_t>(n_layer))
                                 : std::nullopt;
    const uint64_t elem_bytes = type == KvType::f16 ? 2 : 4;
    if (!elems || *elems > (uint64_t{1} << 62) / elem_bytes)
        fail(Errc::out_of_memory, "KV cache of {} layers x {} positions is too large", n_layer,
             n_ctx);
    const size_t nk = static_cast<size_t>(n_layer) * static_cast<size_t>(n_ctx * k_dim);
    const size_t nv = static_cast<size_t>(n_layer) * static_cast<size_t>(n_ctx * v_dim);
    try {
        if (type == KvType::f16) {
            k16_.assign(nk, 0);
            v16_.assign(nv, 0);
        } else {
            k32_.assign(nk, 0.0f);
            v32_.assign(nv, 0.0f);
        }
    } catch (const std::bad_alloc &) {
        fail(Errc::out_of_memory, "cannot allocate a KV cache of {} bytes", *elems * elem_bytes);
    }
}

uint64_t KvCache::bytes() const {
    return type_ == KvType::f16 ? (k16_.size() + v16_.size()) * 2 : (k32_.size() + v32_.size()) * 4;
}

void KvCache::store(int l, int64_t pos0, int64_t n_tokens, const float *k, int64_t ldk,
                    const float *v, int64_t ldv) {
    for (int g = 0; g < n_head_kv_; ++g) {
        for (int64_t t = 0; t < n_tokens; ++t) {
            const float *kr = k + t * ldk + g * hk_;
            const float *vr = v + t * ldv + g * hv_;
            if (type_ == KvType::f16) {
                uint16_t *kd = k16_.data() + offset(l, g, pos0 + t, hk_);
                uint16_t *vd = v16_.data() + offset(l, g, pos0 + t, hv_);
                for (int64_t i = 0; i < hk_; ++i) kd[i] = quant::f32_to_fp16(kr[i]);
                for (int64_t i = 0; i < hv_; ++i) vd[i] = quant::f32_to_fp16(vr[i]);
            } else {
                std::copy(kr, kr + hk_, k32_.data() + offset(l, g, pos0 + t, hk_));
                std::copy(vr, vr + hv_, v32_.data() + offset(l, g, pos0 + t, hv_));
            }
        }
    }
}

}  // namespace ember::ops
