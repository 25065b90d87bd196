// kernels/matmul_avx512vnni.cpp - the avx512vnni kernel table (compiled with avx512vnni flags).
#include "kernels/kernels.hpp"

namespace ember::kernels {

const MatmulKernel *avx512vnni_kernel(DType) { return nullptr; }

}  // namespace ember::kernels
