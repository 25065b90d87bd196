// The public ember::Session (ember.hpp): prompt reuse, the generate loop, streaming text
// with stop strings, cancel.
#include "runtime/api_internal.hpp"

#include "core/fail.hpp"
#include "runtime/session.hpp"
#include "sampling/sampler.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

namespace ember {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

runtime::SessionOptions to_runtime(const SessionOptions &o) {
    runtime::SessionOptions r;
    r.n_ctx = o.n_ctx;
    r.n_batch = o.n_batch;
    r.n_threads = static_cast<int>(std::min<uint32_t>(o.n_threads, 1u << 20));
    if (o.kv_type != KvType::f16 && o.kv_type != KvType::f32)
        fail(Errc::invalid_argument, "SessionOptions: kv_type {} is not a KvType", static_cast<int>(o.kv_type));
    r.kv_type = o.kv_type == KvType::f32 ? ops::KvType::f32 : ops::KvType::f16;
    r.flash_attn = o.flash_attn;
    return r;
}

sampling::Params to_sampling(const SamplerOptions &s) {
    sampling::Params p;
    p.temperature = s.temperature;
    p.top_k = s.top_k;
    p.top_p = s.top_p;
    p.min_p = s.min_p;
    p.typical_p = s.typical_p;
    p.repeat_penalty = s.repeat_penalty;
    p.frequency_penalty = s.frequency_penalty;
    p.presence_penalty = s.presence_penalty;
    p.penalty_last_n = s.penalty_last_n;
    p.logit_bias = s.logit_bias;
    return p;
}

// Length of the longest suffix of text that is a proper prefix of some stop string: that
// much must be held back, since the next token may complete the stop string.
size_t stop_prefix_overlap(std::string_view text, const std::vector<std::string> &stops) {
    size_t best = 0;
    for (const auto &s : stops)
        for (size_t k = std::min(text.size(), s.size() - 1); k > best; --k)
            if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
                best = k;
                break;
            }
    return best;
}

}  // namespace

struct Session::Impl {
    Model model;  // keeps the weights alive
    const Model::Impl &m;
    runtime::Session rt;
    SessionOptions options;
    std::vector<Token> cached;  // tokens whose K/V are in rt, in order (rt.n_past() of them)
    sampling::Rng seeds;        // one seed per generation, unless the options give one
    std::atomic<bool> cancel_requested{false};

    // ---- the generation in progress (pull-style state) ----
    bool active = false;
    GenerateOptions gen;
    std::optional<sampling::Sampler> sampler;
    std::optional<tokenizer::StreamDecoder> decoder;
    std::string held;  // decoded text not yet released (may begin a stop string)
    bool stopped_by_string = false;
    Result result;

    Impl(const Model &mod, const SessionOptions &o)
        : model(mod),
          m(detail::ModelAccess::impl(mod)),
          rt(m.model, to_runtime(o)),
          options(o),
          seeds(o.seed) {
        options.n_ctx = static_cast<uint32_t>(rt.n_ctx());
        options.n_batch = static_cast<uint32_t>(rt.options().n_batch);
        options.n_threads = static_cast<uint32_t>(rt.options().n_threads);
        // cancel() reaches into a forward pass too: checked between layers.
        rt.set_cancel_flag(&cancel_requested);
    }

    void finish(FinishReason why) {
        active = false;
        result.finish_reason = why;
    }

    void fail_generation(const Error &e) {
        // Keep the cache consistent with `cached` whatever the failed pass left behind.
        if (rt.n_past() >= static_cast<int64_t>(cached.size())) {
            rt.truncate(static_cast<int64_t>(cached.size()));
        } else {
            rt.reset();
            cached.clear();
        }
        if (e.code() == Errc::cancelled) {  // cancel() stopped a forward pass between layers
            finish(FinishReason::cancelled);
            return;
        }
        result.error_code = e.code();
        result.error = e.what();
        finish(FinishReason::error);
    }

    void check_options(const GenerateOptions &o) const {
        if (o.max_tokens < -1)
            fail(Errc::invalid_argument, "GenerateOptions: max_tokens must be >= -1 (-1: no limit), got {}", o.max_tokens);
        for (size_t i = 0; i < o.stop.size(); ++i)
            if (o.stop[i].empty()) fail(Errc::invalid_argument, "GenerateOptions: stop string {} is empty", i);
    }

    // Set up a generation: validate, reuse the cached prefix, evaluate the rest of the
    // prompt. Throws only before anything is changed (bad options, prompt too long).
    void start(std::vector<Token> prompt, const GenerateOptions &o) {
        active = false;
        check_options(o);
        sampling::Sampler s(to_sampling(o.sampling), static_cast<int32_t>(rt.n_vocab()), 0);  // validates
        if (prompt.empty()) {
            const Token bos = m.tokenizer.bos();
            if (bos < 0) fail(Errc::invalid_argument, "generate: the prompt is empty and the model has no BOS token");
            prompt.push_back(bos);
        }
        for (size_t i = 0; i < prompt.size(); ++i)
            if (prompt[i] < 0 || prompt[i] >= rt.n_vocab())
                fail(Errc::invalid_argument, "generate: prompt token {} at index {} is outside the vocabulary [0, {})",
                     prompt[i], i, rt.n_vocab());
        if (static_cast<int64_t>(prompt.size()) > rt.n_ctx())
            fail(Errc::context_full, "generate: the prompt has {} tokens, more than the session's context of {}",
                 prompt.size(), rt.n_ctx());

        // Past every check: only now draw from the session's seed stream, so a refused call
        // does not shift the seeds of later generations.
        s.reseed(o.seed ? *o.seed : seeds.next_u64());
        cancel_requested.store(false, std::memory_order_relaxed);
        gen = o;
        result = Result{};
        held.clear();
        stopped_by_string = false;
        sampler.emplace(std::move(s));
        // A prompt ending in a control token (BOS alone, a chat template's assistant header)
        // starts the text: drop SentencePiece's space in front of its first word.
        tokenizer::DecodeOptions d;
        d.strip_leading_space = m.tokenizer.is_control(prompt.back());
        decoder.emplace(m.tokenizer, d);

        // Reuse the longest common prefix of the cache, but always evaluate at least one
        // token: its logits are where sampling starts.
        size_t keep = 0;
        while (keep < cached.size() && keep < prompt.size() && cached[keep] == prompt[keep]) ++keep;
        if (keep == prompt.size()) --keep;
        rt.truncate(static_cast<int64_t>(keep));
        cached.resize(keep);
        result.timings.reused_tokens = static_cast<int32_t>(keep);

        // The penalties see the prompt too (the sampler keeps only its last penalty_last_n).
        for (Token t : prompt) sampler->accept(t);

        active = true;
        const auto t0 = Clock::now();
        const size_t batch = std::max<size_t>(1, options.n_batch);
        try {
            for (size_t b = keep; b < prompt.size(); b += batch) {
                if (cancel_requested.load(std::memory_order_relaxed)) {
                    finish(FinishReason::cancelled);
                    break;
                }
                const size_t n = std::min(batch, prompt.size() - b);
                rt.decode(std::span<const Token>(prompt).subspan(b, n));
                cached.insert(cached.end(), prompt.begin() + static_cast<std::ptrdiff_t>(b),
                              prompt.begin() + static_cast<std::ptrdiff_t>(b + n));
                result.timings.prompt_tokens += static_cast<int32_t>(n);
            }
        } catch (const Error &e) {
            fail_generation(e);
        }
        result.timings.prompt_ms = ms_since(t0);
    }

    // Release what is safe of `held` (all of it when final).
    std::string release(bool final) {
        size_t n = held.size();
        if (!final && !gen.stop.empty()) n -= stop_prefix_overlap(held, gen.stop);
        std::string out = held.substr(0, n);
        held.erase(0, n);
        result.text += out;
        return out;
    }

    // If held contains a stop string, cut it there and finish. Returns the released text.
    std::optional<std::string> cut_at_stop() {
        size_t at = std::string::npos;
        for (const auto &s : gen.stop) at = std::min(at, held.find(s));
        if (at == std::string::npos) return std::nullopt;
        held.resize(at);
        std::string out = release(true);
        finish(FinishReason::stop);
        stopped_by_string = true;
        return out;
    }

    // One step: sample a token, evaluate it, return the text it releases. nullopt when
    // the generation had already finished.
    std::optional<std::string> step() {
        if (!active) return std::nullopt;
        const auto t0 = Clock::now();
        std::string out;
        try {
            if (cancel_requested.load(std::memory_order_relaxed)) {
                finish(FinishReason::cancelled);
            } else if (gen.max_tokens >= 0 && result.timings.generated_tokens >= gen.max_tokens) {
                finish(FinishReason::length);
            } else {
                const Token t = sampler->sample(rt.logits());
                if (m.tokenizer.is_eog(t)) {
                    finish(FinishReason::stop);
                } else {
                    sampler->accept(t);
                    result.tokens.push_back(t);
                    result.timings.generated_tokens += 1;
                    held += decoder->push(t);
                    if (auto stopped = cut_at_stop()) {
                        out = std::move(*stopped);
                    } else if (rt.n_past() >= rt.n_ctx()) {
                        finish(FinishReason::length);  // no room to evaluate t: the context is full
                    } else {
                        rt.decode(std::span<const Token>(&t, 1));
                        cached.push_back(t);
                        out = release(false);
                    }
                }
            }
        } catch (const Error &e) {
            fail_generation(e);
        }
        if (!active && !stopped_by_string) {
            // Finished for another reason: nothing more can complete a stop string, so the
            // held tail (and any incomplete UTF-8 the decoder kept) is text.
            held += decoder->flush();
            out += release(true);
        }
        result.timings.generate_ms += ms_since(t0);
        return out;
    }

    // Append tokens without sampling, logits into out (checked by the caller).
    void evaluate(std::span<const Token> tokens, std::span<float> out, bool all_logits) {
        active = false;
        if (tokens.empty()) fail(Errc::invalid_argument, "evaluate: no tokens");
        for (size_t i = 0; i < tokens.size(); ++i)  // all of them before any is evaluated
            if (tokens[i] < 0 || tokens[i] >= rt.n_vocab())
                fail(Errc::invalid_argument, "evaluate: token {} at index {} is outside the vocabulary [0, {})",
                     tokens[i], i, rt.n_vocab());
        if (cached.size() + tokens.size() > static_cast<size_t>(rt.n_ctx()))
            fail(Errc::context_full, "evaluate: {} cached + {} new tokens exceed the session's context of {}",
                 cached.size(), tokens.size(), rt.n_ctx());
        cancel_requested.store(false, std::memory_order_relaxed);
        // The runtime splits the tokens into passes of n_batch; a cancel stops it between
        // layers with its position at the last completed pass, which `cached` then follows.
        try {
            if (all_logits) {
                rt.decode(tokens, out);
            } else {
                const auto last = rt.decode(tokens);
                std::copy(last.begin(), last.end(), out.begin());
            }
        } catch (const Error &) {
            const auto done = static_cast<size_t>(rt.n_past()) - cached.size();
            cached.insert(cached.end(), tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(done));
            throw;
        }
        cached.insert(cached.end(), tokens.begin(), tokens.end());
    }

    // Push-style: step until finished, handing each piece of text to on_token.
    Result drive(const OnToken &on_token) {
        while (active) {
            auto piece = step();
            if (on_token && piece && !piece->empty() && !on_token(*piece)) {
                // The caller has seen enough. What it has not been shown is dropped, so
                // result.text is exactly the text it received.
                if (active) finish(FinishReason::stop);
                break;
            }
        }
        return result;
    }
};

Session::Session(const Model &model, const SessionOptions &options)
    : impl_(std::make_unique<Impl>(model, options)) {}
Session::Session(Session &&) noexcept = default;
Session &Session::operator=(Session &&) noexcept = default;
Session::~Session() = default;

const Model &Session::model() const noexcept { return impl_->model; }
const SessionOptions &Session::options() const noexcept { return impl_->options; }
std::span<const Token> Session::cached_tokens() const noexcept { return impl_->cached; }
const Result &Session::result() const noexcept { return impl_->result; }
void Session::cancel() noexcept { impl_->cancel_requested.store(true, std::memory_order_relaxed); }

void Session::reset() {
    impl_->active = false;
    impl_->rt.reset();
    impl_->cached.clear();
}

std::vector<float> Session::evaluate(std::span<const Token> tokens, const EvaluateOptions &options) {
    const size_t n_vocab = static_cast<size_t>(impl_->rt.n_vocab());
    std::vector<float> out(options.all_logits ? tokens.size() * n_vocab : n_vocab);
    evaluate(tokens, out, options);
    return out;
}

void Session::evaluate(std::span<const Token> tokens, std::span<float> logits, const EvaluateOptions &options) {
    const size_t n_vocab = static_cast<size_t>(impl_->rt.n_vocab());
    const size_t need = options.all_logits ? tokens.size() * n_vocab : n_vocab;
    if (logits.size() < need)
        fail(Errc::invalid_argument, "evaluate: the logits buffer holds {} floats, {} are needed ({} per {})",
             logits.size(), need, n_vocab, options.all_logits ? "token" : "call");
    impl_->evaluate(tokens, logits, options.all_logits);
}

void Session::truncate(size_t n) {
    if (n > impl_->cached.size())
        fail(Errc::invalid_argument, "truncate: {} is more than the {} cached tokens", n, impl_->cached.size());
    impl_->active = false;
    impl_->rt.truncate(static_cast<int64_t>(n));
    impl_->cached.resize(n);
}

void Session::start(std::string_view prompt, const GenerateOptions &options) {
    impl_->start(prompt.empty() ? std::vector<Token>{} : impl_->model.tokenize(prompt, true, false), options);
}

void Session::start(std::span<const Token> prompt, const GenerateOptions &options) {
    impl_->start(std::vector<Token>(prompt.begin(), prompt.end()), options);
}

std::optional<std::string> Session::next() {
    const bool was_active = impl_->active;
    auto out = impl_->step();
    if (!was_active) return std::nullopt;
    return out;
}

Result Session::generate(std::string_view prompt, const GenerateOptions &options, const OnToken &on_token) {
    start(prompt, options);
    return impl_->drive(on_token);
}

Result Session::generate(std::span<const Token> prompt, const GenerateOptions &options, const OnToken &on_token) {
    start(prompt, options);
    return impl_->drive(on_token);
}

Result Session::generate(std::span<const Message> messages, const GenerateOptions &options, const OnToken &on_token) {
    const std::string rendered = render_chat(impl_->m, messages, true);
    impl_->start(tokenize_chat(impl_->m, rendered), options);
    return impl_->drive(on_token);
}

}  // namespace ember
