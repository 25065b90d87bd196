// The matmul front-end: every weight type on every ISA this host runs, against the quant
// traits' scalar reference; bit-identical results for any thread count and token batching.
#include "core/cpu_features.hpp"
#include "kernels/kernels.hpp"
#include "ops/activation.hpp"
#include "ops/matmul.hpp"
#include <ember/error.hpp>
#include "quant/traits.hpp"

#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

using namespace ember;

namespace {

const DType k_types[] = {DType::f32,  DType::f16,  DType::bf16, DType::q4_0, DType::q4_1,
                         DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k,
                         DType::q4_k, DType::q5_k, DType::q6_k};

std::vector<Isa> host_isas() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni})
        if (isa_supported(isa)) out.push_back(isa);
    return out;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.f, scale);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

// A weight [rows, cols] of `type` quantized from random floats by the reference quantizer.
std::vector<uint8_t> make_weight(DType type, int64_t rows, int64_t cols, uint32_t seed) {
    const quant::TypeTraits &tr = quant::traits(type);
    const size_t rb = *row_bytes(type, static_cast<uint64_t>(cols));
    std::vector<uint8_t> w(rb * rows + 1);
    const std::vector<float> f = random_floats(static_cast<size_t>(rows * cols), seed, 0.05f);
    for (int64_t r = 0; r < rows; ++r) tr.from_float(f.data() + r * cols, w.data() + r * rb, cols);
    return w;
}

std::vector<float> run_matmul(const ops::Weight &w, const std::vector<float> &x, int64_t n_tokens) {
    std::vector<std::byte> scratch(ops::matmul_scratch_bytes(w, n_tokens));
    std::vector<float> y(static_cast<size_t>(n_tokens * w.rows()), NAN);
    ops::matmul(w, x.data(), n_tokens, y.data(), scratch);
    return y;
}

// Reference y[t, r] and the error bound for it. Both sides compute the same exact integer
// (or f32/f16 product) sums per block; they differ only in f32 summation order and scale
// factor order. That error is at most about (terms + 2) * eps * sum|w_i * a_i| where terms is
// the number of partial sums added in f32; we allow 4x that (eps = 2^-24).
struct Reference {
    std::vector<float> y, bound;
};

Reference reference(DType type, const std::vector<uint8_t> &w, int64_t rows, int64_t cols,
                    const std::vector<float> &x, int64_t n_tokens) {
    const quant::TypeTraits &tr = quant::traits(type);
    const quant::TypeTraits &at = quant::traits(tr.vec_dot_type);
    const size_t rb = *row_bytes(type, static_cast<uint64_t>(cols));
    const size_t ab = *row_bytes(tr.vec_dot_type, static_cast<uint64_t>(cols));
    Reference ref;
    ref.y.resize(static_cast<size_t>(n_tokens * rows));
    ref.bound.resize(ref.y.size());
    std::vector<uint8_t> act(ab);
    std::vector<float> wf(cols), af(cols);
    const double terms = static_cast<double>(cols) / tr.block_elems + 2;
    for (int64_t t = 0; t < n_tokens; ++t) {
        quant::activation_quantizer(tr.vec_dot_type)(x.data() + t * cols, act.data(), cols);
        at.to_float(act.data(), af.data(), cols);
        for (int64_t r = 0; r < rows; ++r) {
            tr.to_float(w.data() + r * rb, wf.data(), cols);
            double s = 0;
            for (int64_t c = 0; c < cols; ++c) s += std::fabs(double(wf[c]) * af[c]);
            ref.y[t * rows + r] = quant::matmul_vec_dot(type)(cols, w.data() + r * rb, act.data());
            ref.bound[t * rows + r] = static_cast<float>(4 * terms * 0x1p-24 * s + 1e-30);
        }
    }
    return ref;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("matmul matches the scalar reference for every type and ISA at awkward sizes") {
    for (DType type : k_types) {
        const int be = quant::traits(type).block_elems;
        // Block counts 1, 7, 33 (plain types: elements 32*...); rows not a multiple of 16.
        const int64_t unit = be == 1 ? 32 : be;
        for (int64_t blocks : {1, 7, 33}) {
            const int64_t cols = blocks * unit;
            const int64_t rows = blocks == 7 ? 37 : 19;
            const auto w = make_weight(type, rows, cols, 11 + static_cast<uint32_t>(blocks));
            for (int64_t n_tokens : {1, 5, 17}) {
                const auto x = random_floats(static_cast<size_t>(n_tokens * cols), 7);
                const Reference ref = reference(type, w, rows, cols, x, n_tokens);
                for (Isa isa : host_isas()) {
                    CAPTURE(dtype_name(type));
                    CAPTURE(isa_name(isa));
                    CAPTURE(cols);
                    CAPTURE(n_tokens);
                    const auto wb = ops::Weight::bind(type, w.data(), rows, cols, isa);
                    const auto y = run_matmul(wb, x, n_tokens);
                    int bad = 0;
                    for (size_t i = 0; i < y.size(); ++i)
                        if (!(std::fabs(y[i] - ref.y[i]) <= ref.bound[i])) {
                            if (bad++ < 3)
                                FAIL_CHECK("y[" << i << "] = " << y[i] << ", reference " << ref.y[i]
                                                << ", bound " << ref.bound[i]);
                        }
                    CHECK(bad == 0);
                }
            }
        }
    }
}

TEST_CASE("matmul is bit-identical for 1, 2 and 3 threads and any token batching") {
    for (DType type : {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::f16, DType::q5_1}) {
        const int be = quant::traits(type).block_elems;
        const int64_t cols = (be == 1 ? 32 : be) * 9, rows = 203, n_tokens = 23;
        const auto w = make_weight(type, rows, cols, 3);
        const auto x = random_floats(static_cast<size_t>(n_tokens * cols), 5);
        for (Isa isa : host_isas()) {
            CAPTURE(dtype_name(type));
            CAPTURE(isa_name(isa));
            const auto wb = ops::Weight::bind(type, w.data(), rows, cols, isa);
            std::vector<float> base;
            tbb::task_arena(1).execute([&] { base = run_matmul(wb, x, n_tokens); });
            for (int threads : {2, 3}) {
                std::vector<float> y;
                tbb::task_arena(threads).execute([&] { y = run_matmul(wb, x, n_tokens); });
                CHECK(same_bits(base, y));
            }
            // Tokens fed one at a time, and in uneven batches, give the same bits.
            for (int64_t batch : {1, 4, 16}) {
                std::vector<float> y;
                for (int64_t t0 = 0; t0 < n_tokens; t0 += batch) {
                    const int64_t n = std::min(batch, n_tokens - t0);
                    const std::vector<float> xs(x.begin() + t0 * cols, x.begin() + (t0 + n) * cols);
                    tbb::task_arena(2).execute([&] {
                        const auto part = run_matmul(wb, xs, n);
                        y.insert(y.end(), part.begin(), part.end());
                    });
                }
                CHECK(same_bits(base, y));
            }
        }
    }
}

TEST_CASE("activations converted once serve every weight with the same layout") {
    const int64_t cols = 256, rows = 40, n_tokens = 3;
    const auto x = random_floats(static_cast<size_t>(n_tokens * cols), 9);
    const auto wq = make_weight(DType::q4_0, rows, cols, 1);
    const auto wk = make_weight(DType::q8_0, rows, cols, 2);
    const auto a = ops::Weight::bind(DType::q4_0, wq.data(), rows, cols);
    const auto b = ops::Weight::bind(DType::q8_0, wk.data(), rows, cols);
    std::vector<std::byte> scratch(ops::matmul_scratch_bytes(a, n_tokens));
    const ops::Activations acts = ops::quantize_activations(a, x.data(), n_tokens, scratch);
    REQUIRE(acts.accepts(b));
    std::vector<float> y(rows * n_tokens);
    ops::matmul(b, acts, y.data());
    CHECK(same_bits(y, run_matmul(b, x, n_tokens)));
    const auto f = make_weight(DType::f16, rows, cols, 3);
    const auto wf = ops::Weight::bind(DType::f16, f.data(), rows, cols);
    CHECK_FALSE(acts.accepts(wf));
    CHECK_THROWS_AS(ops::matmul(wf, acts, y.data()), Error);
}

TEST_CASE("fused products and gated pairs give each matmul's bits, for any thread count") {
    // Q/K/V-like: one wide and two narrow weights of mixed types (Q4_K_M puts Q6_K beside
    // Q4_K; Q5_0 and Q8_0 share a layout, f16 does not), rows not a multiple of 16.
    const int64_t cols = 512, n_tokens = 5;
    const auto x = random_floats(static_cast<size_t>(n_tokens * cols), 13);
    struct Spec {
        DType type;
        int64_t rows;
    };
    const std::vector<std::vector<Spec>> sets = {{{DType::q4_0, 200}, {DType::q4_0, 40}, {DType::q4_0, 40}},
                                                 {{DType::q4_k, 96}, {DType::q4_k, 32}, {DType::q6_k, 32}},
                                                 {{DType::q5_0, 64}, {DType::f16, 19}, {DType::q8_0, 19}}};
    for (Isa isa : host_isas()) {
        for (const auto &set : sets) {
            CAPTURE(isa_name(isa));
            CAPTURE(dtype_name(set[2].type));
            std::vector<std::vector<uint8_t>> bytes;
            std::vector<ops::Weight> ws;
            for (size_t i = 0; i < set.size(); ++i) {
                bytes.push_back(make_weight(set[i].type, set[i].rows, cols, 40 + static_cast<uint32_t>(i)));
                ws.push_back(ops::Weight::bind(set[i].type, bytes.back().data(), set[i].rows, cols, isa));
            }
            size_t scratch_bytes = 0;
            for (const auto &w : ws) scratch_bytes = std::max(scratch_bytes, ops::matmul_scratch_bytes(w, n_tokens));
            std::vector<std::byte> scratch(scratch_bytes);
            for (int threads : {1, 2, 3}) {
                CAPTURE(threads);
                // Outputs side by side in one buffer, as a fused QKV layout has them.
                const int64_t ld = set[0].rows + set[1].rows + set[2].rows + 3;
                std::vector<float> y(static_cast<size_t>(n_tokens * ld), NAN);
                const ops::Product ps[] = {{&ws[0], y.data(), ld},
                                           {&ws[1], y.data() + set[0].rows, ld},
                                           {&ws[2], y.data() + set[0].rows + set[1].rows, ld}};
                tbb::task_arena(threads).execute([&] { ops::matmul(ps, x.data(), n_tokens, scratch); });
                int64_t off = 0;
                for (size_t i = 0; i < ws.size(); ++i) {
                    const auto ref = run_matmul(ws[i], x, n_tokens);
                    bool same = true;
                    for (int64_t t = 0; t < n_tokens; ++t)
                        same &= std::memcmp(&y[t * ld + off], &ref[t * ws[i].rows()], ws[i].rows() * sizeof(float)) == 0;
                    CHECK(same);
                    off += ws[i].rows();
                }
                for (int64_t t = 0; t < n_tokens; ++t) CHECK(std::isnan(y[t * ld + ld - 1]));  // padding untouched
            }
        }
        // The gated pair: glu(gate x, up x) equals the three steps one after another.
        for (DType type : {DType::q4_0, DType::q4_k, DType::f16}) {
            CAPTURE(dtype_name(type));
            const int64_t rows = 333;
            const auto g = make_weight(type, rows, cols, 50), u = make_weight(type, rows, cols, 51);
            const auto wg = ops::Weight::bind(type, g.data(), rows, cols, isa);
            const auto wu = ops::Weight::bind(type, u.data(), rows, cols, isa);
            std::vector<float> ref = run_matmul(wg, x, n_tokens);
            const std::vector<float> up = run_matmul(wu, x, n_tokens);
            ops::swiglu(ref.data(), up.data(), rows * n_tokens, ref.data());
            std::vector<std::byte> scratch(ops::matmul_scratch_bytes(wg, n_tokens));
            for (int threads : {1, 2, 3}) {
                std::vector<float> out(ref.size(), NAN), up_out(ref.size(), NAN);
                tbb::task_arena(threads).execute([&] {
                    ops::matmul_glu(wg, wu, ops::swiglu, x.data(), n_tokens, out.data(), up_out.data(), scratch);
                });
                CHECK(same_bits(out, ref));
                CHECK(same_bits(up_out, up));
            }
        }
    }
}

TEST_CASE("a fused matrix bound as blocks of rows gives the whole matrix's bits (phi3's qkv)") {
    // Blocks of 37, 40 and 23 rows: boundaries off the 16-row interleave of repacked formats.
    const int64_t cols = 256, n_tokens = 3, parts[] = {37, 40, 23}, rows = 100;
    const auto x = random_floats(static_cast<size_t>(n_tokens * cols), 17);
    for (DType type : {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::f16}) {
        const auto bytes = make_weight(type, rows, cols, 61);
        const size_t rb = *row_bytes(type, static_cast<uint64_t>(cols));
        for (Isa isa : host_isas()) {
            CAPTURE(dtype_name(type));
            CAPTURE(isa_name(isa));
            const auto whole = run_matmul(ops::Weight::bind(type, bytes.data(), rows, cols, isa), x, n_tokens);
            int64_t first = 0;
            for (int64_t n : parts) {
                const auto part = run_matmul(ops::Weight::bind(type, bytes.data() + first * rb, n, cols, isa), x, n_tokens);
                bool same = true;
                for (int64_t t = 0; t < n_tokens; ++t)
                    same &= std::memcmp(&part[t * n], &whole[t * rows + first], n * sizeof(float)) == 0;
                CHECK(same);
                first += n;
            }
        }
    }
}

TEST_CASE("fused calls refuse what they cannot do") {
    const auto b = make_weight(DType::q4_0, 32, 64, 1), c = make_weight(DType::q4_0, 16, 64, 2);
    const auto w = ops::Weight::bind(DType::q4_0, b.data(), 32, 64);
    const auto narrow = ops::Weight::bind(DType::q4_0, c.data(), 16, 64);
    std::vector<float> x(64), y(64), z(64);
    std::vector<std::byte> scratch(ops::matmul_scratch_bytes(w, 1));
    const ops::Product five[] = {{&w, y.data()}, {&w, y.data()}, {&w, y.data()}, {&w, y.data()}, {&w, y.data()}};
    CHECK_THROWS_AS(ops::matmul(five, x.data(), 1, scratch), Error);       // more than k_max_products
    const ops::Product none[] = {{nullptr, y.data()}};
    CHECK_THROWS_AS(ops::matmul(none, x.data(), 1, scratch), Error);       // no weight
    const ops::Product tight[] = {{&w, y.data(), 16}};
    CHECK_THROWS_AS(ops::matmul(tight, x.data(), 1, scratch), Error);      // ldy < rows
    CHECK_THROWS_AS(ops::matmul_glu(w, narrow, ops::swiglu, x.data(), 1, y.data(), z.data(), scratch), Error);
}

TEST_CASE("repacking in slices gives the whole-matrix layout and reports every row once") {
    // Q4_0 of 4096 columns: 2304 bytes a row, so an 8 MiB slice is 3632 rows and 8000 rows
    // (not a multiple of 16) take three slices, the last one ending in a partial row group.
    const int64_t rows = 8000, cols = 4096;
    const auto bytes = make_weight(DType::q4_0, rows, cols, 21);
    for (Isa isa : host_isas()) {
        const auto *k = static_cast<const kernels::MatmulKernel *>(
            ops::Weight::bind(DType::q4_0, bytes.data(), 16, cols, isa).kernel());
        if (k->pack == nullptr) continue;  // scalar: no repacking
        CAPTURE(isa_name(isa));
        std::vector<std::pair<int64_t, int64_t>> slices;
        const ops::Weight w = ops::Weight::bind(DType::q4_0, bytes.data(), rows, cols, isa,
                                                [&](int64_t r0, int64_t r1) { slices.emplace_back(r0, r1); });
        REQUIRE(slices.size() >= 2);
        int64_t next = 0;
        for (auto [r0, r1] : slices) {
            CHECK(r0 == next);
            CHECK(r0 % 16 == 0);
            next = r1;
        }
        CHECK(next == rows);
        std::vector<uint8_t> whole(k->packed_bytes(rows, cols));
        k->pack(bytes.data(), rows, cols, whole.data());
        CHECK(std::memcmp(whole.data(), w.packed(), whole.size()) == 0);
    }
}

TEST_CASE("bad shapes, scratch and strides are errors") {
    const auto w = make_weight(DType::q4_0, 4, 64, 1);
    CHECK_THROWS_AS(ops::Weight::bind(DType::q4_0, w.data(), 4, 48), Error);   // 1.5 blocks
    CHECK_THROWS_AS(ops::Weight::bind(DType::q4_0, w.data(), -1, 64), Error);
    CHECK_THROWS_AS(ops::Weight::bind(DType::iq2_xxs, w.data(), 1, 256), Error);
    const auto wb = ops::Weight::bind(DType::q4_0, w.data(), 4, 64);
    std::vector<float> x(64 * 2), y(8);
    std::vector<std::byte> small(16);
    CHECK_THROWS_AS(ops::matmul(wb, x.data(), 2, y.data(), small), Error);
    std::vector<std::byte> scratch(ops::matmul_scratch_bytes(wb, 2));
    CHECK_THROWS_AS(ops::matmul(wb, x.data(), 2, y.data(), scratch, 3), Error);  // ldy < rows
    std::vector<float> row(64);
    CHECK_THROWS_AS(ops::get_row(wb, 4, row.data()), Error);
    ops::get_row(wb, 3, row.data());
    std::vector<float> ref(64);
    quant::traits(DType::q4_0).to_float(w.data() + 3 * 36, ref.data(), 64);
    CHECK(row == ref);
}

TEST_CASE("the ISA choice has a name and parses back") {
    CHECK(isa_supported(Isa::scalar));
    CHECK(isa_supported(active_isa()));
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni})
        CHECK(parse_isa(isa_name(isa)) == isa);
    CHECK_FALSE(parse_isa("sse9").has_value());
}
