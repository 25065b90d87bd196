// ops/attention_avx2.cpp - attention_impl.hpp compiled for AVX2/FMA/F16C (chosen at run
// time by ops::attention when the CPU has them).
#define EMBER_ATTENTION_F16C 1
#include "ops/attention_impl.hpp"

namespace ember::ops {

void attention_convert_avx2(const AttentionArgs &a, int g) { attention_convert(a, g); }
void attention_head_avx2(const AttentionArgs &a, int h, int64_t t0, int64_t t1, int slot) {
    attention_head(a, h, t0, t1, slot);
}

}  // namespace ember::ops
