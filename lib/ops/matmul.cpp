// ops/matmul.cpp - binding weights to kernels and running them over the caller's arena.
#include "ops/matmul.hpp"

#include "core/fail.hpp"
#include "kernels/kernels.hpp"
#include "ops/parallel.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <new>

#include <sys/mman.h>

namespace ember::ops {
namespace {

using kernels::MatmulKernel;

const MatmulKernel &kernel_of(const Weight &w) {
    if (w.kernel() == nullptr) fail(Errc::invalid_argument, "matmul: weight is not bound");
    return *static_cast<const MatmulKernel *>(w.kernel());
}

// Scratch is used from the first 64-byte boundary so SIMD quantizers write aligned rows.
std::byte *align64(std::span<std::byte> scratch) {
    const auto p = reinterpret_cast<uintptr_t>(scratch.data());
    return scratch.data() + ((64 - p % 64) % 64);
}

// Fewest rows worth handing to another thread: about 64 KiB of weight traffic (times the
// tokens), so a hand-off (a few microseconds) stays small beside the work it carries.
int64_t row_grain(const Weight &w, int64_t n_tokens) {
    const int64_t per_row = static_cast<int64_t>(w.row_bytes()) * std::max<int64_t>(n_tokens, 1);
    return std::max<int64_t>(1, (int64_t{64} << 10) / std::max<int64_t>(per_row, 1));
}

// Memory for a repacked weight: 64-byte aligned for the vector loads; large ones 2 MiB
// aligned and marked for transparent huge pages, since decode streams them end to end and
// with 4 KiB pages the hardware prefetcher stops at every page boundary (and the TLB misses).
void *alloc_packed(size_t bytes) {
    constexpr size_t huge = size_t{2} << 20;
    if (bytes < 2 * huge) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    const size_t size = (bytes + huge - 1) / huge * huge;
    void *mem = std::aligned_alloc(huge, size);
#ifdef MADV_HUGEPAGE
    // Huge pages only where the weight fills them: a huge page under the partial tail would
    // make up to 2 MiB per tensor resident for nothing (~50 MB over a 1B model's 112
    // matrices). Advice only: failure is harmless.
    const size_t full = bytes / huge * huge;
    if (mem != nullptr && full > 0) madvise(mem, full, MADV_HUGEPAGE);
    if (mem != nullptr && size > full) madvise(static_cast<char *>(mem) + full, size - full, MADV_NOHUGEPAGE);
#endif
    return mem;
}

void run_gemm(const Weight &w, const MatmulKernel &k, const std::byte *act, size_t act_row_bytes,
              int64_t n_tokens, float *y, int64_t ldy) {
    if (n_tokens == 0 || w.rows() == 0) return;
    parallel_rows(w.rows(), row_grain(w, n_tokens), k.row_align, [&](int64_t r0, int64_t r1) {
        k.gemm(kernels::GemmArgs{w.data(), w.row_bytes(), w.packed(), w.rows(), w.cols(), act,
                                 act_row_bytes, n_tokens, y, ldy, r0, r1});
    });
}

}  // namespace

Weight Weight::bind(DType type, const void *data, int64_t rows, int64_t cols,
                    const PackedRows &packed_rows) {
    return bind(type, data, rows, cols, active_isa(), packed_rows);
}

Weight Weight::bind(DType type, const void *data, int64_t rows, int64_t cols, Isa isa,
                    const PackedRows &packed_rows) {
    if (!isa_supported(isa))
        fail(Errc::unsupported, "matmul: this CPU cannot run {} kernels", isa_name(isa));
    if (rows < 0 || cols <= 0)
        fail(Errc::invalid_argument, "matmul: bad weight shape [{}, {}]", rows, cols);
    const MatmulKernel *k = kernels::find_kernel(isa, type);
    if (k == nullptr)
        fail(Errc::unsupported, "matmul: no kernels for weights of type {}", dtype_name(type));
    const std::optional<uint64_t> rb = ember::row_bytes(type, static_cast<uint64_t>(cols));
    if (!rb)
        fail(Errc::invalid_argument, "matmul: {} row of {} elements is not a whole number of "
             "{}-element blocks", dtype_name(type), cols, dtype_info(type).block_elems);
    if (!checked_mul(*rb, static_cast<uint64_t>(rows)))
        fail(Errc::invalid_argument, "matmul: weight [{}, {}] is too large", rows, cols);
    if (data == nullptr && rows > 0) fail(Errc::invalid_argument, "matmul: weight data is null");

    Weight w;
    w.type_ = type;
    w.rows_ = rows;
    w.cols_ = cols;
    w.row_bytes_ = static_cast<size_t>(*rb);
    w.data_ = data;
    w.isa_ = isa;
    w.kernel_ = k;
    if (k->pack != nullptr && rows > 0) {
        const size_t bytes = k->packed_bytes(rows, cols);
        void *mem = alloc_packed(bytes);
        if (mem == nullptr)
            fail(Errc::out_of_memory, "matmul: cannot allocate {} bytes to repack a {} weight",
                 bytes, dtype_name(type));
        std::shared_ptr<void> packed(mem, &std::free);
        // In slices of whole row groups (~8 MiB of the original each): the packed layout is
        // group after group, so a slice packs on its own at its groups' offset.
        const int64_t align = std::lcm<int64_t>(std::max(k->row_align, 1), 16);
        const int64_t slice = std::max<int64_t>(
            align, static_cast<int64_t>((size_t{8} << 20) / w.row_bytes_) / align * align);
        for (int64_t r0 = 0; r0 < rows; r0 += slice) {
            const int64_t n = std::min(slice, rows - r0);
            k->pack(static_cast<const std::byte *>(data) + static_cast<size_t>(r0) * w.row_bytes_, n,
                    cols, static_cast<std::byte *>(mem) + k->packed_bytes(r0, cols));
            if (packed_rows) packed_rows(r0, r0 + n);
        }
        w.packed_ = std::move(packed);
    }
    return w;
}

size_t matmul_scratch_bytes(const Weight &w, int64_t n_tokens) {
    const MatmulKernel &k = kernel_of(w);
    const std::optional<uint64_t> total =
        checked_mul(k.act_row_bytes(w.cols()), static_cast<uint64_t>(std::max<int64_t>(n_tokens, 0)));
    if (!total || *total > (uint64_t{1} << 48))
        fail(Errc::invalid_argument, "matmul: {} tokens of {} columns is too large", n_tokens, w.cols());
    return static_cast<size_t>(*total) + 64;
}

bool Activations::accepts(const Weight &w) const {
    if (w.kernel() == nullptr || data_ == nullptr) return false;
    const MatmulKernel &k = kernel_of(w);
    return isa_ == w.isa() && layout_ == static_cast<int>(k.act_layout) && cols_ == w.cols();
}

Activations quantize_activations(const Weight &w, const float *x, int64_t n_tokens,
                                 std::span<std::byte> scratch) {
    const MatmulKernel &k = kernel_of(w);
    if (n_tokens < 0) fail(Errc::invalid_argument, "matmul: negative token count {}", n_tokens);
    if (x == nullptr && n_tokens > 0) fail(Errc::invalid_argument, "matmul: input is null");
    const size_t need = matmul_scratch_bytes(w, n_tokens);
    if (scratch.size() < need)
        fail(Errc::invalid_argument, "matmul: scratch holds {} bytes, {} needed", scratch.size(), need);
    Activations a;
    a.data_ = align64(scratch);
    a.row_bytes_ = k.act_row_bytes(w.cols());
    a.n_tokens_ = n_tokens;
    a.cols_ = w.cols();
    a.isa_ = w.isa();
    a.layout_ = static_cast<int>(k.act_layout);
    std::byte *dst = const_cast<std::byte *>(a.data_);
    const int64_t cols = w.cols();
    const size_t rb = a.row_bytes_;
    // A token row converts in about a microsecond; hand off only batches of several.
    parallel_rows(n_tokens, 8, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) k.quantize(x + t * cols, dst + t * rb, cols);
    });
    return a;
}

void matmul(const Weight &w, const Activations &a, float *y, int64_t ldy) {
    if (!a.accepts(w))
        fail(Errc::invalid_argument, "matmul: activations were converted for another weight "
             "layout (or a different width than {})", w.cols());
    if (ldy == 0) ldy = w.rows();
    if (ldy < w.rows()) fail(Errc::invalid_argument, "matmul: ldy {} < rows {}", ldy, w.rows());
    if (y == nullptr && a.n_tokens() > 0) fail(Errc::invalid_argument, "matmul: output is null");
    run_gemm(w, kernel_of(w), a.data_, a.row_bytes_, a.n_tokens(), y, ldy);
}

void matmul(const Weight &w, const float *x, int64_t n_tokens, float *y,
            std::span<std::byte> scratch, int64_t ldy) {
    const Activations a = quantize_activations(w, x, n_tokens, scratch);
    matmul(w, a, y, ldy);
}

void get_row(const Weight &w, int64_t r, float *out) {
    if (r < 0 || r >= w.rows())
        fail(Errc::invalid_argument, "get_row: row {} outside [0, {})", r, w.rows());
    const quant::TypeTraits &tr = quant::traits(w.type());
    tr.to_float(static_cast<const std::byte *>(w.data()) + r * w.row_bytes(), out, w.cols());
}

}  // namespace ember::ops
