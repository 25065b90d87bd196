// gguf/names.hpp - the one table of GGUF metadata keys and tensor names (STYLE.md #4).
//
// Models, the tokenizer and tools name keys and tensors through these constants and helpers,
// never as literals, so a spelling lives in exactly one place.
//   general keys      gguf::key::architecture                "general.architecture"
//   per-architecture  gguf::arch_key("llama", arch::context_length)  "llama.context_length"
//   tokenizer keys    gguf::key::tokenizer_tokens            "tokenizer.ggml.tokens"
//   tensor names      gguf::tensor::token_embd               "token_embd.weight"
//                     gguf::blk_tensor(3, tensor::attn_q)     "blk.3.attn_q.weight"
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace ember::gguf {

// ---- general.* ---------------------------------------------------------------------------
namespace key {
inline constexpr std::string_view architecture = "general.architecture";
inline constexpr std::string_view name = "general.name";
inline constexpr std::string_view alignment = "general.alignment";
inline constexpr std::string_view file_type = "general.file_type";
inline constexpr std::string_view quantization_version = "general.quantization_version";

// ---- tokenizer.* ---------------------------------------------------------------------
inline constexpr std::string_view tokenizer_model = "tokenizer.ggml.model";
inline constexpr std::string_view tokenizer_pre = "tokenizer.ggml.pre";
inline constexpr std::string_view tokenizer_tokens = "tokenizer.ggml.tokens";
inline constexpr std::string_view tokenizer_scores = "tokenizer.ggml.scores";
inline constexpr std::string_view tokenizer_token_type = "tokenizer.ggml.token_type";
inline constexpr std::string_view tokenizer_merges = "tokenizer.ggml.merges";
inline constexpr std::string_view tokenizer_bos_id = "tokenizer.ggml.bos_token_id";
inline constexpr std::string_view tokenizer_eos_id = "tokenizer.ggml.eos_token_id";
inline constexpr std::string_view tokenizer_eot_id = "tokenizer.ggml.eot_token_id";
inline constexpr std::string_view tokenizer_eom_id = "tokenizer.ggml.eom_token_id";
inline constexpr std::string_view tokenizer_unk_id = "tokenizer.ggml.unknown_token_id";
inline constexpr std::string_view tokenizer_pad_id = "tokenizer.ggml.padding_token_id";
// Misspelled in the GGUF ecosystem itself; files carry this spelling.
inline constexpr std::string_view tokenizer_sep_id = "tokenizer.ggml.seperator_token_id";
inline constexpr std::string_view tokenizer_add_bos = "tokenizer.ggml.add_bos_token";
inline constexpr std::string_view tokenizer_add_eos = "tokenizer.ggml.add_eos_token";
inline constexpr std::string_view tokenizer_add_space_prefix = "tokenizer.ggml.add_space_prefix";
inline constexpr std::string_view chat_template = "tokenizer.chat_template";
}  // namespace key

// ---- <arch>.* suffixes: combine with arch_key() -------------------------------------------
namespace arch {
inline constexpr std::string_view context_length = "context_length";
inline constexpr std::string_view embedding_length = "embedding_length";
inline constexpr std::string_view block_count = "block_count";
inline constexpr std::string_view feed_forward_length = "feed_forward_length";
inline constexpr std::string_view vocab_size = "vocab_size";
inline constexpr std::string_view head_count = "attention.head_count";
inline constexpr std::string_view head_count_kv = "attention.head_count_kv";
inline constexpr std::string_view layer_norm_rms_epsilon = "attention.layer_norm_rms_epsilon";
inline constexpr std::string_view key_length = "attention.key_length";
inline constexpr std::string_view value_length = "attention.value_length";
inline constexpr std::string_view sliding_window = "attention.sliding_window";
inline constexpr std::string_view rope_freq_base = "rope.freq_base";
inline constexpr std::string_view rope_freq_base_swa = "rope.freq_base_swa";
inline constexpr std::string_view rope_dimension_count = "rope.dimension_count";
inline constexpr std::string_view rope_scaling_type = "rope.scaling.type";
inline constexpr std::string_view rope_scaling_factor = "rope.scaling.factor";
inline constexpr std::string_view rope_scaling_original_context_length =
    "rope.scaling.original_context_length";
inline constexpr std::string_view sliding_window_pattern = "attention.sliding_window_pattern";
inline constexpr std::string_view final_logit_softcapping = "final_logit_softcapping";
inline constexpr std::string_view attn_logit_softcapping = "attn_logit_softcapping";
}  // namespace arch

// "<architecture>.<suffix>", e.g. arch_key("llama", arch::block_count) = "llama.block_count".
inline std::string arch_key(std::string_view architecture, std::string_view suffix) {
    return fmt::format("{}.{}", architecture, suffix);
}

// ---- tensor names ------------------------------------------------------------------------
namespace tensor {
// Whole-model tensors.
inline constexpr std::string_view token_embd = "token_embd.weight";
inline constexpr std::string_view output_norm = "output_norm.weight";
inline constexpr std::string_view output = "output.weight";
inline constexpr std::string_view rope_freqs = "rope_freqs.weight";
inline constexpr std::string_view rope_factors_long = "rope_factors_long.weight";
inline constexpr std::string_view rope_factors_short = "rope_factors_short.weight";
inline constexpr std::string_view output_bias = "output.bias";

// Per-block suffixes: combine with blk_tensor().
inline constexpr std::string_view attn_norm = "attn_norm.weight";
inline constexpr std::string_view attn_q = "attn_q.weight";
inline constexpr std::string_view attn_k = "attn_k.weight";
inline constexpr std::string_view attn_v = "attn_v.weight";
inline constexpr std::string_view attn_qkv = "attn_qkv.weight";
inline constexpr std::string_view attn_q_bias = "attn_q.bias";
inline constexpr std::string_view attn_k_bias = "attn_k.bias";
inline constexpr std::string_view attn_v_bias = "attn_v.bias";
inline constexpr std::string_view attn_output = "attn_output.weight";
inline constexpr std::string_view attn_q_norm = "attn_q_norm.weight";
inline constexpr std::string_view attn_k_norm = "attn_k_norm.weight";
inline constexpr std::string_view attn_post_norm = "post_attention_norm.weight";
inline constexpr std::string_view ffn_norm = "ffn_norm.weight";
inline constexpr std::string_view ffn_gate = "ffn_gate.weight";
inline constexpr std::string_view ffn_up = "ffn_up.weight";
inline constexpr std::string_view ffn_down = "ffn_down.weight";
inline constexpr std::string_view ffn_post_norm = "post_ffw_norm.weight";
}  // namespace tensor

// "blk.<il>.<suffix>", e.g. blk_tensor(3, tensor::attn_q) = "blk.3.attn_q.weight".
inline std::string blk_tensor(int il, std::string_view suffix) {
    return fmt::format("blk.{}.{}", il, suffix);
}

}  // namespace ember::gguf
