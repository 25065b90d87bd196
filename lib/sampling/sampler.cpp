// The sampler chain (order and contracts: sampler.hpp).
#include "sampling/sampler.hpp"

#include "core/fail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace ember::sampling {

namespace {

constexpr float neg_inf = -std::numeric_limits<float>::infinity();

// Highest logit first; equal logits by lower id, so every sort is a total order.
bool by_logit(const Candidate &a, const Candidate &b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void check_unit_interval(float v, const char *name) {
    if (!(v >= 0.0f && v <= 1.0f))
        fail(Errc::invalid_argument, "sampler: {} must be in [0, 1], got {}", name, v);
}

}  // namespace

void validate(const Params &p, int32_t n_vocab) {
    if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
        fail(Errc::invalid_argument, "sampler: temperature must be a finite number >= 0 (0 is greedy), got {}",
             p.temperature);
    if (p.top_k < 0) fail(Errc::invalid_argument, "sampler: top_k must be >= 0 (0 is off), got {}", p.top_k);
    check_unit_interval(p.top_p, "top_p");
    check_unit_interval(p.min_p, "min_p");
    check_unit_interval(p.typical_p, "typical_p");
    if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty))
        fail(Errc::invalid_argument, "sampler: repeat_penalty must be a finite number > 0 (1 is off), got {}",
             p.repeat_penalty);
    if (!std::isfinite(p.frequency_penalty))
        fail(Errc::invalid_argument, "sampler: frequency_penalty must be finite, got {}", p.frequency_penalty);
    if (!std::isfinite(p.presence_penalty))
        fail(Errc::invalid_argument, "sampler: presence_penalty must be finite, got {}", p.presence_penalty);
    if (p.penalty_last_n < -1)
        fail(Errc::invalid_argument, "sampler: penalty_last_n must be >= -1 (-1 is the whole history), got {}",
             p.penalty_last_n);
    if (n_vocab <= 0) fail(Errc::invalid_argument, "sampler: vocabulary size must be > 0, got {}", n_vocab);
    for (const auto &[token, bias] : p.logit_bias) {
        if (token < 0 || token >= n_vocab)
            fail(Errc::invalid_argument, "sampler: logit bias names token {}, outside the vocabulary [0, {})",
                 token, n_vocab);
        if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity())
            fail(Errc::invalid_argument, "sampler: logit bias for token {} must be finite or -inf, got {}", token,
                 bias);
    }
}

Sampler::Sampler(Params params, int32_t n_vocab, uint64_t seed)
    : params_(std::move(params)), n_vocab_(n_vocab), rng_(seed) {
    validate(params_, n_vocab_);
}

void Sampler::accept(int32_t token) {
    if (params_.penalty_last_n == 0) return;
    history_.push_back(token);
    if (params_.penalty_last_n > 0)
        while (history_.size() > static_cast<size_t>(params_.penalty_last_n)) history_.pop_front();
}

// ---- the steps -----------------------------------------------------------------------

void Sampler::apply_penalties(std::vector<Candidate> &c, std::span<const int32_t> recent, float repeat,
                              float frequency, float presence) {
    if (recent.empty() || (repeat == 1.0f && frequency == 0.0f && presence == 0.0f)) return;
    std::unordered_map<int32_t, int> counts;
    for (int32_t t : recent) ++counts[t];
    // Candidates are indexed by id when the chain calls this (a full vocabulary row), but
    // tests may pass any subset, so look ids up rather than index.
    for (auto &cand : c) {
        auto it = counts.find(cand.id);
        if (it == counts.end()) continue;
        // Dividing a negative logit would raise it; multiplying lowers it instead.
        cand.logit = cand.logit > 0.0f ? cand.logit / repeat : cand.logit * repeat;
        cand.logit -= static_cast<float>(it->second) * frequency + presence;
    }
}

int32_t Sampler::greedy(const std::vector<Candidate> &c) {
    const Candidate *best = nullptr;
    for (const auto &cand : c)
        if (cand.logit != neg_inf && (!best || by_logit(cand, *best))) best = &cand;
    if (!best) fail(Errc::invalid_argument, "sampler: every token has probability 0 (all logits are -inf)");
    return best->id;
}

void Sampler::top_k(std::vector<Candidate> &c, int32_t k) {
    if (k <= 0 || static_cast<size_t>(k) >= c.size()) {
        std::sort(c.begin(), c.end(), by_logit);
        return;
    }
    std::partial_sort(c.begin(), c.begin() + k, c.end(), by_logit);
    c.resize(static_cast<size_t>(k));
}

void Sampler::softmax(std::vector<Candidate> &c, float temperature) {
    std::sort(c.begin(), c.end(), by_logit);
    if (c.empty()) return;
    const double max = c.front().logit;
    double sum = 0.0;
    // double for the exponent and the sum: the probabilities are the same on every libm
    // that rounds exp() to within an ulp, and summation order is fixed (sorted order).
    for (auto &cand : c) {
        double e = cand.logit == neg_inf ? 0.0 : std::exp((cand.logit - max) / temperature);
        cand.p = static_cast<float>(e);
        sum += e;
    }
    for (auto &cand : c) cand.p = static_cast<float>(cand.p / sum);
}

void Sampler::top_p(std::vector<Candidate> &c, float p) {
    if (p >= 1.0f || c.size() <= 1) return;
    softmax(c);
    double cum = 0.0;
    for (size_t i = 0; i < c.size(); ++i) {
        cum += c[i].p;
        if (cum >= p) {
            c.resize(i + 1);
            return;
        }
    }
}

void Sampler::min_p(std::vector<Candidate> &c, float p) {
    if (p <= 0.0f || c.size() <= 1) return;
    std::sort(c.begin(), c.end(), by_logit);
    // p_i >= p * p_max  <=>  logit_i >= logit_max + log(p), with no softmax needed.
    const float threshold = c.front().logit + std::log(p);
    size_t keep = 1;
    while (keep < c.size() && c[keep].logit >= threshold) ++keep;
    c.resize(keep);
}

void Sampler::typical_p(std::vector<Candidate> &c, float p) {
    if (p >= 1.0f || c.size() <= 1) return;
    softmax(c);
    double entropy = 0.0;
    for (const auto &cand : c)
        if (cand.p > 0.0f) entropy -= cand.p * std::log(static_cast<double>(cand.p));
    // Locally typical sampling (Meister et al. 2022): prefer tokens whose surprise is
    // closest to the entropy, and keep the smallest such set with mass >= p.
    std::vector<std::pair<double, size_t>> order(c.size());
    for (size_t i = 0; i < c.size(); ++i) {
        double surprise = c[i].p > 0.0f ? -std::log(static_cast<double>(c[i].p))
                                         : std::numeric_limits<double>::infinity();
        order[i] = {std::fabs(surprise - entropy), i};
    }
    std::sort(order.begin(), order.end(), [&](const auto &a, const auto &b) {
        return a.first < b.first || (a.first == b.first && c[a.second].id < c[b.second].id);
    });
    double cum = 0.0;
    size_t keep = order.size();
    for (size_t i = 0; i < order.size(); ++i) {
        cum += c[order[i].second].p;
        if (cum > p) {
            keep = i + 1;
            break;
        }
    }
    std::vector<Candidate> kept;
    kept.reserve(keep);
    for (size_t i = 0; i < keep; ++i) kept.push_back(c[order[i].second]);
    std::sort(kept.begin(), kept.end(), by_logit);
    c = std::move(kept);
}

int32_t Sampler::draw(const std::vector<Candidate> &c, double u) {
    double total = 0.0;
    for (const auto &cand : c) total += cand.p;
    const double target = u * total;
    double cum = 0.0;
    int32_t last_positive = -1;
    for (const auto &cand : c) {
        if (cand.p <= 0.0f) continue;
        cum += cand.p;
        last_positive = cand.id;
        if (cum > target) return cand.id;
    }
    if (last_positive < 0) fail(Errc::invalid_argument, "sampler: every token has probability 0 (all logits are -inf)");
    return last_positive;  // rounding left target at the very end of the mass
}

// ---- the chain -----------------------------------------------------------------------

int32_t Sampler::sample(std::span<const float> logits) {
    if (logits.size() != static_cast<size_t>(n_vocab_))
        fail(Errc::internal, "sampler: got {} logits for a vocabulary of {}", logits.size(), n_vocab_);
    auto &c = scratch_;
    c.resize(logits.size());
    for (size_t i = 0; i < logits.size(); ++i)
        c[i] = {static_cast<int32_t>(i), std::isnan(logits[i]) ? neg_inf : logits[i], 0.0f};

    for (const auto &[token, bias] : params_.logit_bias) c[static_cast<size_t>(token)].logit += bias;

    if (!history_.empty()) {
        std::vector<int32_t> recent(history_.begin(), history_.end());
        apply_penalties(c, recent, params_.repeat_penalty, params_.frequency_penalty, params_.presence_penalty);
    }

    if (params_.temperature == 0.0f) return greedy(c);

    // -inf candidates can never be drawn; dropping them keeps every later step simple.
    c.erase(std::remove_if(c.begin(), c.end(), [](const Candidate &x) { return x.logit == neg_inf; }), c.end());
    if (c.empty()) fail(Errc::invalid_argument, "sampler: every token has probability 0 (all logits are -inf)");

    top_k(c, params_.top_k);
    typical_p(c, params_.typical_p);
    top_p(c, params_.top_p);
    min_p(c, params_.min_p);
    softmax(c, params_.temperature);
    return draw(c, rng_.next_unit());
}

}  // namespace ember::sampling
