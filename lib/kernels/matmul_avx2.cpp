// kernels/matmul_avx2.cpp - the avx2 kernel table (compiled with avx2 flags).
#include "kernels/kernels.hpp"

namespace ember::kernels {

const MatmulKernel *avx2_kernel(DType) { return nullptr; }

}  // namespace ember::kernels
