// Every kernel against the scalar reference (quant traits' vec_dot) on every ISA this host
// runs: activation quantizers byte for byte, matmul results within a stated bound, at
// awkward sizes (1, 7, 31, 33, 255, 257 blocks; rows not a multiple of the 16-row group;
// 1..17 and 64 tokens); and every ISA bit-identical to the scalar kernel for every format
// with SIMD kernels (kernels/scalar_dots.hpp: one arithmetic chain per element).
#include "core/cpu_features.hpp"
#include "kernels/kernels.hpp"
#include "quant/blocks.hpp"
#include "quant/traits.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <vector>

using namespace ember;
using kernels::MatmulKernel;

namespace {

const DType k_types[] = {DType::f32,  DType::f16,  DType::bf16, DType::q4_0, DType::q4_1,
                         DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k,
                         DType::q4_k, DType::q5_k, DType::q6_k};

}  // namespace
namespace ember::kernels {
const MatmulKernel *avxvnni_evex_kernel(DType type);  // support/kernels_avxvnni_evex.cpp
}
namespace {

// AVX-VNNI runs natively where the CPU has it, else through its EVEX twin where the CPU has
// AVX-512 VNNI (the same instructions in another encoding), else not at all.
bool avxvnni_testable() { return isa_supported(Isa::avxvnni) || isa_supported(Isa::avx512vnni); }

const MatmulKernel *find_kernel(Isa isa, DType type) {
    if (isa == Isa::avxvnni && !isa_supported(Isa::avxvnni)) {
        const MatmulKernel *k = kernels::avxvnni_evex_kernel(type);
        return k != nullptr ? k : kernels::scalar_kernel(type);
    }
    return kernels::find_kernel(isa, type);
}

std::vector<Isa> simd_isas() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::avx2, Isa::avx512, Isa::avx512vnni})
        if (isa_supported(isa)) out.push_back(isa);
    if (avxvnni_testable()) out.push_back(Isa::avxvnni);
    return out;
}

TEST_CASE("the AVX-VNNI kernels are tested on this host, natively or through their EVEX twin") {
    if (!avxvnni_testable())
        MESSAGE("AVX-VNNI kernels NOT tested: this CPU has neither AVX-VNNI nor AVX-512 VNNI");
    else if (!isa_supported(Isa::avxvnni))
        MESSAGE("AVX-VNNI kernels tested through their EVEX encoding (CPUID hides AVX-VNNI here)");
    CHECK(true);
}

// The scalar kernel first, then the SIMD ones.
std::vector<Isa> all_isas() {
    std::vector<Isa> out{Isa::scalar};
    for (Isa isa : simd_isas()) out.push_back(isa);
    return out;
}

// The formats whose kernels share one exact per-element chain on every ISA (all but Q2_K and
// Q3_K, which have only the scalar kernel).
const DType k_exact_types[] = {DType::f32,  DType::f16,  DType::bf16, DType::q4_0,
                               DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0,
                               DType::q4_k, DType::q5_k, DType::q6_k};

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

struct Matrix {
    DType type;
    int64_t rows, cols;
    size_t rb;
    std::vector<uint8_t> bytes;
};

Matrix make_weight(DType type, int64_t rows, int64_t cols, uint32_t seed) {
    Matrix m{type, rows, cols, *row_bytes(type, static_cast<uint64_t>(cols)), {}};
    m.bytes.resize(m.rb * rows);
    const auto f = random_floats(static_cast<size_t>(rows * cols), seed, 0.05f);
    for (int64_t r = 0; r < rows; ++r)
        quant::traits(type).from_float(f.data() + r * cols, m.bytes.data() + r * m.rb, cols);
    return m;
}

// y[t * rows + r] from kernel k: pack (if it repacks), quantize each token, one gemm call
// over [r0, r1) pieces so range boundaries are exercised too.
std::vector<float> run_kernel(const MatmulKernel &k, const Matrix &w, const std::vector<float> &x,
                              int64_t n_tokens) {
    std::shared_ptr<void> packed;
    if (k.pack != nullptr) {
        packed.reset(std::aligned_alloc(64, (k.packed_bytes(w.rows, w.cols) + 63) / 64 * 64), &std::free);
        k.pack(w.bytes.data(), w.rows, w.cols, packed.get());
    }
    const size_t arb = k.act_row_bytes(w.cols);
    std::shared_ptr<void> act(std::aligned_alloc(64, arb * std::max<int64_t>(n_tokens, 1)), &std::free);
    for (int64_t t = 0; t < n_tokens; ++t)
        k.quantize(x.data() + t * w.cols, static_cast<uint8_t *>(act.get()) + t * arb, w.cols);
    std::vector<float> y(static_cast<size_t>(n_tokens * w.rows), NAN);
    const int64_t mid = std::min<int64_t>(w.rows, 16 * k.row_align);
    for (auto [r0, r1] : {std::pair{int64_t{0}, mid}, std::pair{mid, w.rows}}) {
        if (r0 >= r1) continue;
        k.gemm(kernels::GemmArgs{w.bytes.data(), w.rb, packed.get(), w.rows, w.cols, act.get(), arb,
                                 n_tokens, y.data(), w.rows, r0, r1});
    }
    return y;
}

// Both sides compute the same exact integer (or exactly rounded f32/f16 product) sums per
// block and differ only in the order of f32 additions and scale products. Bound: 4 * (terms
// + 2) * 2^-24 * sum |w_i * a_i| over dequantized values, terms = blocks in the row.
void check_against_reference(const MatmulKernel &k, const Matrix &w, int64_t n_tokens, uint32_t seed) {
    const auto x = random_floats(static_cast<size_t>(n_tokens * w.cols), seed);
    const auto y = run_kernel(k, w, x, n_tokens);
    const quant::TypeTraits &tr = quant::traits(w.type);
    const quant::TypeTraits &at = quant::traits(tr.vec_dot_type);
    std::vector<uint8_t> act(*row_bytes(tr.vec_dot_type, static_cast<uint64_t>(w.cols)));
    std::vector<float> af(w.cols), wf(static_cast<size_t>(w.rows * w.cols));
    for (int64_t r = 0; r < w.rows; ++r) tr.to_float(w.bytes.data() + r * w.rb, wf.data() + r * w.cols, w.cols);
    const double terms = static_cast<double>(w.cols) / tr.block_elems + 2;
    int bad = 0;
    for (int64_t t = 0; t < n_tokens; ++t) {
        quant::activation_quantizer(tr.vec_dot_type)(x.data() + t * w.cols, act.data(), w.cols);
        at.to_float(act.data(), af.data(), w.cols);
        for (int64_t r = 0; r < w.rows; ++r) {
            double s = 0;
            for (int64_t c = 0; c < w.cols; ++c) s += std::fabs(double(wf[r * w.cols + c]) * af[c]);
            const float ref = quant::matmul_vec_dot(w.type)(w.cols, w.bytes.data() + r * w.rb, act.data());
            const double bound = 4 * terms * 0x1p-24 * s + 1e-30;
            const float got = y[t * w.rows + r];
            if (!(std::fabs(double(got) - ref) <= bound) && bad++ < 3)
                FAIL_CHECK("t " << t << " r " << r << ": " << got << " vs reference " << ref << " (bound " << bound << ")");
        }
    }
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("SIMD ISAs provide their own kernels for the main formats") {
    for (Isa isa : simd_isas())
        for (DType t : {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::f32, DType::f16,
                        DType::bf16, DType::q4_1, DType::q5_0, DType::q5_1, DType::q5_k}) {
            CAPTURE(isa_name(isa));
            CAPTURE(dtype_name(t));
            const MatmulKernel *k = find_kernel(isa, t);
            REQUIRE(k != nullptr);
            CHECK(k->isa == isa);
        }
    CHECK(find_kernel(Isa::scalar, DType::q4_0)->isa == Isa::scalar);
    CHECK(find_kernel(Isa::scalar, DType::iq2_xxs) == nullptr);
}

TEST_CASE("SIMD activation quantizers write exactly the reference quantizer's bytes") {
    // Random data, plus values that land exactly on rounding ties and a block of zeros.
    const int64_t cols = 256 * 5;
    auto x = random_floats(cols, 42);
    // Scale 1 exactly (largest magnitude 127), every other value a tie k + 0.5: both round
    // ties to even, as llama.cpp's x86 activation quantizers do (the _ref Q8_0 does not).
    for (int i = 0; i < 32; ++i) x[256 + i] = i == 0 ? 127.f : static_cast<float>(i - 16) + 0.5f;
    for (int i = 0; i < 256; ++i) x[512 + i] = i == 3 ? -127.f : static_cast<float>(i % 40 - 20) + 0.5f;
    for (int i = 0; i < 32; ++i) x[768 + i] = 0.f;
    for (Isa isa : simd_isas())
        for (DType t : {DType::q4_0, DType::q4_k, DType::q4_1}) {
            CAPTURE(isa_name(isa));
            const MatmulKernel &k = *find_kernel(isa, t);
            const DType at = quant::traits(t).vec_dot_type;
            const size_t ref_bytes = *row_bytes(at, cols);
            std::vector<uint8_t> ref(ref_bytes), got(k.act_row_bytes(cols));
            quant::activation_quantizer(at)(x.data(), ref.data(), cols);
            k.quantize(x.data(), got.data(), cols);
            CHECK(std::memcmp(ref.data(), got.data(), ref_bytes) == 0);
        }
}

TEST_CASE("every format and ISA matches the scalar reference at awkward sizes") {
    for (DType type : k_types) {
        const int be = quant::traits(type).block_elems;
        const int64_t unit = be == 1 ? 32 : be;
        const bool kq = be == 256;
        for (int64_t blocks : {1, 7, 31, 33, 255, 257}) {
            const int64_t cols = blocks * unit;
            // Big rows get few of them (the reference is slow); rows never a multiple of 16.
            const int64_t rows = cols > 20000 ? (kq ? 3 : 17) : 37;
            const Matrix w = make_weight(type, rows, cols, static_cast<uint32_t>(blocks));
            for (Isa isa : all_isas()) {
                const MatmulKernel &k = *find_kernel(isa, type);
                CAPTURE(dtype_name(type));
                CAPTURE(isa_name(isa));
                CAPTURE(blocks);
                for (int64_t n_tokens : {1, 3}) check_against_reference(k, w, n_tokens, 3);
            }
        }
    }
}

TEST_CASE("every token count of a tile, and 64 tokens, match the reference") {
    for (DType type : {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::q4_1, DType::q5_0,
                       DType::q5_1, DType::q5_k}) {
        const int64_t cols = quant::traits(type).block_elems == 256 ? 512 : 96;
        const Matrix w = make_weight(type, 41, cols, 8);
        for (Isa isa : simd_isas()) {
            const MatmulKernel &k = *find_kernel(isa, type);
            CAPTURE(dtype_name(type));
            CAPTURE(isa_name(isa));
            for (int64_t n_tokens = 1; n_tokens <= 17; ++n_tokens) {
                CAPTURE(n_tokens);
                check_against_reference(k, w, n_tokens, static_cast<uint32_t>(n_tokens));
            }
            check_against_reference(k, w, 64, 64);
        }
    }
}

TEST_CASE("every ISA gives the scalar kernel's bits") {
    // Same exact integer sums per block, same float chain (fma order) per element: equality,
    // not a bound, at awkward sizes, for decode (1 token) and tiles of tokens.
    for (DType type : k_exact_types) {
        const int be = quant::traits(type).block_elems;
        for (int64_t blocks : {1, 7, 33, 257}) {
            const int64_t cols = blocks * (be == 1 ? 17 : be);  // floats: 17, 119, 561, 4369
            const int64_t rows = cols > 20000 ? 17 : 37;
            const Matrix w = make_weight(type, rows, cols, static_cast<uint32_t>(blocks + 11));
            const auto x = random_floats(static_cast<size_t>(9 * cols), 77);
            for (int64_t n_tokens : {1, 9}) {
                const auto ref = run_kernel(*find_kernel(Isa::scalar, type), w, x, n_tokens);
                for (Isa isa : simd_isas()) {
                    CAPTURE(dtype_name(type));
                    CAPTURE(isa_name(isa));
                    CAPTURE(blocks);
                    CAPTURE(n_tokens);
                    const auto got = run_kernel(*find_kernel(isa, type), w, x, n_tokens);
                    int differ = 0;
                    for (size_t i = 0; i < got.size(); ++i)
                        if (std::memcmp(&got[i], &ref[i], sizeof(float)) != 0 && differ++ < 3)
                            FAIL_CHECK("element " << i << ": " << got[i] << " vs scalar " << ref[i]);
                    CHECK(differ == 0);
                }
            }
        }
    }
}

TEST_CASE("float weights of any width, including a tail shorter than a vector") {
    for (DType type : {DType::f32, DType::f16, DType::bf16})
        for (int64_t cols : {1, 7, 100, 577}) {
            const Matrix w = make_weight(type, 9, cols, 5);
            for (Isa isa : simd_isas()) {
                CAPTURE(dtype_name(type));
                CAPTURE(isa_name(isa));
                CAPTURE(cols);
                for (int64_t n_tokens : {1, 4, 7}) check_against_reference(*find_kernel(isa, type), w, n_tokens, 9);
            }
        }
}

// Run with EMBER_ISA set by tests/kernels_isa.cmake: a supported name forces that family, an
// unknown or unsupported one falls back to the best (with a warning), never a crash.
TEST_CASE("EMBER_ISA forces the kernel family") {
    const char *env = std::getenv("EMBER_ISA");
    const std::optional<Isa> forced = env != nullptr ? parse_isa(env) : std::nullopt;
    if (forced && isa_supported(*forced))
        CHECK(active_isa() == *forced);
    else
        CHECK(active_isa() == best_isa());
    CHECK(active_isa() == active_isa());  // chosen once
}
