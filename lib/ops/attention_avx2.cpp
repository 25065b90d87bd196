// ops/attention_avx2.cpp - attention_impl.hpp compiled for AVX2/FMA/F16C (chosen at run
// time by ops::attention when the CPU has them).
#define EMBER_ATTENTION_F16C 1
#include "ops/attention_impl.hpp"

namespace ember::ops {

void attention_kv_head_avx2(const AttentionArgs &a, int g) { attention_kv_head(a, g); }

}  // namespace ember::ops
