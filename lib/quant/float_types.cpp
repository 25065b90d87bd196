// quant/float_types.cpp - F32, F16 and BF16 rows: conversions and the reference dots.
//
// The dots accumulate each f32 product in double, as llama.cpp's scalar ggml_vec_dot_f32 /
// _f16 / _bf16 do, and round the total to f32 once.
#include "quant/fp16.hpp"
#include "quant/scalar_util.hpp"
#include "quant/traits.hpp"

#include <cstring>

namespace ember::quant {
namespace {
inline void check_count(DType type, int64_t n) { whole_blocks(type, n, 1); }
}  // namespace

void to_float_f32(const void *src, float *dst, int64_t n) {
    check_count(DType::f32, n);
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void from_float_f32(const float *src, void *dst, int64_t n) {
    check_count(DType::f32, n);
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void to_float_f16(const void *src, float *dst, int64_t n) {
    check_count(DType::f16, n);
    const auto *h = static_cast<const uint8_t *>(src);
    for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, h + 2 * i, 2);  // GGUF data need not be 2-byte aligned
        dst[i] = fp16_to_f32(v);
    }
}

void from_float_f16(const float *src, void *dst, int64_t n) {
    check_count(DType::f16, n);
    auto *h = static_cast<uint8_t *>(dst);
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t v = f32_to_fp16(src[i]);
        std::memcpy(h + 2 * i, &v, 2);
    }
}

void to_float_bf16(const void *src, float *dst, int64_t n) {
    check_count(DType::bf16, n);
    const auto *h = static_cast<const uint8_t *>(src);
    for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, h + 2 * i, 2);
        dst[i] = bf16_to_f32(v);
    }
}

void from_float_bf16(const float *src, void *dst, int64_t n) {
    check_count(DType::bf16, n);
    auto *h = static_cast<uint8_t *>(dst);
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t v = f32_to_bf16(src[i]);
        std::memcpy(h + 2 * i, &v, 2);
    }
}

float vec_dot_f32(int64_t n, const void *w, const void *a) {
    check_count(DType::f32, n);
    const auto *x = static_cast<const uint8_t *>(w);
    const auto *y = static_cast<const uint8_t *>(a);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        float xv, yv;
        std::memcpy(&xv, x + 4 * i, 4);
        std::memcpy(&yv, y + 4 * i, 4);
        sum += static_cast<double>(xv * yv);
    }
    return static_cast<float>(sum);
}

namespace {
template <float (*Convert)(uint16_t)>
float dot_16bit(int64_t n, const void *w, const void *a) {
    const auto *x = static_cast<const uint8_t *>(w);
    const auto *y = static_cast<const uint8_t *>(a);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        uint16_t xv, yv;
        std::memcpy(&xv, x + 2 * i, 2);
        std::memcpy(&yv, y + 2 * i, 2);
        sum += static_cast<double>(Convert(xv) * Convert(yv));
    }
    return static_cast<float>(sum);
}
float fp16_fn(uint16_t h) { return fp16_to_f32(h); }
float bf16_fn(uint16_t h) { return bf16_to_f32(h); }
}  // namespace

float vec_dot_f16(int64_t n, const void *w, const void *a) {
    check_count(DType::f16, n);
    return dot_16bit<fp16_fn>(n, w, a);
}

float vec_dot_bf16(int64_t n, const void *w, const void *a) {
    check_count(DType::bf16, n);
    return dot_16bit<bf16_fn>(n, w, a);
}

}  // namespace ember::quant
