// Matmul kernels on Llama-3.2-1B shapes: GB/s of weights streamed (one token, decode) and
// GFLOP/s (many tokens, prompt), per weight type x ISA x thread count, plus a read-bandwidth
// probe so the two can be compared in the same run.
//
//   ember_bench --benchmark_filter='bandwidth|matvec/q4_0' --benchmark_repetitions=3
//
// Names: matvec/<type>/<isa>/<rows>x<cols>/threads:<n>  (counter GB/s = weight bytes / s;
//        for matrices over 64 MB also "best GB/s" (fastest iteration), "probe GB/s" (best read
//        bandwidth measured just before and after on the same threads) and BW% = their ratio)
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

#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
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

// Read-only sum of `bytes` of memory split over the arena's threads (each thread its own
// contiguous part): the decode speed limit. Returns GB/s of the best of `reps` passes.
double read_bandwidth(tbb::task_arena &arena, int threads, size_t bytes, int reps) {
    // 2 MiB-aligned and on transparent huge pages, as ops::Weight's repacked matrices are,
    // so the probe measures what the memory system can deliver to a streaming loop.
    static uint64_t *buf = nullptr;
    static size_t buf_n = 0;
    const size_t n = bytes / sizeof(uint64_t);
    if (buf_n < n) {
        std::free(buf);
        constexpr size_t huge = size_t{2} << 20;
        const size_t size = (n * sizeof(uint64_t) + huge - 1) / huge * huge;
        buf = static_cast<uint64_t *>(std::aligned_alloc(huge, size));
        if (buf == nullptr) std::abort();
        madvise(buf, size, MADV_HUGEPAGE);
        for (size_t i = 0; i < n; ++i) buf[i] = 1;
        buf_n = n;
    }
    double best = 0;
    for (int rep = 0; rep < reps; ++rep) {
        std::vector<uint64_t> partial(static_cast<size_t>(threads), 0);
        const auto t0 = std::chrono::steady_clock::now();
        arena.execute([&] {
            tbb::parallel_for(0, threads, [&](int t) {
                const size_t b = n * t / threads / 8 * 8, e = n * (t + 1) / threads / 8 * 8;
                uint64_t s[8] = {};
                for (size_t i = b; i < e; i += 8)
                    for (int k = 0; k < 8; ++k) s[k] += buf[i + k];
                partial[static_cast<size_t>(t)] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
            }, tbb::static_partitioner());
        });
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        benchmark::DoNotOptimize(partial.data());
        best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / sec / 1e9);
    }
    return best;
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
    const double bytes = static_cast<double>(bw.weight.row_bytes()) * static_cast<double>(s.rows);
    // Matrices larger than the caches: measure the read bandwidth right before and after,
    // on the same threads, so "BW%" compares like with like on a machine whose bandwidth
    // drifts (shared hosts).
    const bool big = tokens == 1 && bytes > 64e6;
    double probe = big ? read_bandwidth(arena, threads, size_t{128} << 20, 8) : 0;
    double best = 1e30;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        arena.execute([&] { ops::matmul(bw.weight, x.data(), tokens, y.data(), scratch); });
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    const double iters = static_cast<double>(state.iterations());
    if (big) {
        probe = std::max(probe, read_bandwidth(arena, threads, size_t{128} << 20, 8));
        state.counters["best GB/s"] = bytes / best / 1e9;
        state.counters["probe GB/s"] = probe;
        state.counters["BW%"] = 100.0 * bytes / best / 1e9 / probe;
    }
    state.counters["GB/s"] = benchmark::Counter(bytes * iters / 1e9, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] = benchmark::Counter(
        2.0 * static_cast<double>(s.rows) * static_cast<double>(s.cols) * static_cast<double>(tokens) * iters / 1e9,
        benchmark::Counter::kIsRate);
}

void run_bandwidth(benchmark::State &state, int threads) {
    tbb::task_arena arena(threads);
    double gbs = 0;
    for (auto _ : state) gbs = read_bandwidth(arena, threads, size_t{1} << 30, 1);
    state.counters["GB/s"] = gbs;
}

}  // namespace
double ember_bench_dpbusd_rate(long iters);  // int8_peak.cpp (AVX-512 VNNI only)
namespace {

// int8_peak/avx512vnni/threads:N: the multiply-add ceiling of vpdpbusd (int8_peak.cpp) on N
// threads at once, as GOP/s (2 per multiply-add, comparable with the matmul GFLOP/s).
void run_int8_peak(benchmark::State &state, int threads) {
    tbb::task_arena arena(threads);
    std::vector<double> rate(static_cast<size_t>(threads));
    for (auto _ : state)
        arena.execute([&] {
            tbb::parallel_for(0, threads, [&](int i) { rate[static_cast<size_t>(i)] = ember_bench_dpbusd_rate(20'000'000); },
                              tbb::static_partitioner());
        });
    double total = 0;
    for (double r : rate) total += r;
    state.counters["GOP/s"] = 2.0 * total / 1e9;
}

const DType k_types[] = {DType::q4_0, DType::q8_0, DType::q4_k, DType::q6_k, DType::f16,
                         DType::f32,  DType::bf16, DType::q4_1, DType::q5_0, DType::q5_1, DType::q5_k};

int register_all() {
    for (int threads : {1, 2})
        benchmark::RegisterBenchmark(fmt::format("bandwidth/threads:{}", threads).c_str(),
                                     [=](benchmark::State &st) { run_bandwidth(st, threads); })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    if (isa_supported(Isa::avx512vnni))
        for (int threads : {1, 2})
            benchmark::RegisterBenchmark(fmt::format("int8_peak/avx512vnni/threads:{}", threads).c_str(),
                                         [=](benchmark::State &st) { run_int8_peak(st, threads); })
                ->UseRealTime()
                ->Unit(benchmark::kMillisecond)
                ->Iterations(3);
    for (DType type : k_types)
        for (Isa isa : {Isa::avx512vnni, Isa::avx512, Isa::avxvnni, Isa::avx2, Isa::scalar}) {
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
