// The GGUF writer: what it writes reads back identically, through memory and through a file.
#include "gguf_sample.hpp"
#include "test_data.hpp"

#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace ember;
using namespace ember::gguf;

namespace {

std::string temp_path(const std::string &name) {
    return (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name)).string();
}

bool same_value(const Value &a, const Value &b) {
    if (a.type() != b.type()) return false;
    if (a.type() != ValueType::array) {
        if (a.type() == ValueType::string) return a.as<std::string_view>() == b.as<std::string_view>();
        return std::memcmp(&a.scalar_, &b.scalar_, sizeof(a.scalar_)) == 0;
    }
    if (a.element_type() != b.element_type() || a.size() != b.size()) return false;
    if (a.strings().size() != b.strings().size() || a.array_bytes_ != b.array_bytes_) return false;
    for (size_t i = 0; i < a.strings().size(); ++i)
        if (a.strings()[i] != b.strings()[i]) return false;
    if (a.items().size() != b.items().size()) return false;
    for (size_t i = 0; i < a.items().size(); ++i)
        if (!same_value(a.items()[i], b.items()[i])) return false;
    return true;
}

void check_same_file(const File &a, const File &b) {
    REQUIRE(a.metadata().size() == b.metadata().size());
    for (size_t i = 0; i < a.metadata().size(); ++i) {
        CAPTURE(a.metadata()[i].key);
        CHECK(a.metadata()[i].key == b.metadata()[i].key);
        CHECK(same_value(a.metadata()[i].value, b.metadata()[i].value));
    }
    REQUIRE(a.tensors().size() == b.tensors().size());
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const TensorInfo &x = a.tensors()[i], &y = b.tensors()[i];
        CAPTURE(x.name);
        CHECK(x.name == y.name);
        CHECK(x.type == y.type);
        CHECK(x.n_dims == y.n_dims);
        CHECK(x.ne == y.ne);
        REQUIRE(x.n_bytes == y.n_bytes);
        CHECK(std::memcmp(x.data, y.data, x.n_bytes) == 0);
    }
}

}  // namespace

TEST_CASE("sample file: every metadata type reads back with its value") {
    const Writer w = test::sample_writer();
    const std::vector<uint8_t> bytes = w.to_bytes();
    CHECK(bytes.size() == w.file_size());
    const File f = File::parse(bytes, "sample");
    CHECK(f.version() == 3);
    CHECK(f.alignment() == 32);
    CHECK(f.data_offset() % 32 == 0);
    CHECK(f.get<std::string>(key::architecture) == "llama");
    CHECK(f.get<uint32_t>(arch_key("llama", arch::block_count)) == 2);
    CHECK(f.get<float>(arch_key("llama", arch::layer_norm_rms_epsilon)) == doctest::Approx(1e-5));
    CHECK(f.get<uint8_t>("test.u8") == 200);
    CHECK(f.get<int8_t>("test.i8") == -100);
    CHECK(f.get<uint16_t>("test.u16") == 60000);
    CHECK(f.get<int16_t>("test.i16") == -30000);
    CHECK(f.get<int32_t>("test.i32") == -2000000000);
    CHECK(f.get<uint64_t>("test.u64") == (1ull << 40));
    CHECK(f.get<int64_t>("test.i64") == -(1ll << 40));
    CHECK(f.get<double>("test.f64") == 3.25);
    CHECK(f.get<bool>("test.bool") == true);
    CHECK(f.get<std::string_view>("test.unicode") == "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x94\xa5");
    // Integers widen and narrow when the value fits.
    CHECK(f.get<uint64_t>("test.u8") == 200);
    CHECK(f.get<int32_t>("test.u16") == 60000);
    CHECK(f.get<double>("test.f64") == 3.25);

    const auto tokens = f.get_string_array(key::tokenizer_tokens);
    REQUIRE(tokens.size() == 6);
    CHECK(tokens[0] == "<unk>");
    CHECK(tokens[5] == "tok5");
    const auto scores = f.get_array<float>(key::tokenizer_scores);
    REQUIRE(scores.size() == 6);
    CHECK(scores[3] == -3.0f);
    CHECK(f.get_array<int32_t>(key::tokenizer_token_type)[0] == 2);
    const auto bools = f.get_array<uint8_t>("test.bools");
    REQUIRE(bools.size() == 3);
    CHECK((bools[0] == 1 && bools[1] == 0 && bools[2] == 1));
    CHECK(f.get_array<double>("test.f64s")[1] == -1.5);
    CHECK(f.get_array<uint64_t>("test.u64s")[1] == (1ull << 63));

    const Value *nested = f.find("test.nested");
    REQUIRE(nested != nullptr);
    CHECK(nested->element_type() == ValueType::array);
    REQUIRE(nested->items().size() == 2);
    REQUIRE(nested->items()[0].array<uint16_t>().size() == 2);
    CHECK(nested->items()[0].array<uint16_t>()[1] == 2);
    CHECK(nested->items()[1].array<uint16_t>()[0] == 3);

    const TensorInfo &q = f.tensor(blk_tensor(0, tensor::attn_q));
    CHECK(q.type == DType::q4_0);
    CHECK(q.n_dims == 2);
    CHECK(q.ne == std::array<uint64_t, 4>{64, 2, 1, 1});
    CHECK(q.n_bytes == 72);
    CHECK(f.tensor("test.i32_3d").n_elements() == 8);
    for (const TensorInfo &t : f.tensors()) CHECK((t.data - f.bytes().data()) % 32 == 0);
    const auto expect = test::pattern_bytes(2 * 2 * 18, 2);
    CHECK(std::memcmp(q.data, expect.data(), expect.size()) == 0);
}

TEST_CASE("typed lookups name the key, the expected type and the actual one") {
    const std::vector<uint8_t> bytes = test::sample_writer().to_bytes();
    const File f = File::parse(bytes, "sample");
    auto message = [](auto &&fn) {
        try {
            fn();
        } catch (const Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message([&] { (void)f.get<uint32_t>("general.missing"); }) ==
          "sample: metadata key 'general.missing' (u32) is missing");
    const std::string wrong = message([&] { (void)f.get<uint32_t>(key::architecture); });
    CHECK(wrong.find("'general.architecture'") != std::string::npos);
    CHECK(wrong.find("expected u32, found string") != std::string::npos);
    CHECK(message([&] { (void)f.get<uint8_t>("test.u16"); }).find("expected u8, found u16 (60000), out of range") !=
          std::string::npos);
    CHECK(message([&] { (void)f.get<uint32_t>("test.i8"); }).find("found i8 (-100)") != std::string::npos);
    CHECK(message([&] { (void)f.get_array<int32_t>(key::tokenizer_scores); })
              .find("expected array of i32, found array of f32") != std::string::npos);
    CHECK(message([&] { (void)f.get_string_array(key::tokenizer_scores); })
              .find("expected array of string, found array of f32") != std::string::npos);
    CHECK(message([&] { (void)f.tensor("nope.weight"); }) == "sample: tensor 'nope.weight' is missing");
    CHECK_FALSE(f.get_optional<uint32_t>("general.missing").has_value());
    CHECK(f.get_optional<uint32_t>(arch_key("llama", arch::block_count)) == 2u);
    CHECK_THROWS_AS((void)f.get_optional<float>(key::architecture), Error);
}

TEST_CASE("writer -> file -> reader round trip, every load mode, alignments 32 and 64, v2") {
    for (uint32_t alignment : {32u, 64u, 1u}) {
        for (uint32_t version : {3u, 2u}) {
            CAPTURE(alignment);
            CAPTURE(version);
            Writer w = test::sample_writer(alignment);
            w.set_version(version);
            const std::vector<uint8_t> bytes = w.to_bytes();
            const std::string path = temp_path("roundtrip.gguf");
            w.write(path);
            CHECK(std::filesystem::file_size(path) == bytes.size());
            const File mem = File::parse(bytes, "memory");
            CHECK(mem.version() == version);
            CHECK(mem.alignment() == alignment);
            for (LoadMode mode : {LoadMode::mmap, LoadMode::mmap_locked, LoadMode::read}) {
                const File disk = File::open(path, {mode});
                check_same_file(mem, disk);
                CHECK(std::equal(disk.bytes().begin(), disk.bytes().end(), bytes.begin(), bytes.end()));
            }
            std::filesystem::remove(path);
        }
    }
}

TEST_CASE("a file's metadata and tensors copy through set_value into an identical file") {
    const std::string path = test::data_path("tiny-archs/tiny-gemma3.gguf");
    const File src = File::open(path);
    Writer w(static_cast<uint32_t>(src.alignment()));
    for (const KeyValue &kv : src.metadata()) w.set_value(kv.key, kv.value);
    for (const TensorInfo &t : src.tensors())
        w.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims), {t.data, t.n_bytes});
    const std::vector<uint8_t> bytes = w.to_bytes();
    const File copy = File::parse(bytes, "copy");
    check_same_file(src, copy);
}

TEST_CASE("producer tensors stream without holding the data, and must emit exact sizes") {
    Writer w;
    const uint64_t n = 3 * 1024 * 1024;  // 3 MiB, produced in 64 KiB chunks
    uint64_t calls = 0;
    w.add_tensor("big", DType::f32, {n / 4}, [&](const Writer::Sink &sink) {
        std::vector<uint8_t> chunk(64 * 1024);
        for (uint64_t done = 0; done < n; done += chunk.size()) {
            std::fill(chunk.begin(), chunk.end(), static_cast<uint8_t>(done / chunk.size()));
            sink(chunk);
            ++calls;
        }
    });
    const std::vector<uint8_t> bytes = w.to_bytes();
    CHECK(calls == 48);
    const File f = File::parse(bytes);
    const TensorInfo &t = f.tensor("big");
    REQUIRE(t.n_bytes == n);
    CHECK(t.data[0] == 0);
    CHECK(t.data[n - 1] == 47);

    Writer short_w;
    short_w.add_tensor("short", DType::f32, {4}, [](const Writer::Sink &sink) {
        const uint8_t b[8] = {};
        sink(b);
    });
    CHECK_THROWS_WITH_AS((void)short_w.to_bytes(), "gguf writer: producer of tensor 'short' emitted 8 of its 16 bytes",
                         Error);
    Writer long_w;
    long_w.add_tensor("long", DType::f32, {1}, [](const Writer::Sink &sink) {
        const uint8_t b[8] = {};
        sink(b);
    });
    CHECK_THROWS_AS((void)long_w.to_bytes(), Error);
}

TEST_CASE("the writer refuses what the reader or llama.cpp would not accept") {
    Writer w;
    const std::vector<uint8_t> four(4);
    CHECK_THROWS_AS(w.add_tensor("", DType::f32, {1}, four), Error);
    CHECK_THROWS_AS(w.add_tensor(std::string(64, 'x'), DType::f32, {1}, four), Error);
    CHECK_THROWS_AS(w.add_tensor("a", DType::q4_0, {16}, four), Error);  // not a whole block
    CHECK_THROWS_AS(w.add_tensor("a", DType::f32, {2}, four), Error);    // wrong byte count
    CHECK_THROWS_AS(w.add_tensor("a", DType::f32, {1, 1, 1, 1, 1}, four), Error);
    const Writer::Producer nothing = [](const Writer::Sink &) {};
    CHECK_THROWS_AS(w.add_tensor("a", DType::f32, {uint64_t{1} << 62}, nothing), Error);  // 2^64 bytes
    CHECK_THROWS_AS(w.add_tensor("a", DType::f32, {uint64_t{1} << 32, uint64_t{1} << 32}, nothing), Error);
    w.add_tensor("a", DType::f32, {1}, four);
    CHECK_THROWS_AS(w.add_tensor("a", DType::f32, {1}, four), Error);  // duplicate
    CHECK_THROWS_AS(w.set_u32(key::alignment, 48), Error);
    CHECK_THROWS_AS(w.set_u64(key::alignment, 64), Error);
    CHECK_THROWS_AS(w.set_string("\xff", "x"), Error);
    CHECK_THROWS_AS(w.set_version(1), Error);
    w.set_u32("k", 1);
    w.set_u32("k", 2);  // replaces in place
    const std::vector<uint8_t> bytes = w.to_bytes();
    const File f = File::parse(bytes);
    CHECK(f.metadata().size() == 1);
    CHECK(f.get<uint32_t>("k") == 2);
}

TEST_CASE("write() to a path that cannot be created is an io error and leaves nothing") {
    Writer w;
    w.set_u32("k", 1);
    try {
        w.write("/nonexistent-dir/x.gguf");
        FAIL("expected an error");
    } catch (const Error &e) {
        CHECK(e.code() == Errc::io);
    }
}

// The fuzz seeds are files this writer makes; keep them parseable, and regenerate them with
// EMBER_WRITE_FUZZ_CORPUS=tests/fuzz/corpus/gguf ./gguf_writer_test
TEST_CASE("fuzz seed corpus") {
    std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds;
    seeds.emplace_back("sample.gguf", test::sample_writer().to_bytes());
    seeds.emplace_back("sample-align64.gguf", test::sample_writer(64, 3).to_bytes());
    {
        Writer v2 = test::sample_writer(32, 2);
        v2.set_version(2);
        seeds.emplace_back("sample-v2.gguf", v2.to_bytes());
    }
    seeds.emplace_back("empty.gguf", Writer().to_bytes());
    {
        Writer t;
        t.add_tensor_owned("a", DType::f16, {4, 2}, test::pattern_bytes(16, 9));
        t.add_tensor_owned("b", DType::q6_k, {256}, test::pattern_bytes(210, 10));
        seeds.emplace_back("tensors-only.gguf", t.to_bytes());
    }
    if (const char *dir = std::getenv("EMBER_WRITE_FUZZ_CORPUS")) {
        for (const auto &[name, bytes] : seeds) {
            std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary);
            out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        }
    }
    for (const auto &[name, bytes] : seeds) {
        CAPTURE(name);
        CHECK(bytes.size() < 4096);
        CHECK_NOTHROW((void)File::parse(bytes, name));
    }
}
