// runtime/session.cpp - KV cache, buffers and the decode loop.
#include "runtime/session.hpp"

#include "core/fail.hpp"

#include <tbb/info.h>

#include <unistd.h>

#include <algorithm>
#include <new>

namespace ember::runtime {

namespace {
SessionOptions resolve(const models::HParams &hp, SessionOptions o) {
    if (o.n_ctx < 0 || o.n_ctx > hp.n_ctx_train)
        fail(Errc::invalid_argument, "n_ctx = {} must be in [1, {}] (the model's training context)",
             o.n_ctx, hp.n_ctx_train);
    if (o.n_ctx == 0) o.n_ctx = std::min<int64_t>(hp.n_ctx_train, 4096);
    if (o.n_batch < 0 || o.n_batch > (int64_t{1} << 20))
        fail(Errc::invalid_argument, "n_batch = {} must be in [1, 1048576]", o.n_batch);
    if (o.n_batch == 0) o.n_batch = 512;
    o.n_batch = std::min(o.n_batch, o.n_ctx);  // a pass never holds more than the context
    if (o.n_threads < 0 || o.n_threads > 4096)
        fail(Errc::invalid_argument, "n_threads = {} must be in [0, 4096]", o.n_threads);
    if (o.n_threads == 0) o.n_threads = tbb::info::default_concurrency();
    return o;
}

// Refuse, before allocating anything, a session whose KV cache and buffers exceed the
// machine's physical memory: with overcommit the allocation itself would "succeed" and the
// host would be OOM-killed later, under ASan it would abort. The message gives the figure.
const SessionOptions &check_fits(const models::Model &model, const SessionOptions &o) {
    const models::HParams &hp = model.hparams();
    const long double mib = 1024.0L * 1024.0L;
    const long double kv = static_cast<long double>(hp.n_layer) * static_cast<long double>(o.n_ctx) *
                           static_cast<long double>(hp.k_dim() + hp.v_dim()) *
                           (o.kv_type == ops::KvType::f16 ? 2 : 4);
    const models::WorkspaceShape ws = model.arch().workspace_shape(o.n_batch, o.n_ctx);
    const long double per_token = 2.0L * ws.x + ws.q + ws.k + ws.v + ws.attn;
    const long double buffers = 4.0L * (per_token * static_cast<long double>(ws.n_batch) +
                                        2.0L * ws.ff * static_cast<long double>(ws.ff_rows) +
                                        static_cast<long double>(ws.attn_scratch_floats) +
                                        static_cast<long double>(hp.n_vocab)) +
                                static_cast<long double>(ws.matmul_scratch_bytes);
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const long double ram = pages > 0 && page > 0 ? static_cast<long double>(pages) * page : 0.0L;
    if (ram > 0 && kv + buffers > ram)
        fail(Errc::out_of_memory,
             "a session of n_ctx {} needs {:.0f} MiB (KV cache {:.0f} MiB, buffers {:.0f} MiB); "
             "this machine has {:.0f} MiB: use a smaller n_ctx",
             o.n_ctx, static_cast<double>((kv + buffers) / mib), static_cast<double>(kv / mib),
             static_cast<double>(buffers / mib), static_cast<double>(ram / mib));
    return o;
}
}  // namespace

Session::Session(std::shared_ptr<const models::Model> model, const SessionOptions &options)
    : model_(std::move(model)),
      options_(check_fits(*model_, resolve(model_->hparams(), options))),
      kv_(model_->hparams().n_layer, options_.n_ctx, model_->hparams().n_head_kv,
          model_->hparams().head_dim_k, model_->hparams().head_dim_v, options_.kv_type, options_.flash_attn),
      ws_(model_->arch().workspace_shape(options_.n_batch, options_.n_ctx)),
      arena_(options_.n_threads) {
    try {
        logits_.resize(static_cast<size_t>(model_->hparams().n_vocab));
    } catch (const std::bad_alloc &) {
        fail(Errc::out_of_memory, "cannot allocate logits");
    }
    arena_.initialize();
}

void Session::check(std::span<const int32_t> tokens) const {
    if (tokens.empty()) fail(Errc::invalid_argument, "decode: no tokens");
    const int64_t n_vocab = model_->hparams().n_vocab;
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            fail(Errc::invalid_argument, "decode: token {} at index {} is outside the vocabulary [0, {})",
                 tokens[i], i, n_vocab);
    const int64_t n = static_cast<int64_t>(tokens.size());
    if (n > options_.n_ctx - n_past_)
        fail(Errc::context_full, "decode: {} tokens do not fit: {} of {} positions are used", n,
             n_past_, options_.n_ctx);
}

void Session::run(std::span<const int32_t> tokens, float *all_logits) {
    const int64_t n = static_cast<int64_t>(tokens.size());
    const int64_t n_vocab = model_->hparams().n_vocab;
    const models::Architecture &arch = model_->arch();
    arena_.execute([&] {
        for (int64_t b = 0; b < n; b += options_.n_batch) {
            const int64_t m = std::min(options_.n_batch, n - b);
            const auto chunk = tokens.subspan(static_cast<size_t>(b), static_cast<size_t>(m));
            if (all_logits) {
                arch.forward(chunk, n_past_, kv_, ws_, all_logits + b * n_vocab, true);
            } else {
                // Only the final chunk's last row needs the output head.
                arch.forward(chunk, n_past_, kv_, ws_, b + m == n ? logits_.data() : nullptr, false);
            }
            n_past_ += m;
        }
    });
    if (all_logits)
        std::copy_n(all_logits + (n - 1) * n_vocab, n_vocab, logits_.begin());
    has_logits_ = true;
}

std::span<const float> Session::decode(std::span<const int32_t> tokens) {
    check(tokens);
    run(tokens, nullptr);
    return logits_;
}

void Session::decode(std::span<const int32_t> tokens, std::span<float> all_logits) {
    check(tokens);
    const uint64_t need = tokens.size() * static_cast<uint64_t>(model_->hparams().n_vocab);
    if (all_logits.size() < need)
        fail(Errc::invalid_argument, "decode: logits buffer holds {} floats, {} needed",
             all_logits.size(), need);
    run(tokens, all_logits.data());
}

std::span<const float> Session::logits() const {
    if (!has_logits_) return {};
    return logits_;
}

void Session::truncate(int64_t pos) {
    if (pos < 0 || pos > n_past_)
        fail(Errc::invalid_argument, "truncate: position {} is outside [0, {}]", pos, n_past_);
    n_past_ = pos;
    has_logits_ = false;
}

}  // namespace ember::runtime
