// fp16 / bf16 conversions, exhaustively over all 65536 16-bit patterns, against a plain
// reference written with ldexp (no bit tricks), and f32 -> 16-bit rounding at every
// midpoint between neighbouring representable values (ties to even).
#include "quant/fp16.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <ios>
#include <limits>

using namespace ember::quant;

namespace {

// binary16 value by its definition: (-1)^s * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m.
double half_value(uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v;
    if (e == 0x1F) v = m == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    else if (e == 0) v = std::ldexp(m, -24);
    else v = std::ldexp(1024 + m, e - 25);
    return s ? -v : v;
}

bool same_bits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }

}  // namespace

static_assert(fp16_to_f32(0x3C00) == 1.0f && f32_to_fp16(1.0f) == 0x3C00, "usable in constant expressions");
static_assert(bf16_to_f32(0x3F80) == 1.0f && f32_to_bf16(1.0f) == 0x3F80);

TEST_CASE("fp16 -> f32 is exact for all 65536 values; NaN payload kept and made quiet") {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float got = fp16_to_f32(static_cast<uint16_t>(h));
        const double want = half_value(static_cast<uint16_t>(h));
        INFO("half 0x" << std::hex << h);
        if (std::isnan(want)) {
            REQUIRE(std::isnan(got));
            const uint32_t bits = std::bit_cast<uint32_t>(got);
            CHECK((bits >> 31) == (h >> 15));                       // sign kept
            CHECK((bits & 0x00400000u) != 0);                        // quiet
            CHECK(((bits >> 13) & 0x1FFu) == (h & 0x1FFu));          // payload kept
        } else {
            REQUIRE(static_cast<double>(got) == want);
            CHECK(std::signbit(got) == static_cast<bool>(h >> 15));  // -0 stays -0
        }
    }
}

TEST_CASE("f32 -> fp16 round-trips every half and rounds midpoints to even") {
    for (uint32_t h = 0; h < 65536; ++h) {
        const auto hb = static_cast<uint16_t>(h);
        if (((h >> 10) & 0x1F) == 0x1F) continue;  // inf/NaN below
        INFO("half 0x" << std::hex << h);
        REQUIRE(f32_to_fp16(fp16_to_f32(hb)) == hb);
        // Midpoint to the next half of larger magnitude (exact in f32: 11 significant bits).
        const uint16_t next = static_cast<uint16_t>(hb + 1);
        const float a = fp16_to_f32(hb), b = fp16_to_f32(next);  // next may be +-inf
        const float mid = std::isinf(b) ? static_cast<float>(std::copysign(65520.0, a))
                                        : static_cast<float>((double(a) + double(b)) / 2);
        const uint16_t even = (hb & 1) ? next : hb;
        CHECK(f32_to_fp16(mid) == even);
        // Just inside either side of the midpoint goes to the nearer neighbour.
        const float toward_a = std::nextafter(mid, a), toward_b = std::nextafter(mid, 2 * mid);
        CHECK(f32_to_fp16(toward_a) == hb);
        CHECK(f32_to_fp16(toward_b) == next);
    }
}

TEST_CASE("f32 -> fp16 special values") {
    const float inf = std::numeric_limits<float>::infinity();
    CHECK(f32_to_fp16(inf) == 0x7C00);
    CHECK(f32_to_fp16(-inf) == 0xFC00);
    CHECK(f32_to_fp16(65504.f) == 0x7BFF);
    CHECK(f32_to_fp16(1e10f) == 0x7C00);                           // overflow -> inf
    CHECK(f32_to_fp16(std::numeric_limits<float>::quiet_NaN()) == 0x7E00);
    CHECK(f32_to_fp16(-std::numeric_limits<float>::quiet_NaN()) == 0xFE00);
    CHECK(f32_to_fp16(std::bit_cast<float>(0x7F800001u)) == 0x7E00);  // signalling NaN
    CHECK(f32_to_fp16(std::ldexp(1.f, -25)) == 0x0000);             // tie with 0 -> even (0)
    CHECK(f32_to_fp16(std::nextafter(std::ldexp(1.f, -25), 1.f)) == 0x0001);
    CHECK(f32_to_fp16(std::ldexp(1.f, -30)) == 0x0000);
    CHECK(f32_to_fp16(-std::ldexp(1.f, -30)) == 0x8000);            // sign of zero kept
    CHECK(f32_to_fp16(std::numeric_limits<float>::denorm_min()) == 0x0000);
}

TEST_CASE("bf16 -> f32 is the high half, for all 65536 values") {
    for (uint32_t b = 0; b < 65536; ++b)
        REQUIRE(std::bit_cast<uint32_t>(bf16_to_f32(static_cast<uint16_t>(b))) == b << 16);
}

TEST_CASE("f32 -> bf16 rounds to nearest even and keeps NaN quiet") {
    for (uint32_t b = 0; b < 65536; ++b) {
        const auto bb = static_cast<uint16_t>(b);
        const float v = bf16_to_f32(bb);
        INFO("bf16 0x" << std::hex << b);
        if (std::isnan(v)) {
            const uint16_t r = f32_to_bf16(v);
            CHECK(std::isnan(bf16_to_f32(r)));
            CHECK((r & 0x40) != 0);
            CHECK((r & 0x8000) == (bb & 0x8000));
            continue;
        }
        REQUIRE(f32_to_bf16(v) == bb);
        if (std::isinf(v) || (b & 0x7FFF) == 0x7F7F) continue;  // no finite midpoint above
        // Midpoint (low half exactly 0x8000) to the next bf16 of larger magnitude.
        const uint32_t mid_bits = (b << 16) | 0x8000u;
        const uint16_t even = (bb & 1) ? static_cast<uint16_t>(bb + 1) : bb;
        CHECK(f32_to_bf16(std::bit_cast<float>(mid_bits)) == even);
        CHECK(f32_to_bf16(std::bit_cast<float>(mid_bits - 1)) == bb);
        CHECK(f32_to_bf16(std::bit_cast<float>(mid_bits + 1)) == static_cast<uint16_t>(bb + 1));
    }
    CHECK(f32_to_bf16(std::bit_cast<float>(0x7F800001u)) == 0x7FC0);  // sNaN made quiet
    CHECK(same_bits(bf16_to_f32(f32_to_bf16(-0.f)), -0.f));
}
