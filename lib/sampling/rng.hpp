// sampling/rng.hpp - the one random generator of ember: xoshiro256** seeded by splitmix64.
//
// Our own (not std::mt19937 + std::uniform_real_distribution) because the standard leaves
// distributions implementation-defined: the same seed must give the same text with any
// standard library, on any platform, at any thread count. Only integer arithmetic here.
#pragma once

#include <cstdint>

namespace ember::sampling {

class Rng {
public:
    explicit Rng(uint64_t seed = 0) { reseed(seed); }

    // splitmix64 spreads the seed over the 256-bit state (never all zero), as the
    // xoshiro authors recommend.
    void reseed(uint64_t seed) {
        uint64_t x = seed;
        for (auto &s : state_) {
            x += 0x9e3779b97f4a7c15ull;
            uint64_t z = x;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            s = z ^ (z >> 31);
        }
    }

    // xoshiro256** (Blackman & Vigna, 2018).
    uint64_t next_u64() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, 1) with 53 random bits: exact in a double, the same everywhere.
    double next_unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4]{};
};

}  // namespace ember::sampling
