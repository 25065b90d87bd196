// Bit-exactness against llama.cpp: tests/data/quant holds what ggml's quantize_row_*_ref and
// dequantize_row_* produced on a fixed input and on random blocks (make_reference.c; see
// tests/data/quant/README.md). Dequantize must match bit for bit; quantize byte for byte;
// for the K-quants the round-trip RMSE must also be no worse than llama.cpp's.
#include "quant/blocks.hpp"
#include "quant/traits.hpp"
#include "test_data.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace ember;
using namespace ember::quant;
using ember::test::data_path;
using ember::test::read_bytes;

namespace {

std::vector<float> read_floats(const std::string &relative) {
    const std::vector<uint8_t> bytes = read_bytes(data_path(relative));
    REQUIRE(bytes.size() % 4 == 0);
    std::vector<float> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

// Index of the first element whose bits differ, or -1.
int64_t first_bit_difference(const std::vector<float> &a, const std::vector<float> &b) {
    if (a.size() != b.size()) return 0;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], 4) != 0) return static_cast<int64_t>(i);
    return -1;
}

int64_t first_byte_difference(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
    if (a.size() != b.size()) return 0;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return static_cast<int64_t>(i);
    return -1;
}

double rmse(const std::vector<float> &a, const std::vector<float> &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(s / double(a.size()));
}

std::string file_name(DType t) { return std::string(traits(t).name); }

const DType k_weight_types[] = {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0,
                                DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k,
                                DType::q8_k};

}  // namespace

TEST_CASE("dequantize is bit-exact with llama.cpp's dequantize_row_*") {
    for (DType t : k_weight_types) {
        const TypeTraits &tt = traits(t);
        for (const char *kind : {".q", ".rand.q"}) {
            const std::string base = "quant/" + file_name(t) + kind;
            const std::vector<uint8_t> q = read_bytes(data_path(base));
            const std::vector<float> expected =
                read_floats("quant/" + file_name(t) + (kind[1] == 'r' ? ".rand.deq" : ".deq"));
            REQUIRE(q.size() % tt.block_bytes == 0);
            const int64_t n = static_cast<int64_t>(q.size() / tt.block_bytes) * tt.block_elems;
            REQUIRE(expected.size() == static_cast<size_t>(n));
            std::vector<float> got(n);
            tt.to_float(q.data(), got.data(), n);
            const int64_t bad = first_bit_difference(got, expected);
            INFO(base << ": first difference at element " << bad << " (ember "
                      << (bad >= 0 ? got[bad] : 0.f) << ", llama.cpp " << (bad >= 0 ? expected[bad] : 0.f) << ")");
            CHECK(bad == -1);
        }
    }
}

TEST_CASE("quantize is byte-exact with llama.cpp's quantize_row_*_ref") {
    const std::vector<float> input = read_floats("quant/input.f32");
    const auto n = static_cast<int64_t>(input.size());
    // Every format, K-quants included: ember's K-quant search evaluates the same candidates
    // in the same floating-point order, so it writes the same bytes as llama-quantize.
    for (DType t : {DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0, DType::q8_1,
                    DType::q8_k, DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k}) {
        const TypeTraits &tt = traits(t);
        const std::vector<uint8_t> expected = read_bytes(data_path("quant/" + file_name(t) + ".q"));
        std::vector<uint8_t> got(static_cast<size_t>(n / tt.block_elems * tt.block_bytes));
        tt.from_float(input.data(), got.data(), n);
        const int64_t bad = first_byte_difference(got, expected);
        INFO(tt.name << ": first difference at byte " << bad << " (block " << (bad >= 0 ? bad / tt.block_bytes : -1)
                     << ", offset " << (bad >= 0 ? bad % tt.block_bytes : -1) << ")");
        CHECK(bad == -1);
    }
}

TEST_CASE("K-quant round-trip RMSE is no worse than llama.cpp's") {
    const std::vector<float> input = read_floats("quant/input.f32");
    const auto n = static_cast<int64_t>(input.size());
    for (DType t : {DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k}) {
        const TypeTraits &tt = traits(t);
        const std::vector<uint8_t> theirs = read_bytes(data_path("quant/" + file_name(t) + ".q"));
        std::vector<uint8_t> ours(theirs.size());
        tt.from_float(input.data(), ours.data(), n);
        std::vector<float> ref_back(n), our_back(n);
        tt.to_float(theirs.data(), ref_back.data(), n);
        tt.to_float(ours.data(), our_back.data(), n);
        const double e_ref = rmse(input, ref_back), e_ours = rmse(input, our_back);
        MESSAGE(tt.name << " RMSE: ember " << e_ours << ", llama.cpp " << e_ref);
        CHECK(e_ours <= e_ref);
        // And per super-block, so a gain in one block cannot hide a loss in another.
        for (int64_t b = 0; b < n / qk_k; ++b) {
            double s_ref = 0, s_ours = 0;
            for (int64_t j = b * qk_k; j < (b + 1) * qk_k; ++j) {
                s_ref += (double(input[j]) - ref_back[j]) * (double(input[j]) - ref_back[j]);
                s_ours += (double(input[j]) - our_back[j]) * (double(input[j]) - our_back[j]);
            }
            INFO(tt.name << " super-block " << b);
            CHECK(s_ours <= s_ref);
        }
    }
}

TEST_CASE("activation quantizers and scalar vec_dot are bit-exact with llama.cpp's CPU backend") {
    // make_dot_reference.c: ggml's baseline x86-64 CPU backend (generic scalar dots) on
    // weight rows from <type>.q and activation rows from act.<vec_dot_type>.q.
    const std::vector<float> act = read_floats("quant/act.f32");
    const std::vector<float> input = read_floats("quant/input.f32");
    const auto n = static_cast<int64_t>(act.size());
    for (DType at : {DType::q8_0, DType::q8_1, DType::q8_k, DType::f16, DType::bf16}) {
        const TypeTraits &t = traits(at);
        const std::vector<uint8_t> expected = read_bytes(data_path("quant/act." + file_name(at) + ".q"));
        std::vector<uint8_t> got(static_cast<size_t>(n / t.block_elems * t.block_bytes));
        t.from_float(act.data(), got.data(), n);
        INFO("activations as " << t.name << ": first difference at byte " << first_byte_difference(got, expected));
        CHECK(got == expected);
    }
    for (DType wt : {DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1,
                     DType::q8_0, DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k}) {
        const TypeTraits &w = traits(wt);
        const TypeTraits &a = traits(w.vec_dot_type);
        std::vector<uint8_t> weights(static_cast<size_t>(n / w.block_elems * w.block_bytes));
        w.from_float(input.data(), weights.data(), n);  // byte-exact with <type>.q (tested above)
        std::vector<uint8_t> acts(static_cast<size_t>(n / a.block_elems * a.block_bytes));
        a.from_float(act.data(), acts.data(), n);
        const std::vector<float> expected = read_floats("quant/" + file_name(wt) + ".dot");
        size_t k = 0;
        for (int64_t len : {32, 96, 256, 768, 2048, 8192}) {
            if (len % w.block_elems != 0) continue;
            REQUIRE(k < expected.size());
            const float got = w.vec_dot(len, weights.data(), acts.data());
            INFO(w.name << " x " << a.name << ", n = " << len << ": ember " << got << ", llama.cpp " << expected[k]);
            CHECK(std::memcmp(&got, &expected[k], 4) == 0);
            ++k;
        }
        CHECK(k == expected.size());
    }
}
