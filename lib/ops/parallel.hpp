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
#include <atomic>
#include <cstdint>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#define EMBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EMBER_TSAN 1
#endif
#endif

namespace ember::ops {

// The happens-before edges of one parallel loop, made visible to ThreadSanitizer.
//
// oneTBB as Debian ships it is not built with -fsanitize=thread, so TSan cannot see that the
// caller's writes happen before the tasks run and that the tasks' writes happen before
// tbb::parallel_for returns: a buffer the caller filled, or reads and frees afterwards, shows
// up as a race. Under TSan every task acquires an atomic the caller released before the loop
// and releases it when done, and the caller acquires it after the loop: the same edges the
// scheduler provides, now in instrumented code. Elsewhere these are empty and cost nothing.
class HandOff {
public:
#ifdef EMBER_TSAN
    void publish() noexcept { edge_.store(0, std::memory_order_release); }
    void enter() noexcept { (void)edge_.load(std::memory_order_acquire); }
    void leave() noexcept { edge_.fetch_add(1, std::memory_order_acq_rel); }
    void join() noexcept { (void)edge_.load(std::memory_order_acquire); }

private:
    std::atomic<unsigned> edge_{0};
#else
    void publish() noexcept {}
    void enter() noexcept {}
    void leave() noexcept {}
    void join() noexcept {}
#endif
};

// tbb::parallel_for(range, body, partitioner) in the current arena, with HandOff's edges.
// Every parallel loop in ember goes through here.
template <class Range, class Body, class Partitioner>
void parallel_for(const Range &range, const Body &body, Partitioner &&partitioner) {
    HandOff edges;
    edges.publish();
    tbb::parallel_for(
        range,
        [&](const Range &r) {
            edges.enter();
            body(r);
            edges.leave();
        },
        std::forward<Partitioner>(partitioner));
    edges.join();
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
