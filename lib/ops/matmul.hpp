// ops/matmul.hpp - the matrix multiply front-end every model layer calls.
//
// y = W x for a weight W of shape [rows, cols] (GGUF ne = {cols, rows}) in any supported
// DType. Quantized weights are multiplied against activations quantized to the format the
// weight pairs with (Q8_0, Q8_1 or Q8_K), with integer dot products accumulated in f32, as
// llama.cpp does. Output rows are split across the threads of the calling oneTBB arena;
// every output element has one fixed summation order, so results are bit-identical for any
// thread count and any split of tokens into batches.
#pragma once

#include "core/cpu_features.hpp"
#include "core/dtype.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

namespace ember::ops {

// A weight matrix bound for matmul. Binding checks the type has kernels and the row length
// is a whole number of blocks (ember::Error otherwise); formats with a faster interleaved
// layout are repacked here, once, into memory the Weight owns.
class Weight {
public:
    Weight() = default;
    // Called as the repacking goes, with each range of rows [r0, r1) it has finished: a
    // repacked Weight never reads those original bytes again, so the loader can give their
    // memory back at once and a model never holds a whole tensor twice (peak memory stays
    // near the file size rather than the file plus its largest tensor).
    using PackedRows = std::function<void(int64_t r0, int64_t r1)>;

    static Weight bind(DType type, const void *data, int64_t rows, int64_t cols,
                       const PackedRows &packed_rows = {});
    // Same, for the kernels of a given ISA instead of active_isa() (tests, benchmarks);
    // Errc::unsupported if this machine cannot run it.
    static Weight bind(DType type, const void *data, int64_t rows, int64_t cols, Isa isa,
                       const PackedRows &packed_rows = {});

    DType type() const { return type_; }
    int64_t rows() const { return rows_; }
    int64_t cols() const { return cols_; }
    const void *data() const { return data_; }      // the original GGUF layout
    size_t row_bytes() const { return row_bytes_; }
    const void *packed() const { return packed_.get(); }  // repacked layout, or nullptr
    Isa isa() const { return isa_; }                      // kernels this weight runs on
    const void *kernel() const { return kernel_; }        // kernels::MatmulKernel (internal)

private:
    DType type_ = DType::f32;
    int64_t rows_ = 0, cols_ = 0;
    size_t row_bytes_ = 0;
    const void *data_ = nullptr;
    std::shared_ptr<const void> packed_;
    Isa isa_ = Isa::scalar;
    const void *kernel_ = nullptr;  // kernels::MatmulKernel, opaque here
};

// Scratch bytes matmul() needs for n_tokens rows of activations against w.
size_t matmul_scratch_bytes(const Weight &w, int64_t n_tokens);

// y[t*ldy + r] = sum_c W[r, c] * x[t*cols + c]   for t < n_tokens, r < rows.
// x: [n_tokens, cols] f32; y: [n_tokens, ldy] with ldy >= rows (ldy 0 means rows).
// scratch must hold matmul_scratch_bytes(w, n_tokens) bytes; nothing is allocated.
void matmul(const Weight &w, const float *x, int64_t n_tokens, float *y,
            std::span<std::byte> scratch, int64_t ldy = 0);

// One product of a fused call: y[t*ldy + r] = (W x)[t, r]; ldy 0 means W's rows.
struct Product {
    const Weight *w;
    float *y;
    int64_t ldy = 0;
};

// An elementwise gated activation, y[i] = f(gate[i]) * up[i] (ops/activation.hpp).
using Glu = void (*)(const float *gate, const float *up, int64_t n, float *y);

// Activations converted once to the layout a weight's kernel reads, so that several weights
// sharing an input (Q/K/V, gate/up) convert it once. A view into caller scratch: valid while
// that scratch is. Any weight for which accepts() is true can use it.
class Activations {
public:
    Activations() = default;
    int64_t n_tokens() const { return n_tokens_; }
    int64_t cols() const { return cols_; }
    bool accepts(const Weight &w) const;   // same ISA, same layout, same cols

private:
    friend Activations quantize_activations(const Weight &, const float *, int64_t,
                                            std::span<std::byte>);
    friend void matmul(const Weight &, const Activations &, float *, int64_t);
    friend void matmul(std::span<const Product>, const float *, int64_t, std::span<std::byte>);
    friend void matmul_glu(const Weight &, const Weight &, Glu, const float *, int64_t, float *,
                           float *, std::span<std::byte>);
    const std::byte *data_ = nullptr;
    size_t row_bytes_ = 0;
    int64_t n_tokens_ = 0, cols_ = 0;
    Isa isa_ = Isa::scalar;
    int layout_ = -1;
};

// Converts x [n_tokens, w.cols()] for w's kernel into scratch (matmul_scratch_bytes(w, n)).
Activations quantize_activations(const Weight &w, const float *x, int64_t n_tokens,
                                 std::span<std::byte> scratch);

// y = W a for activations already converted; Errc::invalid_argument unless a.accepts(w).
void matmul(const Weight &w, const Activations &a, float *y, int64_t ldy = 0);

// y_i = W_i x for several weights that read the same input (the Q, K and V projections), in
// one pass over the threads instead of one per weight: the activations are converted once
// (per run of weights whose kernels read the same layout), and the rows of all the weights
// are shared out together. Each y_i has the bits matmul(W_i, x, ...) gives. At most
// k_max_products products; scratch as for the largest single matmul.
inline constexpr size_t k_max_products = 4;
void matmul(std::span<const Product> products, const float *x, int64_t n_tokens,
            std::span<std::byte> scratch);

// The gated half of a feed-forward block, glu(Wgate x, Wup x), in one pass over the threads:
// each piece of rows is multiplied by both weights and glu'd at once, so the activation runs
// on every thread and the two products cost one hand-off. out: [n_tokens, gate.rows()]
// receives the result; up_out: [n_tokens, up.rows()] is working space. glu must be
// elementwise (swiglu, geglu). Bits as matmul(gate), matmul(up), then glu over the whole.
void matmul_glu(const Weight &gate, const Weight &up, Glu glu, const float *x, int64_t n_tokens,
                float *out, float *up_out, std::span<std::byte> scratch);

// Row r of w as f32 (embedding lookup): out[0..cols).
void get_row(const Weight &w, int64_t r, float *out);

}  // namespace ember::ops
