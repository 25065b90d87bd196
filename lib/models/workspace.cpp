// models/workspace.cpp - allocate a forward pass's buffers up front.
#include "models/workspace.hpp"

#include "core/fail.hpp"

#include <new>

namespace ember::models {

namespace {
size_t floats(int64_t n_batch, int64_t width) {
    const auto n = checked_mul(static_cast<uint64_t>(n_batch), static_cast<uint64_t>(width));
    if (!n || *n > (uint64_t{1} << 40))
        fail(Errc::out_of_memory, "activation buffer of {} x {} floats is too large", n_batch, width);
    return static_cast<size_t>(*n);
}
}  // namespace

Workspace::Workspace(const WorkspaceShape &s) : shape(s) {
    const int64_t b = s.n_batch;
    const size_t nx = floats(b, s.x), nq = floats(b, s.q), nk = floats(b, s.k),
                 nv = floats(b, s.v), na = floats(b, s.attn), nf = floats(s.ff_rows, s.ff);
    try {
        x.resize(nx);
        xn.resize(nx);
        q.resize(nq);
        k.resize(nk);
        v.resize(nv);
        attn.resize(na);
        ff_a.resize(nf);
        ff_b.resize(nf);
        attn_scratch.resize(s.attn_scratch_floats);
        mm_scratch.resize(s.matmul_scratch_bytes);
    } catch (const std::bad_alloc &) {
        fail(Errc::out_of_memory, "cannot allocate activation buffers for a batch of {} tokens", b);
    }
}

void Workspace::check_cancel() const {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed))
        fail(Errc::cancelled, "cancelled during a forward pass");
}

}  // namespace ember::models
