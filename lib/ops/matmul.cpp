// ops/matmul.cpp - binding weights to kernels and running them over the caller's arena.
#include "ops/matmul.hpp"

#include "core/fail.hpp"
#include "kernels/kernels.hpp"
#include "ops/parallel.hpp"
#include "quant/traits.hpp"

#include <algorithm>
#include <array>
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

void gemm_rows(const Weight &w, const std::byte *act, size_t act_row_bytes, int64_t n_tokens,
               float *y, int64_t ldy, int64_t r0, int64_t r1) {
    kernel_of(w).gemm(kernels::GemmArgs{w.data(), w.row_bytes(), w.packed(), w.rows(), w.cols(), act,
                                        act_row_bytes, n_tokens, y, ldy, r0, r1});
}

// The products' rows in one parallel pass: each weight is cut into pieces in proportion to
// its share of the bytes, and the threads take pieces of any weight as they come free.
void run_products(std::span<const Product> products, const std::byte *act, size_t act_row_bytes,
                  int64_t n_tokens) {
    if (n_tokens == 0) return;
    double total = 0;
    for (const Product &p : products) total += static_cast<double>(p.w->row_bytes()) * static_cast<double>(p.w->rows());
    std::array<RowPieces, k_max_products> cut{};
    std::array<int64_t, k_max_products + 1> first{};  // product i owns pieces [first[i], first[i+1])
    for (size_t i = 0; i < products.size(); ++i) {
        const Weight &w = *products[i].w;
        const double bytes = static_cast<double>(w.row_bytes()) * static_cast<double>(w.rows());
        cut[i] = row_pieces(w.rows(), row_grain(w, n_tokens), kernel_of(w).row_align,
                            total > 0 ? bytes / total : 1.0);
        first[i + 1] = first[i] + (w.rows() > 0 ? cut[i].pieces : 0);
    }
    parallel_pieces(first[products.size()], [&](int64_t piece) {
        size_t i = 0;
        while (piece >= first[i + 1]) ++i;
        const Product &p = products[i];
        const int64_t j = piece - first[i];
        const int64_t r0 = cut[i].begin(j), r1 = cut[i].end(j);
        if (r0 < r1) gemm_rows(*p.w, act, act_row_bytes, n_tokens, p.y, p.ldy, r0, r1);
    });
}

void check_output(const Weight &w, float *y, int64_t &ldy, int64_t n_tokens) {
    if (ldy == 0) ldy = w.rows();
    if (ldy < w.rows()) fail(Errc::invalid_argument, "matmul: ldy {} < rows {}", ldy, w.rows());
    if (y == nullptr && n_tokens > 0) fail(Errc::invalid_argument, "matmul: output is null");
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
    check_output(w, y, ldy, a.n_tokens());
    const Product p{&w, y, ldy};
    run_products({&p, 1}, a.data_, a.row_bytes_, a.n_tokens());
}

void matmul(std::span<const Product> products, const float *x, int64_t n_tokens,
            std::span<std::byte> scratch) {
    if (products.size() > k_max_products)
        fail(Errc::invalid_argument, "matmul: {} products in one call (at most {})", products.size(),
             k_max_products);
    std::array<Product, k_max_products> ps{};
    for (size_t i = 0; i < products.size(); ++i) {
        ps[i] = products[i];
        if (ps[i].w == nullptr) fail(Errc::invalid_argument, "matmul: product {} has no weight", i);
        check_output(*ps[i].w, ps[i].y, ps[i].ldy, n_tokens);
    }
    // Runs of products whose kernels read one activation layout share one conversion.
    for (size_t i = 0; i < products.size();) {
        const Activations a = quantize_activations(*ps[i].w, x, n_tokens, scratch);
        size_t j = i + 1;
        while (j < products.size() && a.accepts(*ps[j].w)) ++j;
        run_products({ps.data() + i, j - i}, a.data_, a.row_bytes_, n_tokens);
        i = j;
    }
}

void matmul_glu(const Weight &gate, const Weight &up, Glu glu, const float *x, int64_t n_tokens,
                float *out, float *up_out, std::span<std::byte> scratch) {
    if (gate.rows() != up.rows() || gate.cols() != up.cols())
        fail(Errc::invalid_argument, "matmul_glu: gate [{}, {}] and up [{}, {}] differ in shape",
             gate.rows(), gate.cols(), up.rows(), up.cols());
    const int64_t n = gate.rows();  // also the row stride of out and up_out
    int64_t ld = n;
    check_output(gate, out, ld, n_tokens);
    check_output(up, up_out, ld, n_tokens);
    const Activations a = quantize_activations(gate, x, n_tokens, scratch);
    auto apply = [&](int64_t r0, int64_t r1) {
        for (int64_t t = 0; t < n_tokens; ++t) glu(out + t * n + r0, up_out + t * n + r0, r1 - r0, out + t * n + r0);
    };
    if (!a.accepts(up)) {  // different activation layouts: one after the other
        matmul(gate, a, out, n);
        matmul(up, x, n_tokens, up_out, scratch, n);
        apply(0, n);
        return;
    }
    if (n_tokens == 0) return;
    const int64_t align = std::lcm<int64_t>(std::max(kernel_of(gate).row_align, 1), std::max(kernel_of(up).row_align, 1));
    parallel_rows(n, row_grain(gate, n_tokens), align, [&](int64_t r0, int64_t r1) {
        gemm_rows(gate, a.data_, a.row_bytes_, n_tokens, out, n, r0, r1);
        gemm_rows(up, a.data_, a.row_bytes_, n_tokens, up_out, n, r0, r1);
        apply(r0, r1);
    });
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
