// models/workspace.hpp - activation buffers of one forward pass, sized once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ember::models {

// Widths (floats per token) of each buffer; an architecture states what it needs.
struct WorkspaceShape {
    int64_t n_batch = 0;
    int64_t x = 0;         // residual stream and normed copy: n_embd
    int64_t q = 0;         // queries (or fused q|k|v): n_head*head_dim_k [+ 2*k_dim]
    int64_t k = 0, v = 0;  // this batch's keys / values: k_dim, v_dim
    int64_t attn = 0;      // attention output: n_head*head_dim_v
    int64_t ff = 0;        // each of the two FFN buffers: n_ff (2*n_ff for fused gate|up)
    int64_t ff_rows = 0;   // tokens the FFN buffers hold: the FFN runs in slices of this many
    size_t attn_scratch_floats = 0;
    size_t matmul_scratch_bytes = 0;
};

struct Workspace {
    explicit Workspace(const WorkspaceShape &shape);  // throws out_of_memory
    Workspace() = default;

    WorkspaceShape shape;
    std::vector<float> x;     // [n_batch, n_embd] residual stream
    std::vector<float> xn;    // [n_batch, n_embd] normed input / layer output
    std::vector<float> q;     // [n_batch, shape.q]
    std::vector<float> k;     // [n_batch, k_dim]
    std::vector<float> v;     // [n_batch, v_dim]
    std::vector<float> attn;  // [n_batch, n_head*head_dim_v]
    std::vector<float> ff_a;  // [ff_rows, shape.ff]
    std::vector<float> ff_b;  // [ff_rows, shape.ff]
    std::vector<float> attn_scratch;
    std::vector<std::byte> mm_scratch;

    // Set by the owner to a flag another thread may raise: forward() looks at it between
    // layers and stops with Errc::cancelled, so a long prompt batch is abandoned within one
    // layer's time rather than the whole batch's. The owner must not advance its position
    // past a stopped batch (the K/V rows it wrote are simply overwritten next time).
    const std::atomic<bool> *cancel = nullptr;
    // Throws Errc::cancelled when the flag is up.
    void check_cancel() const;
};

}  // namespace ember::models
