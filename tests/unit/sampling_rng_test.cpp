// The seeded generator: pinned outputs, so the same seed means the same text everywhere.
#include "sampling/rng.hpp"

#include <doctest/doctest.h>

using ember::sampling::Rng;

TEST_CASE("xoshiro256** seeded by splitmix64 gives the reference sequence") {
    // Values from an independent implementation of the published algorithms (splitmix64's
    // first output for seed 0 is the well-known 0xe220a8397b1dcdaf, seeding state_[0]).
    Rng r(0);
    CHECK(r.next_u64() == 0x99ec5f36cb75f2b4ull);
    CHECK(r.next_u64() == 0xbf6e1f784956452aull);
    CHECK(r.next_u64() == 0x1a5f849d4933e6e0ull);
}

TEST_CASE("reseeding restarts the sequence; unit draws lie in [0, 1)") {
    Rng a(77), b(1);
    b.reseed(77);
    for (int i = 0; i < 100; ++i) CHECK(a.next_u64() == b.next_u64());
    double lo = 1.0, hi = 0.0, sum = 0.0;
    for (int i = 0; i < 100000; ++i) {
        double u = a.next_unit();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    CHECK(lo < 0.001);
    CHECK(hi > 0.999);
    CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
}
