// The int8 arithmetic ceiling of one core: vpdpbusd on 512-bit registers, 16 independent
// accumulators (enough to cover its latency), nothing else in the loop. matmul/<int8 format>
// GFLOP/s is best read against this figure (2 ops per multiply-add, so the units match):
//
//   ember_bench --benchmark_filter='int8_peak|matmul/q4_0/avx512vnni/2048x2048/tokens:512'
//
// This file is compiled with AVX-512 VNNI (bench/CMakeLists.txt) and holds only the loop, so
// that no code of it runs unless kernels_bench.cpp has checked the CPU (its registration).
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <chrono>

// Multiply-adds per second of `iters` rounds of 16 vpdpbusd on this thread.
double ember_bench_dpbusd_rate(long iters) {
    __m512i acc[16];
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_epi32(i);
    __m512i w = _mm512_set1_epi32(0x01020304), x = _mm512_set1_epi32(0x01010101);
    const auto t0 = std::chrono::steady_clock::now();
    for (long n = 0; n < iters; ++n) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], w, x);
        asm volatile("" : "+v"(w), "+v"(x));  // keeps the loop from being folded away
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    __m512i r = acc[0];
    for (int i = 1; i < 16; ++i) r = _mm512_add_epi32(r, acc[i]);
    benchmark::DoNotOptimize(r);
    return 16.0 * 64.0 * static_cast<double>(iters) / s;  // 64 multiply-adds per instruction
}

