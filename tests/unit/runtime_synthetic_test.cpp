// Synthetic models: the shapes, types and metadata written are the real models' ones, the
// files are deterministic and readable by ember's reader, and bad requests are errors.
#include "runtime/synthetic.hpp"

#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "models/model.hpp"
#include "quant/traits.hpp"
#include "runtime/session.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace ember;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("ember-synthetic-test-" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::vector<char> slurp(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint64_t> shape_of(const gguf::File &f, std::string_view tensor) {
    const auto &t = f.tensor(tensor);
    return {t.ne.begin(), t.ne.begin() + t.n_dims};
}

// Loads the file the way `ember bench` does and runs a prompt plus a few greedy tokens:
// every logit finite, every token a valid id.
void runs_finite(const std::string &path, int32_t bos) {
    runtime::SessionOptions so;
    so.n_ctx = 64;
    so.n_threads = 2;
    runtime::Session s(models::Model::load(path), so);
    const std::vector<int32_t> prompt{bos, 1000, 2000, 3000};
    std::span<const float> logits = s.decode(prompt);
    for (int step = 0; step < 4; ++step) {
        REQUIRE(logits.size() == size_t(s.n_vocab()));
        CHECK(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
        const auto next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        logits = s.decode(std::span<const int32_t>(&next, 1));
    }
    CHECK(s.n_past() == 8);
}

}  // namespace

TEST_CASE("named shapes are the published ones") {
    const auto &llama = runtime::synthetic_shape("llama-3.2-1b");
    CHECK(llama.n_layer == 16);
    CHECK(llama.n_embd == 2048);
    CHECK(llama.n_head == 32);
    CHECK(llama.n_head_kv == 8);
    CHECK(llama.n_ff == 8192);
    CHECK(llama.n_vocab == 128256);
    const auto &smol = runtime::synthetic_shape("SmolLM2-135M");  // case-insensitive
    CHECK(smol.n_layer == 30);
    CHECK(smol.n_embd == 576);
    CHECK(smol.n_head == 9);
    CHECK(smol.n_head_kv == 3);
    CHECK(smol.n_ff == 1536);
    CHECK(smol.n_vocab == 49152);
    const auto &qwen = runtime::synthetic_shape("qwen3-0.6b");
    CHECK(qwen.architecture == "qwen3");
    CHECK(qwen.n_layer == 28);
    CHECK(qwen.n_embd == 1024);
    CHECK(qwen.n_head == 16);
    CHECK(qwen.n_head_kv == 8);
    CHECK(qwen.head_dim == 128);
    CHECK(qwen.n_ff == 3072);
    CHECK(qwen.n_vocab == 151936);
    const auto &gemma = runtime::synthetic_shape("gemma-3-270m");
    CHECK(gemma.architecture == "gemma3");
    CHECK(gemma.n_layer == 18);
    CHECK(gemma.n_embd == 640);
    CHECK(gemma.n_head == 4);
    CHECK(gemma.n_head_kv == 1);
    CHECK(gemma.head_dim == 256);
    CHECK(gemma.n_ff == 2048);
    CHECK(gemma.n_vocab == 262144);
    CHECK(gemma.sliding_window == 512);
    CHECK_THROWS_AS(runtime::synthetic_shape("gpt-5"), ember::Error);
}

TEST_CASE("type names: legacy formats are pure, K-quant mixes are not, unknown is an error") {
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q8_0", o);
    CHECK(o.ftype == quant::FileType::q8_0);
    CHECK(o.pure);
    runtime::parse_synthetic_type("Q4_K_M", o);
    CHECK(o.ftype == quant::FileType::q4_k_m);
    CHECK_FALSE(o.pure);
    try {
        runtime::parse_synthetic_type("q3_z", o);
        FAIL("no error");
    } catch (const ember::Error &e) {
        CHECK(e.code() == Errc::invalid_argument);
        CHECK(std::string(e.what()).find("q3_z") != std::string::npos);
    }
}

TEST_CASE("a two-layer SmolLM2-shaped Q8_0 file: metadata, tensors, values, determinism") {
    TempDir dir;
    const auto &shape = runtime::synthetic_shape("smollm2-135m");
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q8_0", o);
    o.n_layer = 2;
    uint64_t last_done = 0, last_total = 0;
    o.progress = [&](uint64_t done, uint64_t total) {
        CHECK(done > last_done);
        last_done = done;
        last_total = total;
    };
    const std::string name = runtime::synthetic_file_name(shape, "q8_0", o);
    CHECK(name == "smollm2-135m-q8_0-L2.gguf");
    const fs::path a = dir.path / "a.gguf", b = dir.path / "b.gguf";
    runtime::write_synthetic_model(shape, o, a.string());
    CHECK(last_done == last_total);
    o.progress = nullptr;
    runtime::write_synthetic_model(shape, o, b.string());
    CHECK(slurp(a) == slurp(b));

    const gguf::File f = gguf::File::open(a.string());
    CHECK(f.get<std::string>(gguf::key::architecture) == "llama");
    CHECK(f.get<uint32_t>("llama.block_count") == 2);
    CHECK(f.get<uint32_t>("llama.attention.head_count_kv") == 3);
    CHECK(f.get_string_array(gguf::key::tokenizer_tokens).size() == 49152);
    CHECK(f.get<uint32_t>(gguf::key::tokenizer_bos_id) == 1);
    CHECK(f.tensors().size() == 2 + 2 * 9);  // token_embd, output_norm, 9 per layer
    CHECK(f.find_tensor(gguf::tensor::output) == nullptr);  // tied
    CHECK(f.find_tensor(gguf::tensor::rope_freqs) == nullptr);

    const auto &embd = f.tensor(gguf::tensor::token_embd);
    CHECK(embd.type == DType::q8_0);
    CHECK(embd.ne[0] == 576);
    CHECK(embd.ne[1] == 49152);
    const auto &k = f.tensor("blk.1.attn_k.weight");
    CHECK(k.type == DType::q8_0);
    CHECK(k.ne[1] == 3 * 64);
    CHECK(f.tensor("blk.0.ffn_down.weight").ne[0] == 1536);
    const auto &norm = f.tensor("blk.0.attn_norm.weight");
    CHECK(norm.type == DType::f32);
    CHECK(reinterpret_cast<const float *>(norm.data)[575] == 1.0f);

    // Weights look like a trained model's initialisation: mean ~0, sd ~0.02, bounded.
    std::vector<float> row(576);
    double sum = 0, sum2 = 0, max_abs = 0;
    for (int r = 0; r < 64; ++r) {
        quant::traits(DType::q8_0).to_float(embd.data + r * 612, row.data(), 576);
        for (float v : row) {
            sum += v;
            sum2 += double(v) * v;
            max_abs = std::max(max_abs, double(std::fabs(v)));
        }
    }
    const double n = 64.0 * 576, mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
    CHECK(std::fabs(mean) < 1e-3);
    CHECK(sd == doctest::Approx(0.02).epsilon(0.05));
    CHECK(max_abs < 0.036);
}

TEST_CASE("Q4_K_M is llama-quantize's mix") {
    TempDir dir;
    const auto &shape = runtime::synthetic_shape("smollm2-135m");
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q4_k_m", o);
    o.n_layer = 1;
    const std::string path = runtime::ensure_synthetic_model(dir.path, shape, "q4_k_m", o);
    const auto mtime = fs::last_write_time(path);
    CHECK(runtime::ensure_synthetic_model(dir.path, shape, "q4_k_m", o) == path);  // reused
    CHECK(fs::last_write_time(path) == mtime);

    const gguf::File f = gguf::File::open(path);
    CHECK(f.get<uint32_t>(gguf::key::file_type) == 15);
    // SmolLM2's rows of 576 do not divide into 256-element K blocks: llama-quantize falls
    // back to Q8_0 for the tied output (wanted Q6_K) and Q5_0 for the others (wanted Q4_K).
    CHECK(f.tensor(gguf::tensor::token_embd).type == DType::q8_0);
    CHECK(f.tensor("blk.0.attn_q.weight").type == DType::q5_0);
    CHECK(f.tensor("blk.0.ffn_up.weight").type == DType::q5_0);
    CHECK(f.tensor("blk.0.ffn_down.weight").type == DType::q6_k);   // 1536 columns; first eighth
}

TEST_CASE("Llama-3.2-1B shape: Llama-3 rope factors, real vocabulary size") {
    TempDir dir;
    const auto &shape = runtime::synthetic_shape("llama-3.2-1b");
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q8_0", o);
    o.n_layer = 1;
    const std::string path = runtime::ensure_synthetic_model(dir.path, shape, "q8_0", o);
    const gguf::File f = gguf::File::open(path);
    CHECK(f.get_string_array(gguf::key::tokenizer_tokens).size() == 128256);
    CHECK(f.get<uint32_t>(gguf::key::tokenizer_bos_id) == 128000);
    CHECK(f.tensor(gguf::tensor::token_embd).ne[1] == 128256);
    CHECK(f.tensor("blk.0.attn_k.weight").ne[1] == 8 * 64);
    const auto &rope = f.tensor(gguf::tensor::rope_freqs);
    REQUIRE(rope.ne[0] == 32);
    const auto *factors = reinterpret_cast<const float *>(rope.data);
    CHECK(factors[0] == 1.0f);    // short wavelengths unchanged
    CHECK(factors[31] == 32.0f);  // beyond the original 8192 context: divided by 32
    for (int i = 1; i < 32; ++i) CHECK(factors[i] >= factors[i - 1]);
}

TEST_CASE("Qwen3-0.6B shape: 128-wide heads (queries wider than n_embd), QK norms, tied") {
    TempDir dir;
    const auto &shape = runtime::synthetic_shape("qwen3-0.6b");
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q8_0", o);
    o.n_layer = 2;
    const std::string path = runtime::ensure_synthetic_model(dir.path, shape, "q8_0", o);
    {
        const gguf::File f = gguf::File::open(path);
        CHECK(f.get<std::string>(gguf::key::architecture) == "qwen3");
        CHECK(f.get<uint32_t>("qwen3.block_count") == 2);
        CHECK(f.get<uint32_t>("qwen3.context_length") == 40960);
        CHECK(f.get<uint32_t>("qwen3.embedding_length") == 1024);
        CHECK(f.get<uint32_t>("qwen3.feed_forward_length") == 3072);
        CHECK(f.get<uint32_t>("qwen3.attention.head_count") == 16);
        CHECK(f.get<uint32_t>("qwen3.attention.head_count_kv") == 8);
        CHECK(f.get<uint32_t>("qwen3.attention.key_length") == 128);
        CHECK(f.get<uint32_t>("qwen3.attention.value_length") == 128);
        CHECK(f.get<float>("qwen3.rope.freq_base") == 1000000.0f);
        CHECK(f.get<float>("qwen3.attention.layer_norm_rms_epsilon") == 1e-6f);
        CHECK_FALSE(f.has("qwen3.attention.sliding_window"));
        CHECK(f.get<std::string>(gguf::key::tokenizer_model) == "gpt2");
        CHECK(f.get<std::string>(gguf::key::tokenizer_pre) == "qwen2");
        const auto tokens = f.get_string_array(gguf::key::tokenizer_tokens);
        REQUIRE(tokens.size() == 151936);
        CHECK(f.get<uint32_t>(gguf::key::tokenizer_bos_id) == 151643);
        CHECK(f.get<uint32_t>(gguf::key::tokenizer_eos_id) == 151645);
        CHECK(tokens[151645] == "<|im_end|>");
        CHECK_FALSE(f.get<bool>(gguf::key::tokenizer_add_bos));

        CHECK(f.tensors().size() == 2 + 2 * 11);  // token_embd, output_norm; 11 per layer
        CHECK(f.find_tensor(gguf::tensor::output) == nullptr);  // tied
        CHECK(f.find_tensor(gguf::tensor::rope_freqs) == nullptr);
        CHECK(f.find_tensor("blk.0.attn_q.bias") == nullptr);
        CHECK(f.find_tensor("blk.0.post_attention_norm.weight") == nullptr);
        CHECK(shape_of(f, gguf::tensor::token_embd) == std::vector<uint64_t>{1024, 151936});
        CHECK(shape_of(f, "blk.1.attn_q.weight") == std::vector<uint64_t>{1024, 2048});
        CHECK(shape_of(f, "blk.1.attn_k.weight") == std::vector<uint64_t>{1024, 1024});
        CHECK(shape_of(f, "blk.1.attn_v.weight") == std::vector<uint64_t>{1024, 1024});
        CHECK(shape_of(f, "blk.1.attn_output.weight") == std::vector<uint64_t>{2048, 1024});
        CHECK(shape_of(f, "blk.1.ffn_down.weight") == std::vector<uint64_t>{3072, 1024});
        for (const char *norm : {"blk.1.attn_q_norm.weight", "blk.1.attn_k_norm.weight"}) {
            const auto &t = f.tensor(norm);
            CHECK(t.type == DType::f32);
            CHECK(shape_of(f, norm) == std::vector<uint64_t>{128});
            CHECK(reinterpret_cast<const float *>(t.data)[127] == 1.0f);
        }
        CHECK(f.tensor("blk.0.attn_q.weight").type == DType::q8_0);
    }
    const auto model = models::Model::load(path);
    CHECK(model->hparams().architecture == "qwen3");
    CHECK(model->hparams().head_dim_k == 128);
    runs_finite(path, shape.bos);
}

TEST_CASE("Gemma-3-270M shape: one KV head of 256, post-norms, sliding window, Q4_K_M fallbacks") {
    TempDir dir;
    const auto &shape = runtime::synthetic_shape("gemma-3-270m");
    runtime::SyntheticOptions o;
    runtime::parse_synthetic_type("q4_k_m", o);
    o.n_layer = 2;
    const std::string path = runtime::ensure_synthetic_model(dir.path, shape, "q4_k_m", o);
    {
        const gguf::File f = gguf::File::open(path);
        CHECK(f.get<std::string>(gguf::key::architecture) == "gemma3");
        CHECK(f.get<uint32_t>("gemma3.block_count") == 2);
        CHECK(f.get<uint32_t>("gemma3.context_length") == 32768);
        CHECK(f.get<uint32_t>("gemma3.embedding_length") == 640);
        CHECK(f.get<uint32_t>("gemma3.feed_forward_length") == 2048);
        CHECK(f.get<uint32_t>("gemma3.attention.head_count") == 4);
        CHECK(f.get<uint32_t>("gemma3.attention.head_count_kv") == 1);
        CHECK(f.get<uint32_t>("gemma3.attention.key_length") == 256);
        CHECK(f.get<uint32_t>("gemma3.attention.value_length") == 256);
        CHECK(f.get<uint32_t>("gemma3.attention.sliding_window") == 512);
        CHECK(f.get<float>("gemma3.rope.freq_base") == 1000000.0f);
        CHECK(f.get<float>("gemma3.attention.layer_norm_rms_epsilon") == 1e-6f);
        const auto tokens = f.get_string_array(gguf::key::tokenizer_tokens);
        REQUIRE(tokens.size() == 262144);
        CHECK(f.get<uint32_t>(gguf::key::tokenizer_bos_id) == 2);
        CHECK(f.get<uint32_t>(gguf::key::tokenizer_eos_id) == 1);
        CHECK(tokens[2] == "<bos>");
        CHECK(f.get<bool>(gguf::key::tokenizer_add_bos));

        CHECK(f.tensors().size() == 2 + 2 * 13);  // token_embd, output_norm; 13 per layer
        CHECK(f.find_tensor(gguf::tensor::output) == nullptr);  // tied
        CHECK(shape_of(f, gguf::tensor::token_embd) == std::vector<uint64_t>{640, 262144});
        CHECK(shape_of(f, "blk.1.attn_q.weight") == std::vector<uint64_t>{640, 1024});
        CHECK(shape_of(f, "blk.1.attn_k.weight") == std::vector<uint64_t>{640, 256});
        CHECK(shape_of(f, "blk.1.attn_output.weight") == std::vector<uint64_t>{1024, 640});
        CHECK(shape_of(f, "blk.1.attn_q_norm.weight") == std::vector<uint64_t>{256});
        CHECK(shape_of(f, "blk.1.attn_k_norm.weight") == std::vector<uint64_t>{256});
        CHECK(shape_of(f, "blk.1.post_attention_norm.weight") == std::vector<uint64_t>{640});
        CHECK(shape_of(f, "blk.1.post_ffw_norm.weight") == std::vector<uint64_t>{640});
        CHECK(f.tensor("blk.1.post_ffw_norm.weight").type == DType::f32);

        // llama-quantize's Q4_K_M on 640-wide rows, which 256-element K blocks do not divide:
        // the tied output wants Q6_K and gets Q8_0, most matrices want Q4_K and get Q5_0,
        // attn_v wants Q6_K in the last layer (of 2) and gets Q8_0; the 1024- and 2048-wide
        // rows keep K-quants, ffn_down Q6_K in the last layer.
        CHECK(f.get<uint32_t>(gguf::key::file_type) == 15);
        CHECK(f.tensor(gguf::tensor::token_embd).type == DType::q8_0);
        CHECK(f.tensor("blk.0.attn_q.weight").type == DType::q5_0);
        CHECK(f.tensor("blk.0.ffn_up.weight").type == DType::q5_0);
        CHECK(f.tensor("blk.0.attn_v.weight").type == DType::q5_0);
        CHECK(f.tensor("blk.1.attn_v.weight").type == DType::q8_0);
        CHECK(f.tensor("blk.0.attn_output.weight").type == DType::q4_k);
        CHECK(f.tensor("blk.0.ffn_down.weight").type == DType::q4_k);
        CHECK(f.tensor("blk.1.ffn_down.weight").type == DType::q6_k);
    }
    const auto model = models::Model::load(path);
    CHECK(model->hparams().architecture == "gemma3");
    CHECK(model->hparams().head_dim_k == 256);
    runs_finite(path, shape.bos);
}
