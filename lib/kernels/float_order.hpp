// kernels/float_order.hpp - the one summation order of ember's float dot products.
//
// A dot of float weights (F32, F16, BF16) keeps 16 partial sums: lane l adds w[i] * a[i] for
// i = l (mod 16) with fma, in increasing i. The lanes are then added in a fixed tree
// (reduce16), and the elements past the last multiple of 16 are added one by one with fma.
// AVX-512 holds the lanes in one register, AVX2 in two, the scalar kernel in an array: the
// arithmetic is the same, so the result is the same on every ISA.
#pragma once

namespace ember::kernels {

inline constexpr int k_float_lanes = 16;

// ((l0+l8 + l4+l12) + (l1+l9 + l5+l13)) + ((l2+l10 + l6+l14) + (l3+l11 + l7+l15)): halves
// first (as AVX-512 folds to 256 bits), then quarters, then pairs.
inline float reduce16(const float l[k_float_lanes]) {
    float a[8], b[4];
    for (int i = 0; i < 8; ++i) a[i] = l[i] + l[i + 8];
    for (int i = 0; i < 4; ++i) b[i] = a[i] + a[i + 4];
    return (b[0] + b[1]) + (b[2] + b[3]);
}

}  // namespace ember::kernels
