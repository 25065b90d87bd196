// ops/parallel.hpp - split an op's output rows across the threads of the caller's arena.
//
// Threads meet at op boundaries only (DESIGN.md): one hand-off per op, one task per thread,
// each taking contiguous ranges of rows from a shared counter, so that a decode step costs
// one wake-up per thread and a slower thread does less of the op. Kernels stay
// single-threaded. Because every output element is computed entirely inside one piece with
// its own fixed summation order, the result depends neither on the thread count, nor on
// where the piece boundaries fall, nor on which thread took which piece.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
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

// Pieces per thread that an op's rows are cut into. The threads of one op do not run at one
// speed (this VM's two vCPUs differ by ~7% in memory bandwidth; laptops mix fast and slow
// cores; a thread may start late), so with an even split the first to finish waits for the
// last. Handing out smaller pieces first come, first served bounds that wait by one piece.
inline constexpr int64_t k_pieces_per_thread = 8;

// Calls fn(i) once for each i in [0, pieces), in the current task_arena: one task per thread
// takes pieces from a shared counter until none is left. Which thread runs a piece varies
// from run to run; what a piece computes must not depend on it. With one thread or one
// piece, everything runs on the calling thread with no hand-off.
template <class Fn>
void parallel_pieces(int64_t pieces, Fn &&fn) {
    if (pieces <= 0) return;
    const int64_t threads = std::min<int64_t>(tbb::this_task_arena::max_concurrency(), pieces);
    if (threads <= 1) {
        for (int64_t i = 0; i < pieces; ++i) fn(i);
        return;
    }
    std::atomic<int64_t> next{0};
    parallel_for(
        tbb::blocked_range<int64_t>(0, threads, 1),
        [&](const tbb::blocked_range<int64_t> &) {
            for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < pieces;) fn(i);
        },
        tbb::static_partitioner());
}

// Rows [begin, end) of piece i when n rows are cut into `pieces` pieces whose boundaries
// (except n) are multiples of align.
struct RowPieces {
    int64_t n, align, units, pieces;  // units: aligned groups of rows, ceil(n / align)
    int64_t begin(int64_t i) const { return units * i / pieces * align; }
    int64_t end(int64_t i) const { return std::min(n, units * (i + 1) / pieces * align); }
};

// How to cut n rows into pieces for the current arena:
//   grain: the fewest rows worth a hand-off (pieces are never smaller, except the last);
//   align: every boundary except n is a multiple of align (kernels that process rows in
//          interleaved groups need whole groups);
//   share: the fraction of the op's work these rows are (several weights in one pass).
inline RowPieces row_pieces(int64_t n, int64_t grain, int64_t align, double share = 1.0) {
    align = std::max<int64_t>(align, 1);
    const int64_t units = (std::max<int64_t>(n, 0) + align - 1) / align;
    const int64_t grain_units = std::max<int64_t>(1, (std::max<int64_t>(grain, 1) + align - 1) / align);
    const int64_t threads = tbb::this_task_arena::max_concurrency();
    const auto wanted = static_cast<int64_t>(share * static_cast<double>(threads * k_pieces_per_thread) + 0.5);
    const int64_t pieces = threads <= 1 ? 1 : std::clamp<int64_t>(wanted, 1, std::max<int64_t>(1, units / grain_units));
    return {std::max<int64_t>(n, 0), align, units, pieces};
}

// Calls fn(begin, end) over disjoint ranges covering [0, n) (see row_pieces for grain and
// align), as parallel_pieces hands them out.
template <class Fn>
void parallel_rows(int64_t n, int64_t grain, int64_t align, Fn &&fn) {
    if (n <= 0) return;
    const RowPieces rp = row_pieces(n, grain, align);
    parallel_pieces(rp.pieces, [&](int64_t i) {
        const int64_t b = rp.begin(i), e = rp.end(i);
        if (b < e) fn(b, e);
    });
}

// Same, without alignment.
template <class Fn>
void parallel_rows(int64_t n, int64_t grain, Fn &&fn) {
    parallel_rows(n, grain, 1, std::forward<Fn>(fn));
}

}  // namespace ember::ops
