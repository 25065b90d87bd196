// The AVX-VNNI kernels compiled again with EVEX encodings (AVX-512 VL + VNNI), for
// kernels_matmul_test: see lib/kernels/matmul_avxvnni.cpp. Only called after the test has
// checked isa_supported(Isa::avx512vnni).
#define EMBER_AVXVNNI_EVEX 1
#include "kernels/matmul_avxvnni.cpp"
