// The GGUF reader on real files: every GGUF under tests/data parses, with spot-checked values.
#include "test_data.hpp"

#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace ember;
using namespace ember::gguf;

namespace {

struct Expect {
    const char *file;
    uint32_t version;
    const char *arch;
    const char *tokenizer;
    uint64_t n_vocab;
    uint32_t block_count;
    uint32_t n_embd;
    size_t n_tensors;
    const char *tensor;  // a tensor to spot-check (nullptr: vocab-only file)
    DType type;
    std::array<uint64_t, 4> ne;
};

const Expect expected[] = {
    {"models/stories260K.gguf", 3, "llama", "llama", 512, 5, 64, 48, "token_embd.weight", DType::f32, {64, 512, 1, 1}},
    {"models/stories260K-Q4_0-pure.gguf", 3, "llama", "llama", 512, 5, 64, 48, "output.weight", DType::q4_0, {64, 512, 1, 1}},
    {"models/stories260K-Q4_0.gguf", 3, "llama", "llama", 512, 5, 64, 48, "output.weight", DType::q8_0, {64, 512, 1, 1}},
    {"models/stories260K-Q4_1.gguf", 3, "llama", "llama", 512, 5, 64, 48, "output.weight", DType::q8_0, {64, 512, 1, 1}},
    {"models/stories260K-Q8_0.gguf", 3, "llama", "llama", 512, 5, 64, 48, "output_norm.weight", DType::f32, {64, 1, 1, 1}},
    {"models/llama-2-tiny-random.gguf", 3, "llama", "llama", 32000, 1, 8, 12, "token_embd.weight", DType::f16, {8, 32000, 1, 1}},
    {"tiny-archs/tiny-llama.gguf", 3, "llama", "llama", 512, 2, 256, 21, "token_embd.weight", DType::f32, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-BF16.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::bf16, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-F16.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::f16, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q4_0.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q4_0, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q4_1.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q4_1, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q4_K.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q4_k, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q4_K_M.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q6_k, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q5_0.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q5_0, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q5_1.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q5_1, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q5_K.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q5_k, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q6_K.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q6_k, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama-Q8_0.gguf", 3, "llama", "llama", 512, 2, 256, 21, "output.weight", DType::q8_0, {256, 512, 1, 1}},
    {"tiny-archs/tiny-llama3-rope.gguf", 3, "llama", "llama", 512, 2, 256, 22, "rope_freqs.weight", DType::f32, {32, 1, 1, 1}},
    {"tiny-archs/tiny-gemma3.gguf", 3, "gemma3", "llama", 512, 6, 128, 80, "blk.0.attn_k.weight", DType::f32, {128, 64, 1, 1}},
    {"tiny-archs/tiny-phi3.gguf", 3, "phi3", "llama", 512, 2, 256, 15, "token_embd.weight", DType::f32, {256, 512, 1, 1}},
    {"tiny-archs/tiny-qwen2.gguf", 3, "qwen2", "llama", 512, 2, 256, 26, "token_embd.weight", DType::f32, {256, 512, 1, 1}},
    {"tiny-archs/tiny-qwen3.gguf", 3, "qwen3", "llama", 512, 2, 256, 24, "token_embd.weight", DType::f32, {256, 512, 1, 1}},
    {"vocab/ggml-vocab-aquila.gguf", 2, "llama", "gpt2", 100008, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-baichuan.gguf", 3, "baichuan", "llama", 64000, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-bert-bge.gguf", 3, "bert", "bert", 30522, 12, 384, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-deepseek-coder.gguf", 3, "llama", "gpt2", 32256, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-gemma-4.gguf", 3, "gemma4", "gemma4", 262144, 30, 2816, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-gpt-2.gguf", 3, "gpt2", "gpt2", 50257, 12, 768, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-gpt-neox.gguf", 3, "gptneox", "gpt2", 50432, 44, 6144, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-llama-bpe.gguf", 3, "llama", "gpt2", 128256, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-llama-spm.gguf", 3, "llama", "llama", 32000, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-mpt.gguf", 3, "mpt", "gpt2", 50432, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-nomic-bert-moe.gguf", 3, "nomic-bert-moe", "t5", 250048, 12, 768, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-phi-3.gguf", 3, "phi3", "llama", 32064, 32, 3072, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-qwen2.gguf", 3, "qwen2", "gpt2", 151936, 32, 4096, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-refact.gguf", 3, "refact", "gpt2", 49216, 32, 2048, 0, nullptr, DType::f32, {}},
    {"vocab/ggml-vocab-starcoder.gguf", 3, "starcoder2", "gpt2", 49152, 30, 3072, 0, nullptr, DType::f32, {}},
};

// Structural facts every valid file satisfies, checked independently of the reader's code.
void check_invariants(const File &f) {
    CHECK(f.data_offset() % f.alignment() == 0);
    const uint64_t size = f.bytes().size();
    for (const TensorInfo &t : f.tensors()) {
        CAPTURE(t.name);
        CHECK(t.offset % f.alignment() == 0);
        CHECK(t.data == f.bytes().data() + f.data_offset() + t.offset);
        CHECK(f.data_offset() + t.offset + t.n_bytes <= size);
        const DTypeInfo info = dtype_info(t.type);
        CHECK(t.n_bytes == t.n_elements() / info.block_elems * info.block_bytes);
        CHECK(f.find_tensor(t.name) == &t);
    }
    for (const KeyValue &kv : f.metadata()) CHECK(f.find(kv.key) == &kv.value);
}

}  // namespace

TEST_CASE("every GGUF under tests/data parses with the expected metadata and tensors") {
    for (const Expect &e : expected) {
        CAPTURE(e.file);
        const File f = File::open(test::data_path(e.file));
        CHECK(f.version() == e.version);
        CHECK(f.alignment() == 32);
        const std::string arch = f.get<std::string>(key::architecture);
        CHECK(arch == e.arch);
        CHECK(f.get<std::string_view>(key::tokenizer_model) == e.tokenizer);
        CHECK(f.get_string_array(key::tokenizer_tokens).size() == e.n_vocab);
        CHECK(f.get<uint32_t>(arch_key(arch, arch::block_count)) == e.block_count);
        CHECK(f.get<uint32_t>(arch_key(arch, arch::embedding_length)) == e.n_embd);
        CHECK(f.tensors().size() == e.n_tensors);
        if (e.tensor) {
            const TensorInfo &t = f.tensor(e.tensor);
            CHECK(t.type == e.type);
            CHECK(t.ne == e.ne);
        }
        check_invariants(f);
    }
}

TEST_CASE("no GGUF under tests/data is left out of the table above") {
    size_t seen = 0;
    for (const char *dir : {"models", "tiny-archs", "vocab"}) {
        for (const auto &entry : std::filesystem::directory_iterator(test::data_path(dir))) {
            if (entry.path().extension() != ".gguf") continue;
            const std::string rel = std::string(dir) + "/" + entry.path().filename().string();
            CAPTURE(rel);
            CHECK(std::any_of(std::begin(expected), std::end(expected), [&](const Expect &e) { return rel == e.file; }));
            ++seen;
        }
    }
    CHECK(seen == std::size(expected));
}

TEST_CASE("stories260K: hyper-parameters, vocabulary and tensor layout") {
    const File f = File::open(test::data_path("models/stories260K.gguf"));
    CHECK(f.get<uint32_t>(arch_key("llama", arch::context_length)) == 2048);
    CHECK(f.get<uint32_t>(arch_key("llama", arch::feed_forward_length)) == 172);
    CHECK(f.get<uint32_t>(arch_key("llama", arch::head_count)) == 8);
    CHECK(f.get<uint32_t>(arch_key("llama", arch::head_count_kv)) == 4);
    CHECK(f.get<uint32_t>(arch_key("llama", arch::rope_dimension_count)) == 8);
    CHECK(f.get<float>(arch_key("llama", arch::layer_norm_rms_epsilon)) == doctest::Approx(1e-5));
    CHECK(f.get<uint32_t>(key::tokenizer_bos_id) == 1);
    CHECK(f.get<uint32_t>(key::tokenizer_eos_id) == 2);
    CHECK(f.get<uint32_t>(key::tokenizer_pad_id) == 0xFFFFFFFFu);
    const auto tokens = f.get_string_array(key::tokenizer_tokens);
    CHECK(tokens[0] == "<unk>");
    CHECK(tokens[3] == "<0x00>");
    CHECK(f.get_array<float>(key::tokenizer_scores).size() == 512);
    CHECK(f.get_array<int32_t>(key::tokenizer_token_type)[1] == 3);
    CHECK(f.data_offset() == 14176);
    for (int il = 0; il < 5; ++il) {
        CHECK(f.tensor(blk_tensor(il, tensor::attn_k)).ne == std::array<uint64_t, 4>{64, 32, 1, 1});
        CHECK(f.tensor(blk_tensor(il, tensor::ffn_down)).ne == std::array<uint64_t, 4>{172, 64, 1, 1});
    }
    // Every tensor is f32 and the data section is exactly the tensors, padded.
    uint64_t params = 0;
    for (const TensorInfo &t : f.tensors()) params += t.n_elements();
    CHECK(params == 292800);
    // A weight is a real float: RMS-norm weights of a trained model are positive and O(1).
    const TensorInfo &norm = f.tensor(tensor::output_norm);
    float w0;
    std::memcpy(&w0, norm.data, 4);
    CHECK(w0 > 0.01f);
    CHECK(w0 < 100.0f);
}

TEST_CASE("BPE vocabularies carry merges and special ids") {
    const File bpe = File::open(test::data_path("vocab/ggml-vocab-llama-bpe.gguf"));
    CHECK(bpe.get<std::string_view>(key::tokenizer_pre) == "llama-bpe");
    const auto merges = bpe.get_string_array(key::tokenizer_merges);
    CHECK(merges.size() == 280147);
    CHECK(merges[0] == "\xc4\xa0 \xc4\xa0");  // "Ġ Ġ"
    CHECK(bpe.get<uint32_t>(key::tokenizer_bos_id) == 128000);
    CHECK(bpe.get<uint32_t>(key::tokenizer_eos_id) == 128001);
    const File gpt2 = File::open(test::data_path("vocab/ggml-vocab-gpt-2.gguf"));
    CHECK(gpt2.get_string_array(key::tokenizer_merges).size() == 50000);
    CHECK(gpt2.get_string_array(key::tokenizer_tokens)[0] == "!");
}

TEST_CASE("all load modes see the same bytes; a missing file is an io error naming it") {
    const std::string path = test::data_path("tiny-archs/tiny-llama-Q4_0.gguf");
    const File a = File::open(path, {LoadMode::mmap});
    const File b = File::open(path, {LoadMode::read});
    const File c = File::open(path, {LoadMode::mmap_locked});
    REQUIRE(a.bytes().size() == b.bytes().size());
    CHECK(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin()));
    CHECK(std::equal(a.bytes().begin(), a.bytes().end(), c.bytes().begin()));
    CHECK(a.path() == path);
    try {
        (void)File::open("/nonexistent/model.gguf");
        FAIL("expected an error");
    } catch (const Error &e) {
        CHECK(e.code() == Errc::io);
        CHECK(std::string(e.what()).find("/nonexistent/model.gguf") != std::string::npos);
    }
    CHECK_THROWS_AS((void)File::open(test::data_path("models")), Error);  // a directory

    const std::string empty = (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-empty.gguf")).string();
    { std::ofstream touch(empty); }
    for (LoadMode mode : {LoadMode::mmap, LoadMode::read}) {
        try {
            (void)File::open(empty, {mode});
            FAIL("expected an error");
        } catch (const Error &e) {
            CHECK(e.code() == Errc::invalid_file);
            CHECK(std::string(e.what()) == empty + ": magic at offset 0: file is 0 bytes, too short to be GGUF");
        }
    }
    std::filesystem::remove(empty);
}

TEST_CASE("a moved File keeps its views valid") {
    File f = File::open(test::data_path("models/stories260K.gguf"));
    const std::string_view first = f.get_string_array(key::tokenizer_tokens)[1];
    File g = std::move(f);
    CHECK(first == "<s>");
    CHECK(g.get_string_array(key::tokenizer_tokens)[1].data() == first.data());
}

namespace {
// Pages of [p, p+n) in the page cache, by mincore().
size_t resident_pages(const uint8_t *p, size_t n) {
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const auto start = reinterpret_cast<uintptr_t>(p) / page * page;
    const size_t len = reinterpret_cast<uintptr_t>(p) + n - start;
    std::vector<unsigned char> vec((len + page - 1) / page);
    REQUIRE(::mincore(reinterpret_cast<void *>(start), len, vec.data()) == 0);
    return static_cast<size_t>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; }));
}
}  // namespace

TEST_CASE("opening is O(metadata): a mapped file's tensor pages stay unread") {
    const std::string path = (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-lazy.gguf")).string();
    const uint64_t n = 64ull << 20;  // one 64 MiB tensor, streamed by a producer
    Writer w;
    w.set_string(key::architecture, "llama");
    w.add_tensor("big", DType::f32, {n / 4}, [&](const Writer::Sink &sink) {
        std::vector<uint8_t> chunk(1 << 20, 0x5a);
        for (uint64_t done = 0; done < n; done += chunk.size()) sink(chunk);
    });
    w.write(path);
    // Push the file out of the page cache (written back first, so the pages are clean).
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);

    const File f = File::open(path);
    const TensorInfo &t = f.tensor("big");
    // Look at the second half only: readahead around the header (up to a few MiB, set by the
    // device's read_ahead_kb) may legitimately pull in the start of the data.
    const uint8_t *half = t.data + n / 2;
    const size_t total = n / 2 / 4096;
    const size_t before = resident_pages(half, n / 2);
    if (before > total / 2) {
        // tmpfs and some overlay filesystems cannot evict; then there is nothing to measure.
        WARN_MESSAGE(false, "page cache could not be dropped here (" << before << "/" << total << " resident)");
    } else {
        CHECK(before < total / 8);
        CHECK(half[n / 4] == 0x5a);  // touching the data is what faults it in
        CHECK(resident_pages(half, n / 2) > before);
    }
    std::filesystem::remove(path);
}
