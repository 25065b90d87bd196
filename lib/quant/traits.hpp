// quant/traits.hpp - what ember can compute with each tensor type: one row per type.
//
// The functions named here are the scalar references: the quantizer *is* the format's
// specification, dequantize is bit-exact with llama.cpp's dequantize_row_*, and vec_dot
// accumulates exactly like llama.cpp's scalar (generic) path: an integer sum per block (or
// per 8-lane group for the K-quants), then scales applied in f32 (bit-exact tests compare
// them with ggml's generic CPU code). Matmuls use matmul_vec_dot(), which differs for Q4_1
// and Q5_1 (x Q8_1): the *_x86 dots follow llama.cpp's x86 order (8 f32 lanes of 4-element
// chunks, the m * s terms summed apart) because their two terms nearly cancel and the order
// decides which way a later activation rounding flips. SIMD kernels are tested against
// matmul_vec_dot.
//
// A matmul row of a quantized weight is dotted with an activation row that was first
// quantized to `vec_dot_type` by that type's from_float (Q8_0, Q8_1 or Q8_K), as llama.cpp's
// CPU backend pairs them.
//
// Two quantizers per Q8 activation format, on purpose:
//   quantize_q8_0 / quantize_q8_1 (the table's from_float): bit-exact with llama.cpp's
//     generic quantize_row_q8_*_ref (id = 1 / d, round half away from zero). The format's
//     specification, and what the quantizer tests compare against libggml-base.
//   quantize_q8_0_act / quantize_q8_1_act: what llama.cpp's x86 CPU backend runs on
//     activations before a matmul (id = 127 / amax, round half to even); the reference
//     logits come from that backend, so every matmul (scalar and SIMD) quantizes its
//     activations this way. activation_quantizer() picks it. Q8_K has one quantizer (x86
//     uses the _ref one).
#pragma once

#include "core/dtype.hpp"

#include <cstdint>
#include <string_view>

namespace ember::quant {

struct TypeTraits {
    DType type;
    std::string_view name;      // as llama.cpp prints it: "q4_K"
    int block_elems;            // elements per block (1 for f32/f16/bf16)
    int block_bytes;            // bytes per block
    bool quantized;
    DType vec_dot_type;         // activation format that vec_dot expects
    // dst[0..n) = src as f32; n must be a multiple of block_elems.
    void (*to_float)(const void *src, float *dst, int64_t n);
    // Reference quantizer: n floats -> n / block_elems blocks. n a multiple of block_elems.
    void (*from_float)(const float *src, void *dst, int64_t n);
    // Scalar reference dot of n elements: weight row in this type, act row in vec_dot_type.
    // nullptr for the activation-only formats (Q8_1, Q8_K).
    float (*vec_dot)(int64_t n, const void *weight_row, const void *act_row);
};

// The row for `type`, or nullptr when ember has no scalar code for it.
const TypeTraits *find_traits(DType type);

// The row for `type`; throws Errc::unsupported naming the type when there is none.
const TypeTraits &traits(DType type);

// The quantizer a matmul applies to its activations for `vec_dot_type` (see the top of this
// file): the *_act function for Q8_0/Q8_1, else the table's from_float.
using FromFloat = void (*)(const float *src, void *dst, int64_t n);
FromFloat activation_quantizer(DType vec_dot_type);

// The dot a matmul of weight type `type` uses: the *_x86 variant for Q4_1/Q5_1, else the
// table's vec_dot.
using VecDot = float (*)(int64_t n, const void *weight_row, const void *act_row);
VecDot matmul_vec_dot(DType type);

// ---------------------------------------------------------------------------------------
// The scalar functions themselves, for callers that know the type statically (kernels'
// tails, tests). Same contracts as the table's function pointers.

void to_float_f32(const void *src, float *dst, int64_t n);
void to_float_f16(const void *src, float *dst, int64_t n);
void to_float_bf16(const void *src, float *dst, int64_t n);
void from_float_f32(const float *src, void *dst, int64_t n);
void from_float_f16(const float *src, void *dst, int64_t n);
void from_float_bf16(const float *src, void *dst, int64_t n);
float vec_dot_f32(int64_t n, const void *w, const void *a);
float vec_dot_f16(int64_t n, const void *w, const void *a);
float vec_dot_bf16(int64_t n, const void *w, const void *a);

void dequantize_q4_0(const void *src, float *dst, int64_t n);
void dequantize_q4_1(const void *src, float *dst, int64_t n);
void dequantize_q5_0(const void *src, float *dst, int64_t n);
void dequantize_q5_1(const void *src, float *dst, int64_t n);
void dequantize_q8_0(const void *src, float *dst, int64_t n);
void dequantize_q8_1(const void *src, float *dst, int64_t n);
void quantize_q4_0(const float *src, void *dst, int64_t n);
void quantize_q4_1(const float *src, void *dst, int64_t n);
void quantize_q5_0(const float *src, void *dst, int64_t n);
void quantize_q5_1(const float *src, void *dst, int64_t n);
void quantize_q8_0(const float *src, void *dst, int64_t n);
void quantize_q8_1(const float *src, void *dst, int64_t n);
void quantize_q8_0_act(const float *src, void *dst, int64_t n);
void quantize_q8_1_act(const float *src, void *dst, int64_t n);
float vec_dot_q4_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q4_1_q8_1(int64_t n, const void *w, const void *a);
float vec_dot_q5_0_q8_0(int64_t n, const void *w, const void *a);
float vec_dot_q5_1_q8_1(int64_t n, const void *w, const void *a);
float vec_dot_q4_1_q8_1_x86(int64_t n, const void *w, const void *a);
float vec_dot_q5_1_q8_1_x86(int64_t n, const void *w, const void *a);
float vec_dot_q8_0_q8_0(int64_t n, const void *w, const void *a);

void dequantize_q2_k(const void *src, float *dst, int64_t n);
void dequantize_q3_k(const void *src, float *dst, int64_t n);
void dequantize_q4_k(const void *src, float *dst, int64_t n);
void dequantize_q5_k(const void *src, float *dst, int64_t n);
void dequantize_q6_k(const void *src, float *dst, int64_t n);
void dequantize_q8_k(const void *src, float *dst, int64_t n);
void quantize_q2_k(const float *src, void *dst, int64_t n);
void quantize_q3_k(const float *src, void *dst, int64_t n);
void quantize_q4_k(const float *src, void *dst, int64_t n);
void quantize_q5_k(const float *src, void *dst, int64_t n);
void quantize_q6_k(const float *src, void *dst, int64_t n);
void quantize_q8_k(const float *src, void *dst, int64_t n);
float vec_dot_q2_k_q8_k(int64_t n, const void *w, const void *a);
float vec_dot_q3_k_q8_k(int64_t n, const void *w, const void *a);
float vec_dot_q4_k_q8_k(int64_t n, const void *w, const void *a);
float vec_dot_q5_k_q8_k(int64_t n, const void *w, const void *a);
float vec_dot_q6_k_q8_k(int64_t n, const void *w, const void *a);

}  // namespace ember::quant
