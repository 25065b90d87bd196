// runtime_reference.hpp - llama.cpp reference outputs (tests/data/*.json) and comparisons
// of a Session's log-probs against them. Shared by the runtime_* tests.
#pragma once

#include "runtime/session.hpp"
#include "test_data.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ember::test {

struct Reference {
    std::vector<int32_t> greedy;                // greedy_from_bos
    std::vector<double> top2_gap;               // greedy_top2_gap (tiny-archs only)
    std::vector<int32_t> sequence;              // fixed_sequence
    std::vector<std::vector<double>> logprobs;  // [position][vocab]
};

inline Reference load_reference(const std::string &relative) {
    std::ifstream in(data_path(relative));
    REQUIRE(in.good());
    const nlohmann::json j = nlohmann::json::parse(in);
    Reference r;
    r.greedy = j.at("greedy_from_bos").get<std::vector<int32_t>>();
    if (j.contains("greedy_top2_gap")) r.top2_gap = j.at("greedy_top2_gap").get<std::vector<double>>();
    r.sequence = j.at("fixed_sequence").get<std::vector<int32_t>>();
    r.logprobs = j.at("logprobs").get<std::vector<std::vector<double>>>();
    return r;
}

inline std::vector<double> log_softmax(const float *logits, int64_t n) {
    const double mx = *std::max_element(logits, logits + n);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
    const double lse = mx + std::log(sum);
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = logits[i] - lse;
    return out;
}

// Per position: the largest |ember - llama.cpp| over the vocabulary.
struct LogprobDiff {
    std::vector<double> per_position;
    double max() const { return *std::max_element(per_position.begin(), per_position.end()); }
    double mean_abs = 0;  // over every (position, token) entry
    int count_above(double t) const {
        return static_cast<int>(std::count_if(per_position.begin(), per_position.end(),
                                              [t](double d) { return d > t; }));
    }
    double median() const {
        std::vector<double> v = per_position;
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    }
};

inline LogprobDiff teacher_forced_diff(runtime::Session &s, const Reference &ref) {
    const int64_t n = static_cast<int64_t>(ref.sequence.size());
    const int64_t nv = s.n_vocab();
    std::vector<float> logits(static_cast<size_t>(n * nv));
    s.reset();
    s.decode(ref.sequence, logits);
    LogprobDiff d;
    double total = 0;
    for (int64_t p = 0; p < n; ++p) {
        const auto lp = log_softmax(logits.data() + p * nv, nv);
        REQUIRE(ref.logprobs[static_cast<size_t>(p)].size() == static_cast<size_t>(nv));
        double worst = 0;
        for (int64_t t = 0; t < nv; ++t) {
            const double e = std::abs(lp[static_cast<size_t>(t)] - ref.logprobs[static_cast<size_t>(p)][static_cast<size_t>(t)]);
            worst = std::max(worst, e);
            total += e;
        }
        d.per_position.push_back(worst);
    }
    d.mean_abs = total / static_cast<double>(n * nv);
    return d;
}

inline void print_diff(const std::string &name, const LogprobDiff &d) {
    std::printf("%-34s max %.3g  median %.3g  mean|d| %.3g  positions >1e-4: %d  >2e-2: %d  >0.15: %d  (of %zu)\n",
                name.c_str(), d.max(), d.median(), d.mean_abs, d.count_above(1e-4),
                d.count_above(2e-2), d.count_above(0.15), d.per_position.size());
}

inline int32_t argmax(std::span<const float> v) {
    return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Greedy from BOS, one token per decode call, as the reference was made. gaps (optional)
// receives each step's log-prob margin of the best token over the runner-up.
inline std::vector<int32_t> greedy(runtime::Session &s, int32_t bos, size_t n,
                                   std::vector<double> *gaps = nullptr) {
    s.reset();
    std::vector<int32_t> out;
    int32_t tok = bos;
    for (size_t i = 0; i < n; ++i) {
        const auto logits = s.decode(std::span<const int32_t>(&tok, 1));
        tok = argmax(logits);
        out.push_back(tok);
        if (gaps) {
            float second = -INFINITY;
            for (size_t t = 0; t < logits.size(); ++t)
                if (static_cast<int32_t>(t) != tok) second = std::max(second, logits[t]);
            gaps->push_back(static_cast<double>(logits[static_cast<size_t>(tok)]) - second);
        }
    }
    return out;
}

// Greedy tokens equal the reference up to the first step whose margin (the reference's,
// or ember's own) is below `margin`, where an error of that size could swap the two.
inline void check_greedy_prefix(const std::vector<int32_t> &got, const std::vector<int32_t> &want,
                                const std::vector<double> &gaps, double margin) {
    size_t i = 0;
    for (; i < got.size() && i < want.size() && gaps[i] >= margin; ++i) {
        CHECK_MESSAGE(got[i] == want[i], "greedy step " << i);
        if (got[i] != want[i]) return;
    }
    MESSAGE("greedy equal for the first " << i << " tokens (margin " << margin << ")");
}

}  // namespace ember::test
