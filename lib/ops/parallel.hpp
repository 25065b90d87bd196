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
#include <utility>

namespace ember::ops {

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
    tbb::parallel_for(
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
