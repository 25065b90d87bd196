// quant/mix.hpp - which type each tensor of a model gets when a file is quantized to a
// "file type" such as Q4_K_M: the choices users know from llama.cpp's llama-quantize.
//
// A file type names a default tensor type plus rules: 1-D tensors and norms stay as they are,
// the output projection (or the tied token embedding) gets Q6_K, and in the _M mixes some
// layers' attn_v and ffn_down get Q6_K (the first and last eighth of the layers and every third
// one between). A row length that does not divide into the chosen type's blocks falls back to
// a 32-element format, then to F16. Processing order matters (the rules count attn_v tensors as
// they go), and is llama.cpp's: by layer number, then by name (quantize_order()).
#pragma once

#include "core/dtype.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::quant {

// Numbered as llama.cpp's llama_ftype, which is what general.file_type stores.
enum class FileType : uint32_t {
    all_f32 = 0, mostly_f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 7, q5_0 = 8, q5_1 = 9,
    q2_k = 10, q3_k_s = 11, q3_k_m = 12, q3_k_l = 13, q4_k_s = 14, q4_k_m = 15,
    q5_k_s = 16, q5_k_m = 17, q6_k = 18, mostly_bf16 = 32,
};

struct FileTypeInfo {
    FileType ftype;
    std::string_view name;   // as llama-quantize spells it: "Q4_K_M"
    DType default_type;      // the type most 2-D weights get
    std::string_view summary;
};

// Every file type ember can write, in llama-quantize's listing order.
std::span<const FileTypeInfo> file_types();
// Case-insensitive; also accepts llama-quantize's aliases Q4_K (= Q4_K_M), Q5_K (= Q5_K_M),
// Q3_K (= Q3_K_M) and the numeric ftype. nullopt if unknown.
std::optional<FileType> parse_file_type(std::string_view name);
const FileTypeInfo &file_type_info(FileType ftype);

// What the rules need to know about the model (from its metadata).
struct ModelFacts {
    std::string architecture;  // general.architecture
    int64_t n_layer = 0;       // <arch>.block_count
    int64_t n_head = 0;        // <arch>.attention.head_count (0: unknown)
    int64_t n_head_kv = 0;     // <arch>.attention.head_count_kv (0: same as n_head)
    int64_t n_expert = 0;      // <arch>.expert_count (0: dense)
};

struct TensorDesc {
    std::string name;
    DType type;                // type in the input file
    uint32_t n_dims;
    std::array<uint64_t, 4> ne;  // ggml order, ne[0] = row length
};

struct TypeChoice {
    DType type;          // what to write
    bool quantize;       // false: copied unchanged (type == input type)
    bool fell_back;      // the rules wanted `wanted`, but the row length does not fit it
    DType wanted;
};

// Indices of `names` in the order llama.cpp processes and writes tensors: tensors outside
// blocks first, then blk.0.*, blk.1.*, ...; by name within each group.
std::vector<size_t> quantize_order(std::span<const std::string> names);

// The type of every tensor, given in processing order. pure: every quantizable tensor gets
// the file type's default type (fallbacks still apply), as llama-quantize --pure.
std::vector<TypeChoice> plan_types(FileType ftype, const ModelFacts &facts,
                                   std::span<const TensorDesc> tensors, bool pure);

}  // namespace ember::quant
