// ops_kv_cache_test - the KV cache's layout promise: what store() writes for a position's
// heads, each head reads back as consecutive rows (head-major), rounded to fp16 or exact.
#include "ops/kv_cache.hpp"
#include "quant/fp16.hpp"
#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace ember;

namespace {
// A distinct, fp16-exact value for (position, element).
float value(int64_t pos, int64_t i, float base) { return base + static_cast<float>(pos * 64 + i) * 0.25f; }
}  // namespace

TEST_CASE("each kv head reads back its positions as consecutive rows") {
    const int n_layer = 2, n_head_kv = 3;
    const int64_t n_ctx = 10, hk = 4, hv = 6;
    for (ops::KvType type : {ops::KvType::f16, ops::KvType::f32}) {
        ops::KvCache kv(n_layer, n_ctx, n_head_kv, hk, hv, type);
        CHECK(kv.k_dim() == n_head_kv * hk);
        CHECK(kv.v_dim() == n_head_kv * hv);
        CHECK(kv.bytes() == uint64_t(n_layer * n_ctx * (kv.k_dim() + kv.v_dim())) * (type == ops::KvType::f16 ? 2 : 4));
        // Positions 2..6 of layer 1 in two batches, with row strides wider than the data.
        const int64_t ldk = kv.k_dim() + 1, ldv = kv.v_dim() + 3;
        for (auto [pos0, n] : {std::pair<int64_t, int64_t>{2, 3}, {5, 2}}) {
            std::vector<float> k(static_cast<size_t>(n * ldk)), v(static_cast<size_t>(n * ldv));
            for (int64_t t = 0; t < n; ++t) {
                for (int64_t i = 0; i < kv.k_dim(); ++i) k[size_t(t * ldk + i)] = value(pos0 + t, i, 1.0f);
                for (int64_t i = 0; i < kv.v_dim(); ++i) v[size_t(t * ldv + i)] = value(pos0 + t, i, -100.0f);
            }
            kv.store(1, pos0, n, k.data(), ldk, v.data(), ldv);
        }
        for (int g = 0; g < n_head_kv; ++g) {
            CAPTURE(g);
            for (int64_t pos = 2; pos < 7; ++pos) {
                for (int64_t i = 0; i < hk; ++i) {
                    const float want = value(pos, g * hk + i, 1.0f);
                    // Row pos of head g, read as an offset from the head's row 2: consecutive.
                    const int64_t at = (pos - 2) * hk + i;
                    CHECK((type == ops::KvType::f16 ? quant::fp16_to_f32(kv.k_f16(1, g, 2)[at]) : kv.k_f32(1, g, 2)[at]) == want);
                }
                for (int64_t i = 0; i < hv; ++i) {
                    const float want = value(pos, g * hv + i, -100.0f);
                    const int64_t at = (pos - 2) * hv + i;
                    CHECK((type == ops::KvType::f16 ? quant::fp16_to_f32(kv.v_f16(1, g, 2)[at]) : kv.v_f32(1, g, 2)[at]) == want);
                }
            }
        }
        // Layer 0 was not written.
        CHECK((type == ops::KvType::f16 ? kv.k_f16(0, 2, 4)[0] == 0 : kv.k_f32(0, 2, 4)[0] == 0.0f));
    }
}

TEST_CASE("a bad cache shape is an error, not an allocation") {
    CHECK_THROWS_AS(ops::KvCache(0, 16, 1, 64, 64, ops::KvType::f16), Error);
    CHECK_THROWS_AS(ops::KvCache(2, 16, 0, 64, 64, ops::KvType::f16), Error);
    CHECK_THROWS_AS(ops::KvCache(2, 16, 1, 0, 64, ops::KvType::f32), Error);
    CHECK_THROWS_AS(ops::KvCache(2, 16, 1, int64_t{1} << 21, 64, ops::KvType::f16), Error);  // head too long
    // A size that overflows 64 bits is refused before anything is allocated.
    CHECK_THROWS_AS(ops::KvCache(2, int64_t{1} << 40, 4096, int64_t{1} << 20, 64, ops::KvType::f16), Error);
}
