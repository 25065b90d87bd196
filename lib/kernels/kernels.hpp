// kernels/kernels.hpp - the matmul kernels of one weight format on one ISA, behind a table.
//
// A kernel computes y = W x for a range of weight rows and every token. The activations are
// first converted once per token row into the kernel's activation layout (for the quantized
// formats: the blocks of the format's vec_dot_type, byte for byte as quant::activation_quantizer
// writes them, optionally followed by per-block extras such as f32 scales and sums that the
// SIMD loops want precomputed). Some kernels read the weight in a layout repacked once at
// bind time (rows interleaved in groups), others read the GGUF layout directly.
//
// Determinism contract: for a given (ISA, format), y[t, r] depends only on row r and token t:
// not on the row range, the token count, or which tile it was computed in.
#pragma once

#include "core/cpu_features.hpp"
#include "core/dtype.hpp"

#include <cstddef>
#include <cstdint>

namespace ember::kernels {

struct GemmArgs {
    const void *weight;      // GGUF layout, row r at weight + r * w_row_bytes
    size_t w_row_bytes;
    const void *packed;      // repacked layout (kernels with pack != nullptr), else nullptr
    int64_t rows, cols;      // the whole matrix
    const void *act;         // activation rows, token t at act + t * act_row_bytes
    size_t act_row_bytes;
    int64_t n_tokens;
    float *y;                // y[t * ldy + r]
    int64_t ldy;
    int64_t r0, r1;          // rows to compute; r0 is a multiple of row_align
};

// Which activation layout a kernel reads. Two weights whose kernels name the same layout
// (and the same ISA) can share one quantized copy of the activations.
enum class ActLayout : uint8_t {
    f32, f16, bf16,     // plain rows
    q8_0,               // BlockQ8_0 rows (reference bytes)
    q8_0x,              // BlockQ8_0 rows + f32 scale and int32 sum corrections per block
    q8_1,               // BlockQ8_1 rows
    q8_1x,              // BlockQ8_1 rows + f32 d and s per block
    q8_k,               // BlockQ8_K rows
    q8_kx,              // BlockQ8_K rows + 16-bit sums of each 32 qs
    f16x, bf16x,        // 16-bit rows + the same values widened to f32
};

struct MatmulKernel {
    DType type;
    Isa isa;
    ActLayout act_layout;
    int row_align;                                            // 1, or the interleave width
    size_t (*act_row_bytes)(int64_t cols);                    // multiple of 64
    void (*quantize)(const float *x, void *dst, int64_t cols);  // one activation row
    size_t (*packed_bytes)(int64_t rows, int64_t cols);       // nullptr: no repacking
    void (*pack)(const void *weight, int64_t rows, int64_t cols, void *dst);
    void (*gemm)(const GemmArgs &args);
};

// The kernel for weights of `type` on `isa`: that ISA's own kernel if it has one, else the
// scalar reference kernel. nullptr when the type has no arithmetic at all (no traits row
// with a vec_dot). `isa` must be supported by this machine (caller checks).
const MatmulKernel *find_kernel(Isa isa, DType type);

// The scalar reference kernel (quant traits' vec_dot per element), nullptr as above.
const MatmulKernel *scalar_kernel(DType type);

// Per-ISA tables, defined in the *_avx2.cpp / *_avx512.cpp / *_avx512vnni.cpp / *_avxvnni.cpp files:
// the kernel for `type`, or nullptr when that ISA has none (scalar is used instead).
const MatmulKernel *avx2_kernel(DType type);
const MatmulKernel *avx512_kernel(DType type);
const MatmulKernel *avx512vnni_kernel(DType type);
const MatmulKernel *avxvnni_kernel(DType type);

}  // namespace ember::kernels
