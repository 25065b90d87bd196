// kernels/matmul_avx512.cpp - the avx512 kernel table (compiled with avx512 flags).
#include "kernels/kernels.hpp"

namespace ember::kernels {

const MatmulKernel *avx512_kernel(DType) { return nullptr; }

}  // namespace ember::kernels
