// kernels/dispatch.cpp - the scalar reference kernels and the choice of kernel per ISA.
#include "kernels/kernels.hpp"
#include "kernels/scalar_dots.hpp"

#include "quant/traits.hpp"

#include <array>

namespace ember::kernels {
namespace {

// Scalar reference: activations are quantized as llama.cpp's x86 backend does
// (quant::activation_quantizer); every element is the SIMD kernels' arithmetic done one
// element at a time (kernel_order_dot) where they have an exact chain, else
// quant::matmul_vec_dot. Slow, but it is the specification the SIMD kernels are tested
// against, and it serves every type the traits table can dot.
constexpr size_t round_up64(size_t n) { return (n + 63) / 64 * 64; }

template <DType W>
size_t scalar_act_row_bytes(int64_t cols) {
    const DType a = quant::traits(W).vec_dot_type;
    const DTypeInfo info = dtype_info(a);
    return round_up64(static_cast<size_t>(cols) / info.block_elems * info.block_bytes);
}

template <DType W>
void scalar_quantize(const float *x, void *dst, int64_t cols) {
    quant::activation_quantizer(quant::traits(W).vec_dot_type)(x, dst, cols);
}

template <DType W>
void scalar_gemm(const GemmArgs &a) {
    const ScalarDot kernel_order = kernel_order_dot(W);
    const auto dot = kernel_order != nullptr ? kernel_order : quant::matmul_vec_dot(W);
    const auto *w = static_cast<const std::byte *>(a.weight);
    const auto *x = static_cast<const std::byte *>(a.act);
    for (int64_t t = 0; t < a.n_tokens; ++t) {
        const std::byte *xt = x + t * a.act_row_bytes;
        float *yt = a.y + t * a.ldy;
        for (int64_t r = a.r0; r < a.r1; ++r) yt[r] = dot(a.cols, w + r * a.w_row_bytes, xt);
    }
}

constexpr ActLayout layout_of(DType act) {
    switch (act) {
    case DType::f16: return ActLayout::f16;
    case DType::bf16: return ActLayout::bf16;
    case DType::q8_0: return ActLayout::q8_0;
    case DType::q8_1: return ActLayout::q8_1;
    case DType::q8_k: return ActLayout::q8_k;
    default: return ActLayout::f32;
    }
}

template <DType W>
const MatmulKernel *make_scalar() {
    const quant::TypeTraits *tr = quant::find_traits(W);
    if (tr == nullptr || tr->vec_dot == nullptr || quant::find_traits(tr->vec_dot_type) == nullptr)
        return nullptr;
    static const MatmulKernel k{W, Isa::scalar, layout_of(tr->vec_dot_type), 1,
                                &scalar_act_row_bytes<W>, &scalar_quantize<W>, nullptr, nullptr,
                                &scalar_gemm<W>};
    return &k;
}

// Every type a GGUF model's matmul weight may have that the traits table can dot.
template <DType... Ts>
struct TypeList {};
using Dottable = TypeList<DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1,
                          DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k,
                          DType::q4_k, DType::q5_k, DType::q6_k>;

template <DType... Ts>
const MatmulKernel *scalar_lookup(DType type, TypeList<Ts...>) {
    const MatmulKernel *found = nullptr;
    ((type == Ts ? (found = make_scalar<Ts>(), 0) : 0), ...);
    return found;
}

}  // namespace

const MatmulKernel *scalar_kernel(DType type) { return scalar_lookup(type, Dottable{}); }

const MatmulKernel *find_kernel(Isa isa, DType type) {
    const MatmulKernel *k = nullptr;
    switch (isa) {
    case Isa::avx512vnni: k = avx512vnni_kernel(type); break;
    case Isa::avxvnni: k = avxvnni_kernel(type); break;
    case Isa::avx512: k = avx512_kernel(type); break;
    case Isa::avx2: k = avx2_kernel(type); break;
    case Isa::scalar: break;
    }
    return k != nullptr ? k : scalar_kernel(type);
}

}  // namespace ember::kernels
