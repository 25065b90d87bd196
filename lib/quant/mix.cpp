// quant/mix.cpp - per-tensor type rules of the quantization file types (see mix.hpp).
//
// The rules reproduce llama.cpp's (src/llama-quant.cpp, release v0.4.0) for the file types
// listed in k_file_types, so `ember quantize` writes the same mix as llama-quantize. Tensor
// categories are recognised by the same name substrings llama.cpp matches on.
#include "quant/mix.hpp"

#include "core/fail.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace ember::quant {
namespace {

constexpr FileTypeInfo k_file_types[] = {
    {FileType::q4_0, "Q4_0", DType::q4_0, "4.34 bits/weight, 32-element blocks"},
    {FileType::q4_1, "Q4_1", DType::q4_1, "4.78 bpw, with per-block offset"},
    {FileType::q5_0, "Q5_0", DType::q5_0, "5.21 bpw"},
    {FileType::q5_1, "Q5_1", DType::q5_1, "5.65 bpw, with per-block offset"},
    {FileType::q2_k, "Q2_K", DType::q2_k, "2.96 bpw mix (Q3_K/Q4_K for sensitive tensors)"},
    {FileType::q3_k_s, "Q3_K_S", DType::q3_k, "3.41 bpw, Q3_K throughout"},
    {FileType::q3_k_m, "Q3_K_M", DType::q3_k, "3.74 bpw mix"},
    {FileType::q3_k_l, "Q3_K_L", DType::q3_k, "4.03 bpw mix"},
    {FileType::q4_k_s, "Q4_K_S", DType::q4_k, "4.37 bpw, Q4_K (Q5_K in early layers)"},
    {FileType::q4_k_m, "Q4_K_M", DType::q4_k, "4.58 bpw, Q4_K with Q6_K in some attn_v/ffn_down"},
    {FileType::q5_k_s, "Q5_K_S", DType::q5_k, "5.21 bpw, Q5_K throughout"},
    {FileType::q5_k_m, "Q5_K_M", DType::q5_k, "5.33 bpw, Q5_K with Q6_K in some attn_v/ffn_down"},
    {FileType::q6_k, "Q6_K", DType::q6_k, "6.56 bpw"},
    {FileType::q8_0, "Q8_0", DType::q8_0, "8.50 bpw"},
    {FileType::mostly_f16, "F16", DType::f16, "16 bpw"},
    {FileType::mostly_bf16, "BF16", DType::bf16, "16 bpw, f32 range"},
    {FileType::all_f32, "F32", DType::f32, "32 bpw"},
};

bool is_quantized_type(DType t) {
    return t != DType::f32 && t != DType::f16 && t != DType::bf16;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Layer number of "blk.N.*", or -1.
int layer_of(std::string_view name) {
    if (name.substr(0, 4) != "blk.") return -1;
    int n = 0;
    const char *begin = name.data() + 4, *end = name.data() + name.size();
    const auto [ptr, ec] = std::from_chars(begin, end, n);
    if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '.') return -1;
    return n;
}

// Tensors llama.cpp never quantizes: 1-D tensors, anything not ending in "weight", norms,
// expert routers and a few small or position-type tables.
bool allows_quantization(const TensorDesc &t) {
    if (t.n_dims < 2) return false;
    const std::string_view n = t.name;
    if (!ends_with(n, "weight")) return false;
    for (std::string_view part : {"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup",
                                  "laurel", "per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
                                  "indexer.k_proj.weight", "indexer.q_proj.weight", "time_mix_first.weight",
                                  "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
                                  "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
                                  "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
                                  "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
                                  "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight",
                                  ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
                                  ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd"})
        if (contains(n, part)) return false;
    if (n == "position_embd.weight" || n == "token_types.weight") return false;
    return true;
}

enum class Category { token_embd, attn_q, attn_v, attn_k, attn_qkv, attn_kv_b, attn_output, ffn_up, ffn_gate, ffn_down, output, other };

Category category_of(std::string_view n) {
    if (n == "output.weight") return Category::output;
    if (n == "token_embd.weight" || n == "per_layer_token_embd.weight") return Category::token_embd;
    if (contains(n, "attn_qkv.weight")) return Category::attn_qkv;
    if (contains(n, "attn_kv_b.weight")) return Category::attn_kv_b;
    if (contains(n, "attn_v.weight")) return Category::attn_v;
    if (contains(n, "attn_k.weight")) return Category::attn_k;
    if (contains(n, "attn_q.weight")) return Category::attn_q;
    if (contains(n, "attn_output.weight")) return Category::attn_output;
    if (contains(n, "ffn_up")) return Category::ffn_up;
    if (contains(n, "ffn_gate")) return Category::ffn_gate;
    if (contains(n, "ffn_down")) return Category::ffn_down;
    return Category::other;
}

bool is_attn_v_like(Category c) { return c == Category::attn_v || c == Category::attn_qkv || c == Category::attn_kv_b; }

// The _M mixes spend more bits on the first and last eighth of the layers and on every
// third layer in between.
bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

int64_t block_elems(DType t) { return dtype_info(t).block_elems; }

// A row length the type's blocks do not divide: the nearest 32-element format, else F16.
DType fallback_for(DType wanted, uint64_t row_len) {
    if (row_len % static_cast<uint64_t>(block_elems(wanted)) == 0) return wanted;
    DType t = wanted;
    switch (wanted) {
    case DType::q2_k: case DType::q3_k: t = DType::q4_0; break;
    case DType::q4_k: t = DType::q5_0; break;
    case DType::q5_k: t = DType::q5_1; break;
    case DType::q6_k: t = DType::q8_0; break;
    default: break;  // already a 32-element type
    }
    return row_len % static_cast<uint64_t>(block_elems(t)) == 0 ? t : DType::f16;
}

struct MixState {
    const ModelFacts &facts;
    FileType ftype;
    bool tied_embeddings = true;
    int64_t n_attn_v = 0, i_attn_v = 0;
    int64_t n_ffn_down = 0, i_ffn_down = 0;

    int64_t n_gqa() const {
        if (facts.n_head <= 0) return 1;
        const int64_t kv = facts.n_head_kv > 0 ? facts.n_head_kv : facts.n_head;
        return facts.n_head / kv;
    }
    bool falcon() const { return facts.architecture == "falcon"; }
    // llama.cpp's LLM_TYPE_70B: an 80-layer Llama with grouped-query attention.
    bool is_70b() const {
        return facts.architecture == "llama" && facts.n_layer == 80 && facts.n_head_kv > 0 &&
               facts.n_head_kv != facts.n_head;
    }

    // The rules proper: `t` starts as the file type's default.
    DType choose(const TensorDesc &tensor, Category cat, DType t) {
        const FileType f = ftype;
        if (cat == Category::output || (tied_embeddings && cat == Category::token_embd)) {
            if (falcon() || tensor.ne[0] % static_cast<uint64_t>(block_elems(t)) != 0) return DType::q8_0;
            return t != DType::q8_0 ? DType::q6_k : t;
        }
        if (cat == Category::token_embd) return t;
        if (is_attn_v_like(cat)) {
            if (f == FileType::q2_k) t = n_gqa() >= 4 ? DType::q4_k : DType::q3_k;
            else if (f == FileType::q3_k_m) t = i_attn_v < 2 ? DType::q5_k : DType::q4_k;
            else if (f == FileType::q3_k_l) t = DType::q5_k;
            else if ((f == FileType::q4_k_m || f == FileType::q5_k_m) && use_more_bits(i_attn_v, n_attn_v)) t = DType::q6_k;
            else if (f == FileType::q4_k_s && i_attn_v < 4) t = DType::q5_k;
            if (is_70b() && (t == DType::q3_k || t == DType::q4_k)) t = DType::q5_k;
            if (facts.n_expert == 8) t = DType::q8_0;
            ++i_attn_v;
            return t;
        }
        if (cat == Category::attn_k) return facts.n_expert == 8 ? DType::q8_0 : t;
        if (cat == Category::ffn_down) {
            int64_t i = i_ffn_down;
            const int64_t n = n_ffn_down;
            if (facts.n_expert > 1) {
                // Expert tensors are not in layer order; llama.cpp takes the layer from the name.
                const int layer = layer_of(tensor.name);
                if (layer < 0 || layer >= n)
                    fail(Errc::invalid_model, "tensor {}: cannot tell its layer (of {})", tensor.name, n);
                i = layer;
            }
            if (f == FileType::q2_k) t = DType::q3_k;
            else if (f == FileType::q3_k_m)
                t = i < n / 16 ? DType::q5_k : (!falcon() || use_more_bits(i, n)) ? DType::q4_k : DType::q3_k;
            else if (f == FileType::q3_k_l) t = falcon() ? DType::q4_k : DType::q5_k;
            else if (f == FileType::q4_k_m) {
                if (falcon()) t = i < n / 16 ? DType::q6_k : use_more_bits(i, n) ? DType::q5_k : DType::q4_k;
                else if (use_more_bits(i, n)) t = DType::q6_k;
            } else if (f == FileType::q5_k_m && use_more_bits(i, n)) t = DType::q6_k;
            else if (f == FileType::q4_k_s && !falcon() && i < n / 8) t = DType::q5_k;
            ++i_ffn_down;
            return t;
        }
        if (cat == Category::attn_output) {
            if (!falcon()) {
                if (facts.n_expert == 8) {
                    if (f == FileType::q2_k || f == FileType::q3_k_s || f == FileType::q3_k_m ||
                        f == FileType::q4_k_s || f == FileType::q4_k_m)
                        t = DType::q5_k;
                } else if (f == FileType::q2_k) t = DType::q3_k;
                else if (f == FileType::q3_k_m) t = DType::q4_k;
                else if (f == FileType::q3_k_l) t = DType::q5_k;
            } else if (f == FileType::q3_k_l) t = DType::q4_k;
            return t;
        }
        return t;
    }
};

}  // namespace

std::span<const FileTypeInfo> file_types() { return k_file_types; }

const FileTypeInfo &file_type_info(FileType ftype) {
    for (const FileTypeInfo &i : k_file_types)
        if (i.ftype == ftype) return i;
    fail(Errc::invalid_argument, "file type {} is not one ember can write", static_cast<uint32_t>(ftype));
}

std::optional<FileType> parse_file_type(std::string_view name) {
    std::string upper(name);
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "Q4_K") upper = "Q4_K_M";
    if (upper == "Q5_K") upper = "Q5_K_M";
    if (upper == "Q3_K") upper = "Q3_K_M";
    for (const FileTypeInfo &i : k_file_types)
        if (i.name == upper) return i.ftype;
    uint32_t id = 0;
    const auto [ptr, ec] = std::from_chars(upper.data(), upper.data() + upper.size(), id);
    if (ec == std::errc() && ptr == upper.data() + upper.size())
        for (const FileTypeInfo &i : k_file_types)
            if (static_cast<uint32_t>(i.ftype) == id) return i.ftype;
    return std::nullopt;
}

std::vector<size_t> quantize_order(std::span<const std::string> names) {
    std::vector<size_t> order(names.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const int la = layer_of(names[a]), lb = layer_of(names[b]);
        if (la != lb) return la < lb;
        return names[a] < names[b];
    });
    return order;
}

std::vector<TypeChoice> plan_types(FileType ftype, const ModelFacts &facts, std::span<const TensorDesc> tensors,
                                   bool pure) {
    const DType default_type = file_type_info(ftype).default_type;
    MixState state{facts, ftype};
    for (const TensorDesc &t : tensors) {
        const Category c = category_of(t.name);
        if (is_attn_v_like(c)) ++state.n_attn_v;
        if (c == Category::output) state.tied_embeddings = false;
    }
    state.n_ffn_down = facts.n_layer;

    std::vector<TypeChoice> out;
    out.reserve(tensors.size());
    for (const TensorDesc &t : tensors) {
        if (!allows_quantization(t)) {
            out.push_back({t.type, false, false, t.type});
            continue;
        }
        DType wanted = default_type;
        DType chosen = default_type;
        if (is_quantized_type(default_type)) {
            if (!pure) wanted = state.choose(t, category_of(t.name), default_type);
            chosen = fallback_for(wanted, t.ne[0]);
        }
        out.push_back({chosen, chosen != t.type, chosen != wanted, wanted});
    }
    return out;
}

}  // namespace ember::quant
