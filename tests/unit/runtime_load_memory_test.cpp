// runtime_load_memory_test.cpp - loading keeps one copy of the weights resident: the
// original bytes of repacked weights are given back (gguf::File::release), and what is
// still read in the original layout (token_embd, for embeddings) reads the same bytes.
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "runtime/session.hpp"
#include "runtime/synthetic.hpp"
#include "runtime_reference.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace ember;

namespace {

// Resident bytes of this process now (/proc/self/statm, field 2, in pages).
uint64_t rss_bytes() {
    std::ifstream in("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    in >> size >> resident;
    REQUIRE(in.good());
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("ember-load-memory-test-" + std::to_string(::getpid()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

runtime::Session make_session(std::shared_ptr<const models::Model> m, int64_t n_ctx = 0) {
    runtime::SessionOptions o;
    o.kv_type = ops::KvType::f32;
    o.flash_attn = true;
    o.n_threads = 1;
    o.n_ctx = n_ctx;
    return runtime::Session(std::move(m), o);
}

std::vector<float> logits_after(runtime::Session &s, const std::vector<int32_t> &tokens) {
    const auto l = s.decode(tokens);
    return {l.begin(), l.end()};
}

}  // namespace

TEST_CASE("read mode: resident memory after load is about the file, and outputs match mmap") {
    // SmolLM2-135M's real shapes (tied embeddings: token_embd is both the embedding table and
    // the output head's matmul weight), 10 of its 30 layers to keep the file small (~35 MB).
    TempDir dir;
    runtime::SyntheticOptions opt;
    opt.n_layer = 10;
    const std::string path = (dir.path / "smol.gguf").string();
    runtime::write_synthetic_model(runtime::synthetic_shape("smollm2-135m"), opt, path);
    const uint64_t file_bytes = fs::file_size(path);

    const uint64_t before = rss_bytes();
    models::LoadOptions lo;
    lo.mode = gguf::LoadMode::read;
    auto model = models::Model::load(path, lo);
    const uint64_t after = rss_bytes();
    const double mib = 1.0 / (1 << 20);
    MESSAGE("file " << file_bytes * mib << " MiB, RSS grew " << (after - before) * mib << " MiB on load");
    // Without releasing, the repacked copies come on top of the file read into memory (~2x).
    CHECK(after - before <= file_bytes + file_bytes / 10 + (uint64_t{4} << 20));

    // The repacked matrices' bytes were released; token_embd's stay readable (remapped
    // from the file), so every load mode gives bit-identical logits.
    const gguf::File &f = model->file();
    const gguf::TensorInfo &wq = f.tensor(gguf::blk_tensor(0, gguf::tensor::attn_q));
    CHECK(f.released(static_cast<uint64_t>(wq.data - f.bytes().data())));

    const std::vector<int32_t> prompt = {1, 42, 4000, 17, 49151, 300, 7};
    auto s_read = make_session(model, 64);
    const auto want = logits_after(s_read, prompt);
    for (const auto mode : {gguf::LoadMode::mmap, gguf::LoadMode::mmap_locked}) {
        CAPTURE(static_cast<int>(mode));
        models::LoadOptions o;
        o.mode = mode;
        auto s = make_session(models::Model::load(path, o), 64);
        CHECK(logits_after(s, prompt) == want);
    }
}

TEST_CASE("stories260K: greedy from BOS equals llama.cpp in read and mmap modes") {
    for (const char *name : {"stories260K", "stories260K-Q4_0", "stories260K-Q8_0"}) {
        const auto ref = test::load_reference(std::string("reference/") + name + ".f32kv.json");
        for (const auto mode : {gguf::LoadMode::read, gguf::LoadMode::mmap}) {
            CAPTURE(std::string(name));
            CAPTURE(static_cast<int>(mode));
            models::LoadOptions o;
            o.mode = mode;
            auto s = make_session(models::Model::load(test::data_path(std::string("models/") + name + ".gguf"), o));
            std::vector<double> gaps;
            const auto g = test::greedy(s, 1, ref.greedy.size(), &gaps);
            // F32 is exact; quantized files agree up to the first near-tie (runtime_llama_test).
            if (std::string(name) == "stories260K") CHECK(g == ref.greedy);
            else test::check_greedy_prefix(g, ref.greedy, gaps, 0.3);
        }
    }
}
