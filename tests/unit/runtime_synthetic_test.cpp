// Synthetic models: the shapes, types and metadata written are the real models' ones, the
// files are deterministic and readable by ember's reader, and bad requests are errors.
#include "runtime/synthetic.hpp"

#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "quant/traits.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

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
