// Matmul kernels on Llama-3.2-1B shapes: GB/s of weights streamed (one token, decode) and
// GFLOP/s (many tokens, prompt), per weight type x ISA x thread count, plus a read-bandwidth
// probe so the two can be compared in the same run.
//
//   ember_bench --benchmark_filter='bandwidth|matvec/q4_0' --benchmark_repetitions=3
//
// Names: matvec/<type>/<isa>/<rows>x<cols>/threads:<n>  (counter GB/s = weight bytes / s)
//        matmul/<type>/<isa>/<rows>x<cols>/tokens:<t>/threads:<n> (counter GFLOP/s = 2*r*c*t / s)
// Weights are the reference quantization of random rows, tiled to the full shape (the speed
// does not depend on the values). They live in anonymous memory; bind time is not measured.
#include "core/cpu_features.hpp"
#include "ops/matmul.hpp"
#include "quant/traits.hpp"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

using namespace ember;

namespace {

struct Shape {
    int64_t rows, cols;
};
constexpr Shape k_shapes[] = {{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}};

struct BoundWeight {
    std::vector<uint8_t> bytes;
    ops::Weight weight;
};

// One weight per (type, isa, shape), built on first use and kept: binding 128256 rows takes
// a while and the same weight serves every thread count and token count.
BoundWeight &weight_for(DType type, Isa isa, Shape s) {
    static std::map<std::tuple<int, int, int64_t, int64_t>, std::unique_ptr<BoundWeight>> cache;
    auto key = std::make_tuple(static_cast<int>(type), static_cast<int>(isa), s.rows, s.cols);
    auto &slot = cache[key];
    if (!slot) {
        // Drop other shapes' weights first so the big ones do not pile up in memory.
        cache.clear();
        auto &fresh = cache[key];
        fresh = std::make_unique<BoundWeight>();
        const quant::TypeTraits &tr = quant::traits(type);
        const size_t rb = *row_bytes(type, static_cast<uint64_t>(s.cols));
        constexpr int64_t distinct = 64;
        std::vector<float> f(static_cast<size_t>(distinct * s.cols));
        std::mt19937 rng(1);
        std::normal_distribution<float> dist(0.f, 0.02f);
        for (float &v : f) v = dist(rng);
        fresh->bytes.resize(rb * static_cast<size_t>(s.rows));
        for (int64_t r = 0; r < std::min(distinct, s.rows); ++r)
            tr.from_float(f.data() + r * s.cols, fresh->bytes.data() + r * rb, s.cols);
        for (int64_t r = distinct; r < s.rows; ++r)
            std::memcpy(fresh->bytes.data() + r * rb, fresh->bytes.data() + (r % distinct) * rb, rb);
        fresh->weight = ops::Weight::bind(type, fresh->bytes.data(), s.rows, s.cols, isa);
        return *fresh;
    }
    return *slot;
}

void run_matmul(benchmark::State &state, DType type, Isa isa, Shape s, int64_t tokens, int threads) {
    BoundWeight &bw = weight_for(type, isa, s);
    std::vector<float> x(static_cast<size_t>(tokens * s.cols));
    std::mt19937 rng(2);
    std::normal_distribution<float> dist(0.f, 1.f);
    for (float &v : x) v = dist(rng);
    std::vector<float> y(static_cast<size_t>(tokens * s.rows));
    std::vector<std::byte> scratch(ops::matmul_scratch_bytes(bw.weight, tokens));
    tbb::task_arena arena(threads);
    for (auto _ : state) {
        arena.execute([&] { ops::matmul(bw.weight, x.data(), tokens, y.data(), scratch); });
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    const double iters = static_cast<double>(state.iterations());
    const double bytes = static_cast<double>(bw.weight.row_bytes()) * static_cast<double>(s.rows);
    state.counters["GB/s"] = benchmark::Counter(bytes * iters / 1e9, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] = benchmark::Counter(
        2.0 * static_cast<double>(s.rows) * static_cast<double>(s.cols) * static_cast<double>(tokens) * iters / 1e9,
        benchmark::Counter::kIsRate);
}

// Read-only sum over 1 GiB, split over the arena's threads: the decode speed limit.
void run_bandwidth(benchmark::State &state, int threads) {
    constexpr size_t n = (size_t{1} << 30) / sizeof(uint64_t);
    static std::vector<uint64_t> buf(n, 1);
    tbb::task_arena arena(threads);
    for (auto _ : state) {
        std::vector<uint64_t> partial(static_cast<size_t>(threads), 0);
        arena.execute([&] {
            tbb::parallel_for(0, threads, [&](int t) {
                const size_t b = n * t / threads, e = n * (t + 1) / threads;
                uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (size_t i = b; i < e; i += 4) {
                    s0 += buf[i];
                    s1 += buf[i + 1];
                    s2 += buf[i + 2];
                    s3 += buf[i + 3];
                }
                partial[static_cast<size_t>(t)] = s0 + s1 + s2 + s3;
            });
        });
        benchmark::DoNotOptimize(partial.data());
    }
    state.counters["GB/s"] = benchmark::Counter(
        static_cast<double>(n * sizeof(uint64_t)) * static_cast<double>(state.iterations()) / 1e9,
        benchmark::Counter::kIsRate);
}

const DType k_types[] = {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::f16,
                         DType::f32,  DType::bf16, DType::q4_1, DType::q5_0, DType::q5_1, DType::q5_k};

int register_all() {
    for (int threads : {1, 2})
        benchmark::RegisterBenchmark(fmt::format("bandwidth/threads:{}", threads).c_str(),
                                     [=](benchmark::State &st) { run_bandwidth(st, threads); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    for (DType type : k_types)
        for (Isa isa : {Isa::avx512vnni, Isa::avx512, Isa::avx2, Isa::scalar}) {
            if (!isa_supported(isa)) continue;
            for (Shape s : k_shapes) {
                for (int threads : {1, 2})
                    benchmark::RegisterBenchmark(
                        fmt::format("matvec/{}/{}/{}x{}/threads:{}", dtype_name(type), isa_name(isa),
                                    s.rows, s.cols, threads).c_str(),
                        [=](benchmark::State &st) { run_matmul(st, type, isa, s, 1, threads); })
                        ->UseRealTime()
                        ->Unit(benchmark::kMicrosecond);
                if (s.rows == 128256) continue;  // the output matrix only sees one token per step
                for (int64_t tokens : {16, 64, 512})
                    for (int threads : {1, 2})
                        benchmark::RegisterBenchmark(
                            fmt::format("matmul/{}/{}/{}x{}/tokens:{}/threads:{}", dtype_name(type),
                                        isa_name(isa), s.rows, s.cols, tokens, threads).c_str(),
                            [=](benchmark::State &st) { run_matmul(st, type, isa, s, tokens, threads); })
                            ->UseRealTime()
                            ->Unit(benchmark::kMillisecond);
            }
        }
    return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
