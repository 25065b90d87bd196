// ops/parallel.hpp - split an op's output rows across the threads of the caller's arena.
//
// Threads meet at op boundaries only (DESIGN.md): one hand-off per op, each task a large
// contiguous range of rows, static partitioning so that a decode step costs one wake-up per
// thread. Kernels stay single-threaded. Because every output element is computed entirely
// inside one task with its own fixed summation order, the result does not depend on the
// thread count or on where the range boundaries fall.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define EMBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EMBER_TSAN 1
#endif
#endif

namespace ember::ops {

// tbb::parallel_for(range, body, partitioner) in the current arena. Every parallel loop in
// ember goes through here.
//
// Under ThreadSanitizer the loop runs on plain std::threads instead: Debian's oneTBB is not
// built with -fsanitize=thread, so TSan cannot see its scheduler's synchronisation, and the
// only way to keep its false reports out is a suppression that also hides every real race
// in a loop body (any stack through libtbb would match). std::thread's start and join are
// visible to TSan, so the bodies run concurrently exactly as ember writes them and a race
// between them is reported. Same split of the range as the static partitioner: one
// contiguous piece per thread of the arena.
template <class Range, class Body, class Partitioner>
void parallel_for(const Range &range, const Body &body, Partitioner &&partitioner) {
#ifdef EMBER_TSAN
    (void)partitioner;
    const auto b = range.begin(), e = range.end();
    const auto n = static_cast<int64_t>(e - b);
    const int64_t pieces = std::min<int64_t>(n, std::max(1, tbb::this_task_arena::max_concurrency()));
    auto piece = [&](int64_t i) {
        return Range(b + static_cast<decltype(e - b)>(n * i / pieces),
                     b + static_cast<decltype(e - b)>(n * (i + 1) / pieces), 1);
    };
    std::vector<std::thread> threads;
    for (int64_t i = 1; i < pieces; ++i) threads.emplace_back([&, i] { body(piece(i)); });
    if (pieces > 0) body(piece(0));
    for (auto &t : threads) t.join();
#else
    tbb::parallel_for(range, body, std::forward<Partitioner>(partitioner));
#endif
}

// Calls fn(begin, end) over disjoint ranges covering [0, n), in the current task_arena.
//   grain: the fewest rows worth a hand-off (ranges are never smaller, except the last);
//   align: every range boundary except n is a multiple of align (kernels that process rows in
//          interleaved groups need whole groups).
// With one thread, or n <= grain, fn(0, n) runs on the calling thread with no hand-off.
template <class Fn>
void parallel_rows(int64_t n, int64_t grain, int64_t align, Fn &&fn) {
    if (n <= 0) return;
    align = std::max<int64_t>(align, 1);
    grain = std::max<int64_t>(grain, 1);
    const int64_t threads = tbb::this_task_arena::max_concurrency();
    const int64_t units = (n + align - 1) / align;             // aligned groups of rows
    const int64_t grain_units = std::max<int64_t>(1, (grain + align - 1) / align);
    const int64_t chunks = std::min({threads, units / grain_units, units});
    if (chunks <= 1) {
        fn(int64_t{0}, n);
        return;
    }
    parallel_for(
        tbb::blocked_range<int64_t>(0, chunks, 1),
        [&](const tbb::blocked_range<int64_t> &r) {
            for (int64_t c = r.begin(); c != r.end(); ++c) {
                const int64_t b = units * c / chunks * align;
                const int64_t e = std::min(n, units * (c + 1) / chunks * align);
                if (b < e) fn(b, e);
            }
        },
        tbb::static_partitioner());
}

// Same, without alignment.
template <class Fn>
void parallel_rows(int64_t n, int64_t grain, Fn &&fn) {
    parallel_rows(n, grain, 1, std::forward<Fn>(fn));
}

}  // namespace ember::ops
