// runtime/synthetic.cpp - random-weight GGUF files in real models' shapes (see synthetic.hpp).
#include "runtime/synthetic.hpp"

#include "core/dtype.hpp"
#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/writer.hpp"
#include "ops/parallel.hpp"
#include "quant/traits.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <numbers>
#include <string>
#include <vector>

namespace ember::runtime {

namespace {

// Shapes as published (config.json of each model, and the GGUFs converted from them).
constexpr SyntheticShape k_shapes[] = {
    // Llama-3.2-1B: 16 layers, 2048 wide, 32 query / 8 KV heads of 64, SwiGLU 8192, the
    // Llama-3 vocabulary of 128256, tied embeddings, rope base 500000 with Llama-3 factors.
    {.name = "llama-3.2-1b", .architecture = "llama", .n_layer = 16, .n_embd = 2048,
     .n_head = 32, .n_head_kv = 8, .n_ff = 8192, .n_vocab = 128256, .n_ctx_train = 131072,
     .rope_base = 500000.0f, .norm_eps = 1e-5f, .llama3_rope = true, .tokenizer_pre = "llama-bpe",
     .bos = 128000, .bos_text = "<|begin_of_text|>", .eos = 128001, .eos_text = "<|end_of_text|>",
     .add_bos = true},
    // SmolLM2-135M: 30 layers, 576 wide, 9 / 3 heads of 64, 1536, the 49152-entry
    // starcoder BPE vocabulary with the smollm pre-tokenizer, tied, rope base 100000.
    {.name = "smollm2-135m", .architecture = "llama", .n_layer = 30, .n_embd = 576,
     .n_head = 9, .n_head_kv = 3, .n_ff = 1536, .n_vocab = 49152, .n_ctx_train = 8192,
     .rope_base = 100000.0f, .norm_eps = 1e-5f, .tokenizer_pre = "smollm",
     .bos = 1, .bos_text = "<|im_start|>", .eos = 2, .eos_text = "<|im_end|>", .add_bos = false},
    // Qwen3-0.6B: 28 layers, 1024 wide, 16 query / 8 KV heads of 128 (so queries are 2048
    // wide), per-head QK RMS norms, no biases, SwiGLU 3072, the 151936-entry Qwen vocabulary,
    // tied, rope base 1e6 (neox pairing, implied by the architecture).
    {.name = "qwen3-0.6b", .architecture = "qwen3", .n_layer = 28, .n_embd = 1024,
     .n_head = 16, .n_head_kv = 8, .head_dim = 128, .n_ff = 3072, .n_vocab = 151936,
     .n_ctx_train = 40960, .rope_base = 1000000.0f, .norm_eps = 1e-6f, .qk_norm = true,
     .tokenizer_pre = "qwen2", .bos = 151643, .bos_text = "<|endoftext|>", .eos = 151645,
     .eos_text = "<|im_end|>", .add_bos = false},
    // Gemma-3-270M: 18 layers, 640 wide, 4 query heads / 1 KV head of 256, QK norms and
    // post-attention / post-FFN norms, GELU-gated 2048, a 262144-entry vocabulary, tied;
    // five of every six layers attend to a 512-token window (rope base 10000 there, both
    // loaders' default without a freq_base_swa key), the sixth globally with base 1e6. The
    // real vocabulary is SentencePiece ("llama"); byte-level BPE of the same size benchmarks
    // the same and loads in both ember and llama.cpp.
    {.name = "gemma-3-270m", .architecture = "gemma3", .n_layer = 18, .n_embd = 640,
     .n_head = 4, .n_head_kv = 1, .head_dim = 256, .n_ff = 2048, .n_vocab = 262144,
     .n_ctx_train = 32768, .rope_base = 1000000.0f, .norm_eps = 1e-6f, .qk_norm = true,
     .post_norms = true, .sliding_window = 512, .tokenizer_pre = "default",
     .bos = 2, .bos_text = "<bos>", .eos = 1, .eos_text = "<eos>", .add_bos = true},
};

int64_t head_dim_of(const SyntheticShape &s) { return s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head; }

// ---- random values ----------------------------------------------------------------------
// splitmix64: a counter-based generator, so every row's values depend only on (seed,
// tensor, row) and rows can be filled in parallel in any order with the same result.
uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Uniform values of standard deviation 0.02 (a ~ 0.02 * sqrt(3)), the scale trained
// transformers initialise with: activations stay finite through every layer.
void fill_row(float *dst, int64_t n, uint64_t seed) {
    constexpr float half_width = 0.0346f;
    uint64_t state = mix64(seed);
    for (int64_t i = 0; i < n; ++i) {
        state = mix64(state);
        const float u = static_cast<float>(state >> 40) * (1.0f / 16777216.0f);  // [0, 1)
        dst[i] = (2.0f * u - 1.0f) * half_width;
    }
}

// Llama 3.1+ rope frequency factors (Meta's published recipe, as the GGUF converters
// store them: the divisor applied to each rotary frequency): factor 32 for wavelengths
// beyond the original 8192-token context, 1 below 2048, and a smooth blend between.
std::vector<float> llama3_rope_factors(int head_dim, float base) {
    constexpr double factor = 32.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
    constexpr double original_ctx = 8192.0;
    const double low_freq_wavelen = original_ctx / low_freq_factor;
    const double high_freq_wavelen = original_ctx / high_freq_factor;
    std::vector<float> out;
    for (int i = 0; i < head_dim; i += 2) {
        const double freq = 1.0 / std::pow(double(base), double(i) / head_dim);
        const double wavelen = 2.0 * std::numbers::pi / freq;
        double f = 1.0;
        if (wavelen > low_freq_wavelen) {
            f = factor;
        } else if (wavelen >= high_freq_wavelen) {
            const double smooth = (original_ctx / wavelen - low_freq_factor) /
                                  (high_freq_factor - low_freq_factor);
            f = 1.0 / ((1.0 - smooth) / factor + smooth);
        }
        out.push_back(static_cast<float>(f));
    }
    return out;
}

// GPT-2's byte-to-character map: printable bytes stand for themselves, the other 68 are
// shifted to U+0100.. so every byte-level token is printable text.
std::vector<std::string> byte_level_tokens() {
    auto utf8 = [](uint32_t cp) {
        std::string s;
        if (cp < 0x80) {
            s += char(cp);
        } else {
            s += char(0xC0 | (cp >> 6));
            s += char(0x80 | (cp & 0x3F));
        }
        return s;
    };
    std::vector<std::string> out(256);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        out[b] = utf8(printable ? b : next++);
    }
    return out;
}

// A vocabulary of the real size: the 256 byte tokens (so any text encodes), two control
// tokens for BOS/EOS where the real model has them, and unique filler entries. A single
// merge (GPT-2's first, "Ġ t"), because ember's tokenizer refuses BPE without merges;
// benchmarks feed token ids, never text. Always byte-level BPE ("gpt2"), even where the real
// model uses SentencePiece (Gemma): the tokenizer does not change the speed of a forward pass.
void write_vocabulary(gguf::Writer &w, const SyntheticShape &s) {
    namespace key = gguf::key;
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    tokens.reserve(size_t(s.n_vocab));
    const std::vector<std::string> bytes = byte_level_tokens();
    // Llama 3 and Qwen keep bytes first and specials at the end; SmolLM2 and Gemma put
    // specials first.
    const int32_t first_byte = s.bos < 256 ? 16 : 0;
    for (int64_t id = 0; id < s.n_vocab; ++id) {
        if (id == s.bos) {
            tokens.emplace_back(s.bos_text);
            types.push_back(3);  // control
        } else if (id == s.eos) {
            tokens.emplace_back(s.eos_text);
            types.push_back(3);
        } else if (id >= first_byte && id < first_byte + 256) {
            tokens.push_back(bytes[size_t(id - first_byte)]);
            types.push_back(1);  // normal
        } else if (id == first_byte + 256) {
            tokens.push_back(bytes[' '] + "t");  // what the merge makes
            types.push_back(1);
        } else {
            tokens.push_back(fmt::format("<synthetic_{}>", id));
            types.push_back(1);
        }
    }
    w.set_string(key::tokenizer_model, "gpt2");
    w.set_string(key::tokenizer_pre, s.tokenizer_pre);
    w.set_string_array(key::tokenizer_tokens, std::span<const std::string>(tokens));
    w.set_array<int32_t>(key::tokenizer_token_type, types);
    const std::string merges[] = {bytes[' '] + " t"};
    w.set_string_array(key::tokenizer_merges, std::span<const std::string>(merges));
    w.set_u32(key::tokenizer_bos_id, uint32_t(s.bos));
    w.set_u32(key::tokenizer_eos_id, uint32_t(s.eos));
    w.set_bool(key::tokenizer_add_bos, s.add_bos);
}

struct PlannedTensor {
    quant::TensorDesc desc;
    DType type;
    enum class Fill { random, ones, rope_factors } fill;
};

// The tensors of the shape's decoder, in llama-quantize's order, with their types: the Llama
// block, plus QK norms and post-norms where the shape has them. Shapes as ggml orders them,
// row length first.
std::vector<PlannedTensor> plan(const SyntheticShape &s, int n_layer, quant::FileType ftype,
                                bool pure) {
    namespace t = gguf::tensor;
    const uint64_t head_dim = uint64_t(head_dim_of(s));
    const uint64_t q_dim = head_dim * uint64_t(s.n_head), kv_dim = head_dim * uint64_t(s.n_head_kv);
    const uint64_t e = uint64_t(s.n_embd), ff = uint64_t(s.n_ff);
    std::vector<quant::TensorDesc> descs;
    std::vector<PlannedTensor::Fill> fills;
    auto add = [&](std::string name, std::initializer_list<uint64_t> ne, PlannedTensor::Fill f) {
        quant::TensorDesc d{std::move(name), DType::f32, uint32_t(ne.size()), {1, 1, 1, 1}};
        std::copy(ne.begin(), ne.end(), d.ne.begin());
        descs.push_back(std::move(d));
        fills.push_back(f);
    };
    using F = PlannedTensor::Fill;
    add(std::string(t::token_embd), {e, uint64_t(s.n_vocab)}, F::random);  // tied: also the output
    add(std::string(t::output_norm), {e}, F::ones);
    if (s.llama3_rope) add(std::string(t::rope_freqs), {head_dim / 2}, F::rope_factors);
    for (int il = 0; il < n_layer; ++il) {
        auto blk = [il](std::string_view suffix) { return gguf::blk_tensor(il, suffix); };
        add(blk(t::attn_norm), {e}, F::ones);
        add(blk(t::attn_q), {e, q_dim}, F::random);
        add(blk(t::attn_k), {e, kv_dim}, F::random);
        add(blk(t::attn_v), {e, kv_dim}, F::random);
        if (s.qk_norm) {
            add(blk(t::attn_q_norm), {head_dim}, F::ones);
            add(blk(t::attn_k_norm), {head_dim}, F::ones);
        }
        add(blk(t::attn_output), {q_dim, e}, F::random);
        if (s.post_norms) add(blk(t::attn_post_norm), {e}, F::ones);
        add(blk(t::ffn_norm), {e}, F::ones);
        add(blk(t::ffn_gate), {e, ff}, F::random);
        add(blk(t::ffn_up), {e, ff}, F::random);
        add(blk(t::ffn_down), {ff, e}, F::random);
        if (s.post_norms) add(blk(t::ffn_post_norm), {e}, F::ones);
    }
    std::vector<std::string> names;
    for (const auto &d : descs) names.push_back(d.name);
    const std::vector<size_t> order = quant::quantize_order(names);
    std::vector<quant::TensorDesc> ordered;
    for (size_t i : order) ordered.push_back(descs[i]);
    quant::ModelFacts facts{std::string(s.architecture), n_layer, s.n_head, s.n_head_kv, 0};
    const std::vector<quant::TypeChoice> types = quant::plan_types(ftype, facts, ordered, pure);
    std::vector<PlannedTensor> out;
    for (size_t k = 0; k < order.size(); ++k)
        out.push_back({ordered[k], types[k].type, fills[order[k]]});
    return out;
}

// Streams a [rows, cols] tensor of `type`: rows are generated and quantized in parallel a
// few MB at a time, then handed to the sink in order.
void produce_matrix(const gguf::Writer::Sink &sink, DType type, uint64_t cols, uint64_t rows,
                    uint64_t seed, const std::function<void(uint64_t)> &advance) {
    const uint64_t rb = *row_bytes(type, cols);
    const quant::TypeTraits &tr = quant::traits(type);
    const uint64_t rows_per_chunk = std::max<uint64_t>(1, (8u << 20) / rb);
    std::vector<uint8_t> chunk;
    for (uint64_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
        const uint64_t n = std::min(rows_per_chunk, rows - r0);
        chunk.resize(n * rb);
        ops::parallel_for(tbb::blocked_range<uint64_t>(0, n, 16), [&](const auto &range) {
            std::vector<float> row(cols);
            for (uint64_t r = range.begin(); r < range.end(); ++r) {
                fill_row(row.data(), int64_t(cols), seed ^ mix64(r0 + r));
                tr.from_float(row.data(), chunk.data() + r * rb, int64_t(cols));
            }
        }, tbb::auto_partitioner());
        sink(chunk);
        advance(chunk.size());
    }
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::span<const SyntheticShape> synthetic_shapes() { return k_shapes; }

const SyntheticShape &synthetic_shape(std::string_view name) {
    std::string known;
    for (const auto &s : k_shapes) {
        if (s.name == lower(name)) return s;
        known += known.empty() ? std::string(s.name) : ", " + std::string(s.name);
    }
    fail(Errc::invalid_argument, "unknown synthetic model shape '{}' (known: {})", name, known);
}

void parse_synthetic_type(std::string_view type, SyntheticOptions &options) {
    const auto ftype = quant::parse_file_type(type);
    if (!ftype)
        fail(Errc::invalid_argument, "unknown model type '{}' for a synthetic model "
             "(try q4_0, q8_0 or q4_k_m)", type);
    options.ftype = *ftype;
    const DType main = quant::file_type_info(*ftype).default_type;
    // The legacy 32-element formats are benchmarked "pure" (ANCHORS.md); K-quant names mean
    // llama-quantize's mixes.
    options.pure = !(main == DType::q2_k || main == DType::q3_k || main == DType::q4_k ||
                     main == DType::q5_k || main == DType::q6_k);
}

std::string synthetic_file_name(const SyntheticShape &shape, std::string_view type,
                                const SyntheticOptions &options) {
    std::string name = fmt::format("{}-{}", shape.name, lower(type));
    if (options.n_layer > 0 && options.n_layer != shape.n_layer)
        name += fmt::format("-L{}", options.n_layer);
    if (options.seed != 1) name += fmt::format("-s{}", options.seed);
    return name + ".gguf";
}

void write_synthetic_model(const SyntheticShape &s, const SyntheticOptions &options,
                           const std::string &path) {
    namespace key = gguf::key;
    namespace a = gguf::arch;
    if (options.n_layer < 0 || options.n_layer > 1000)
        fail(Errc::invalid_argument, "synthetic model: n_layer {} out of range", options.n_layer);
    const int n_layer = options.n_layer > 0 ? options.n_layer : s.n_layer;
    const std::string arch(s.architecture);
    const int64_t head_dim = head_dim_of(s);

    gguf::Writer w;
    w.set_string(key::architecture, arch);
    w.set_string(key::name, fmt::format("synthetic {} (random weights)", s.name));
    w.set_u32(gguf::arch_key(arch, a::block_count), uint32_t(n_layer));
    w.set_u32(gguf::arch_key(arch, a::context_length), uint32_t(s.n_ctx_train));
    w.set_u32(gguf::arch_key(arch, a::embedding_length), uint32_t(s.n_embd));
    w.set_u32(gguf::arch_key(arch, a::feed_forward_length), uint32_t(s.n_ff));
    w.set_u32(gguf::arch_key(arch, a::head_count), uint32_t(s.n_head));
    w.set_u32(gguf::arch_key(arch, a::head_count_kv), uint32_t(s.n_head_kv));
    w.set_f32(gguf::arch_key(arch, a::rope_freq_base), s.rope_base);
    w.set_f32(gguf::arch_key(arch, a::layer_norm_rms_epsilon), s.norm_eps);
    // As the converters write them: Llama's files state the rotary width, Qwen 3's and
    // Gemma 3's the head size (which need not be n_embd / n_head); each implies the other.
    if (s.head_dim > 0) {
        w.set_u32(gguf::arch_key(arch, a::key_length), uint32_t(s.head_dim));
        w.set_u32(gguf::arch_key(arch, a::value_length), uint32_t(s.head_dim));
    } else {
        w.set_u32(gguf::arch_key(arch, a::rope_dimension_count), uint32_t(head_dim));
    }
    if (s.sliding_window > 0)
        w.set_u32(gguf::arch_key(arch, a::sliding_window), uint32_t(s.sliding_window));
    w.set_u32(gguf::arch_key(arch, a::vocab_size), uint32_t(s.n_vocab));
    w.set_u32(key::file_type, static_cast<uint32_t>(options.ftype));
    w.set_u32(key::quantization_version, 2);
    write_vocabulary(w, s);

    const std::vector<PlannedTensor> tensors = plan(s, n_layer, options.ftype, options.pure);
    std::vector<std::vector<float>> small;  // keeps 1-D tensors alive until write()
    uint64_t done = 0, total = 0;
    for (const auto &t : tensors)
        if (t.fill == PlannedTensor::Fill::random) total += *row_bytes(t.type, t.desc.ne[0]) * t.desc.ne[1];
    auto advance = [&](uint64_t n) {
        done += n;
        if (options.progress) options.progress(done, total);
    };
    for (size_t k = 0; k < tensors.size(); ++k) {
        const PlannedTensor &t = tensors[k];
        const std::array<uint64_t, 2> ne{t.desc.ne[0], t.desc.ne[1]};
        const std::span<const uint64_t> shape(ne.data(), t.desc.n_dims);
        if (t.fill != PlannedTensor::Fill::random) {
            std::vector<float> v = t.fill == PlannedTensor::Fill::ones
                                       ? std::vector<float>(t.desc.ne[0], 1.0f)
                                       : llama3_rope_factors(int(head_dim), s.rope_base);
            const auto *p = reinterpret_cast<const uint8_t *>(v.data());
            small.push_back(std::move(v));
            w.add_tensor(t.desc.name, DType::f32, shape,
                         std::span<const uint8_t>(p, small.back().size() * sizeof(float)));
            continue;
        }
        const uint64_t seed = mix64(options.seed * 0x100000001b3ull + k);
        w.add_tensor(t.desc.name, t.type, shape,
                     [t, seed, &advance](const gguf::Writer::Sink &sink) {
                         produce_matrix(sink, t.type, t.desc.ne[0], t.desc.ne[1], seed, advance);
                     });
    }
    w.write(path);
}

std::string ensure_synthetic_model(const std::filesystem::path &dir, const SyntheticShape &shape,
                                   std::string_view type, const SyntheticOptions &options) {
    const std::filesystem::path path = dir / synthetic_file_name(shape, type, options);
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path.string();
    std::filesystem::create_directories(dir, ec);
    if (ec) fail(Errc::io, "cannot create directory '{}': {}", dir.string(), ec.message());
    write_synthetic_model(shape, options, path.string());
    return path.string();
}

std::filesystem::path default_synthetic_dir() {
    std::filesystem::path base;
    if (const char *d = std::getenv("EMBER_CACHE_DIR"); d && *d) {
        base = d;
    } else if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x) {
        base = std::filesystem::path(x) / "ember";
    } else if (const char *h = std::getenv("HOME"); h && *h) {
        base = std::filesystem::path(h) / ".cache" / "ember";
    } else {
        base = std::filesystem::temp_directory_path() / "ember";
    }
    return base / "synthetic";
}

}  // namespace ember::runtime
