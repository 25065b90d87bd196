// sampling/sampler.hpp - turn one row of logits into the next token.
//
// The chain, in this fixed order (llama.cpp's default order, so settings carry over):
//
//   1. logit bias         add bias[token]; -inf bans a token
//   2. penalties          over the last `penalty_last_n` accepted tokens (prompt included):
//                         repetition (logit > 0: divide by it, else multiply), then
//                         frequency (- count * f) and presence (- [count > 0] * p)
//   -- temperature == 0:  greedy: the highest logit wins (ties: the lowest token id). Stop.
//   3. top-k              keep the k highest logits (k == 0: off; k > candidates: all)
//   4. typical-p          keep the locally typical set of mass >= typical_p (1: off)
//   5. top-p              keep the smallest head of mass >= top_p (1: off)
//   6. min-p              keep tokens with p >= min_p * p_max (0: off)
//   7. temperature        logits / temperature, softmax
//   8. draw               one uniform double from the seeded Rng, cumulative search
//
// Steps 4-6 measure probabilities from the logits before temperature, as llama.cpp does.
// Every step keeps at least one token. Ties are broken by token id everywhere, so the
// result depends only on the logits, the settings, the history and the seed.
//
// Values out of range are refused with Errc::invalid_argument by validate(): negative,
// NaN or infinite temperature; top_k < 0; top_p, min_p or typical_p outside [0, 1] or NaN;
// repeat_penalty <= 0 or not finite; non-finite frequency/presence penalties;
// penalty_last_n < -1; a logit bias that is NaN or +inf or names a token outside the
// vocabulary. NaN logits (a model bug) are treated as -inf; if every candidate is -inf the
// sampler throws Errc::invalid_argument (e.g. logit bias banned every token).
#pragma once

#include "sampling/rng.hpp"

#include <cstdint>
#include <deque>
#include <span>
#include <utility>
#include <vector>

namespace ember::sampling {

struct Params {
    float temperature = 0.8f;     // 0: greedy
    int32_t top_k = 40;           // 0: off
    float top_p = 0.95f;          // 1: off
    float min_p = 0.05f;          // 0: off
    float typical_p = 1.0f;       // 1: off
    float repeat_penalty = 1.0f;  // 1: off
    float frequency_penalty = 0.0f;
    float presence_penalty = 0.0f;
    int32_t penalty_last_n = 64;  // 0: penalties off; -1: the whole history
    std::vector<std::pair<int32_t, float>> logit_bias;  // (token, added to its logit)
};

// Throws Errc::invalid_argument naming the first bad field. n_vocab bounds logit_bias.
void validate(const Params &params, int32_t n_vocab);

struct Candidate {
    int32_t id;
    float logit;
    float p;  // filled by the steps that need probabilities
};

class Sampler {
public:
    // Validates params (see above). seed fixes the draws.
    Sampler(Params params, int32_t n_vocab, uint64_t seed);

    // Pick a token from logits (length n_vocab). Does not accept it: call accept().
    int32_t sample(std::span<const float> logits);

    // Record a token in the penalty history (prompt tokens too, as llama.cpp does).
    void accept(int32_t token);

    void reset_history() { history_.clear(); }
    void reseed(uint64_t seed) { rng_.reseed(seed); }
    const Params &params() const { return params_; }
    int32_t n_vocab() const { return n_vocab_; }

    // The chain's steps, public so tests can check each one alone. Each works on the
    // candidates in place and keeps at least one.
    static void apply_penalties(std::vector<Candidate> &c, std::span<const int32_t> recent,
                                float repeat, float frequency, float presence);
    static void top_k(std::vector<Candidate> &c, int32_t k);
    static void typical_p(std::vector<Candidate> &c, float p);
    static void top_p(std::vector<Candidate> &c, float p);
    static void min_p(std::vector<Candidate> &c, float p);
    static int32_t greedy(const std::vector<Candidate> &c);
    // Softmax of logit / temperature into p, sorted by descending logit.
    static void softmax(std::vector<Candidate> &c, float temperature = 1.0f);
    // Draw with u in [0, 1) over normalized p.
    static int32_t draw(const std::vector<Candidate> &c, double u);

private:
    Params params_;
    int32_t n_vocab_;
    Rng rng_;
    std::deque<int32_t> history_;     // most recent last, at most penalty_last_n long
    std::vector<Candidate> scratch_;  // reused: no allocation per token after the first
};

}  // namespace ember::sampling
