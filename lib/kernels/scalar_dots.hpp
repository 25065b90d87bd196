// kernels/scalar_dots.hpp - the SIMD kernels' arithmetic, one output element at a time.
//
// The SIMD kernels (simd_q8.hpp, simd_q5.hpp, simd_kquants.hpp) document, per output element,
// an exact integer dot per block followed by a fixed chain of float operations:
//   Q8_0, Q4_0, Q5_0        acc = fma(float(isum), dw * da, acc)
//   Q4_1, Q5_1              llama.cpp's x86 lane order (quant::vec_dot_q4_1_q8_1_x86)
//   Q4_K, Q5_K              acc = fma(float(isum), dw * da, acc); acc = fma(-float(msum), dmin * da, acc)
//   Q6_K                    acc = fma(float(isum - 32 * sum sc * bsum), dw * da, acc)
//   F32, F16, BF16          16 fma lanes, a fixed tree, the tail (kernels/float_order.hpp)
// The integer parts are exact in any order, so a scalar loop that keeps the float chain
// computes the very same bits. The scalar ISA uses these dots, which makes EMBER_ISA=scalar
// agree bit for bit with every SIMD ISA (and ember's logits the same on any x86 CPU), and
// lets the kernel tests demand equality instead of a bound.
#pragma once

#include "core/dtype.hpp"

#include <cstdint>

namespace ember::kernels {

using ScalarDot = float (*)(int64_t n, const void *weight_row, const void *act_row);

// The kernel-order dot of weights of `type` against its activation row (BlockQ8_0, BlockQ8_1
// or BlockQ8_K blocks, or F32/F16/BF16 values, as quant::activation_quantizer writes them);
// nullptr for the types that have no SIMD kernel (Q2_K, Q3_K: the quant layer's dot serves).
ScalarDot kernel_order_dot(DType type);

}  // namespace ember::kernels
