// runtime/session.hpp - one conversation's state over a shared Model.
//
// A Session owns everything a forward pass mutates: the KV cache, the activation buffers
// and a oneTBB arena of n_threads, all allocated when it is created; decode() allocates
// nothing. It is used by one thread at a time; any number of sessions may share a Model.
#pragma once

#include "models/model.hpp"
#include "ops/kv_cache.hpp"

#include <tbb/task_arena.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ember::runtime {

struct SessionOptions {
    int64_t n_ctx = 0;      // positions in the KV cache; 0: min(training context, 4096)
    int64_t n_batch = 512;  // tokens per forward pass when processing a prompt
    int n_threads = 0;      // 0: all cores oneTBB sees
    ops::KvType kv_type = ops::KvType::f16;
    // With an f16 cache: true reproduces llama.cpp's flash-attention numerics (its CPU
    // default, -fa auto/on: V summed in fp16), false its two-matmul attention (-fa off).
    // false by default: the fp16 running sum costs a rounding per value per key, which
    // is slow until it has a vector kernel. No effect on an f32 cache.
    bool flash_attn = false;
};

class Session {
public:
    // Throws invalid_argument for options out of range (n_ctx above the model's training
    // context, n_batch or n_threads < 0), out_of_memory when buffers cannot be allocated.
    Session(std::shared_ptr<const models::Model> model, const SessionOptions &options = {});

    // Append tokens at position n_past(): in forward passes of up to n_batch tokens through
    // the matrix-matrix kernels (a single token is simply a pass of one). Returns the
    // logits after the last token, [n_vocab], valid until the next call.
    // Errors (nothing is changed): invalid_argument for an empty list or an id outside the
    // vocabulary; context_full when n_past() + tokens.size() > n_ctx.
    std::span<const float> decode(std::span<const int32_t> tokens);
    // Same, and writes the logits after every token to all_logits ([tokens.size(), n_vocab];
    // invalid_argument if it is smaller).
    void decode(std::span<const int32_t> tokens, std::span<float> all_logits);

    // Logits of the last decoded token (empty before the first decode).
    std::span<const float> logits() const;

    int64_t n_past() const { return n_past_; }
    int64_t n_ctx() const { return options_.n_ctx; }
    int64_t n_vocab() const { return model_->hparams().n_vocab; }
    const SessionOptions &options() const { return options_; }
    const models::Model &model() const { return *model_; }
    uint64_t kv_bytes() const { return kv_.bytes(); }

    // Forget positions >= pos (keep a shared prompt prefix); pos <= n_past().
    void truncate(int64_t pos);
    void reset() { truncate(0); }

    // A flag another thread may raise to abandon the decode() in progress between two layers:
    // decode() then throws Errc::cancelled and the position stays where the last completed
    // batch left it. nullptr (the default) turns the checks off. The flag must outlive its use.
    void set_cancel_flag(const std::atomic<bool> *flag) { ws_.cancel = flag; }

private:
    void check(std::span<const int32_t> tokens) const;
    void run(std::span<const int32_t> tokens, float *all_logits);

    std::shared_ptr<const models::Model> model_;
    SessionOptions options_;
    ops::KvCache kv_;
    models::Workspace ws_;
    std::vector<float> logits_;  // [n_vocab]
    bool has_logits_ = false;
    int64_t n_past_ = 0;
    tbb::task_arena arena_;
};

}  // namespace ember::runtime
