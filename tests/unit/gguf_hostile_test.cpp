// The GGUF reader on malformed and hostile files: each is refused with an ember::Error that
// names the field and its offset; nothing crashes, allocates absurdly, or reads out of bounds
// (run under the sanitize preset to see the last part).
#include "gguf_sample.hpp"

#include "gguf/reader.hpp"
#include "gguf/writer.hpp"

#include <ember/error.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace ember;
using namespace ember::gguf;

namespace {

// Builds GGUF bytes field by field, with no validation, so tests can lie in any field.
struct Raw {
    std::vector<uint8_t> b;

    template <class T> Raw &put(T v) {
        const size_t n = b.size();
        b.resize(n + sizeof(T));
        std::memcpy(b.data() + n, &v, sizeof(T));
        return *this;
    }
    Raw &u8(uint8_t v) { return put(v); }
    Raw &u32(uint32_t v) { return put(v); }
    Raw &u64(uint64_t v) { return put(v); }
    Raw &str(std::string_view s) {
        u64(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Raw &header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        b.insert(b.end(), {'G', 'G', 'U', 'F'});
        return u32(version).u64(n_tensors).u64(n_kv);
    }
    Raw &kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
    Raw &kv_u64(std::string_view key, uint64_t v) { return str(key).u32(10).u64(v); }
    // A tensor info; dims in ggml order, type id, offset within the data section.
    Raw &tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (uint64_t d : ne) u64(d);
        return u32(type).u64(offset);
    }
    Raw &pad(size_t alignment = 32) {
        while (b.size() % alignment) b.push_back(0);
        return *this;
    }
    Raw &zeros(size_t n) {
        b.resize(b.size() + n);
        return *this;
    }
};

struct Case {
    const char *what;
    std::function<Raw()> make;
    const char *message;  // expected substring of the error
    Errc code = Errc::invalid_file;
};

Raw nested_arrays(int depth) {
    Raw r;
    r.header(0, 1).str("deep").u32(9);  // value type: array
    for (int i = 0; i < depth; ++i) r.u32(9).u64(1);  // element type array, one element
    return r.u32(4).u64(0);                           // innermost: empty array of u32
}

const uint64_t huge = uint64_t{1} << 62;
const uint32_t f32_id = 0, q4_0_id = 2;

const Case cases[] = {
    {"empty file", [] { return Raw{}; }, "magic at offset 0: file is 0 bytes, too short to be GGUF"},
    {"wrong magic", [] { Raw r; r.b = {'G', 'G', 'M', 'L', 3, 0, 0, 0}; return r; },
     "magic at offset 0: expected \"GGUF\", found GGML (not a GGUF file)"},
    {"version 1", [] { return Raw{}.header(0, 0, 1); }, "version at offset 4: GGUF v1 is not supported",
     Errc::unsupported},
    {"version 4", [] { return Raw{}.header(0, 0, 4); }, "GGUF version 4 is not supported", Errc::unsupported},
    {"big-endian", [] { return Raw{}.header(0, 0, 0x03000000); }, "big-endian GGUF", Errc::unsupported},
    {"huge metadata count", [] { return Raw{}.header(0, uint64_t{1} << 63); },
     "metadata count at offset 16: 9223372036854775808 entries exceed the limit of 1048576"},
    {"metadata count beyond the file", [] { return Raw{}.header(0, 1000).zeros(100); },
     "metadata count at offset 16: 1000 entries cannot fit in the 100 bytes remaining"},
    {"huge tensor count", [] { return Raw{}.header(huge, 0).zeros(64); },
     "tensor count at offset 8: 4611686018427387904 tensors exceed the limit of 1048576"},
    {"tensor count beyond the file", [] { return Raw{}.header(10, 0).zeros(200); },
     "tensor count at offset 8: 10 tensors cannot fit in the 200 bytes remaining"},
    {"tensor count beyond what the metadata leaves", [] { return Raw{}.header(2, 1).kv_u32("k", 1).zeros(40); },
     "tensor count at offset 8: 2 tensors cannot fit in the 40 bytes after the metadata"},
    {"key length past the end", [] { return Raw{}.header(0, 1).u64(huge).zeros(8); },
     "metadata #0: key length at offset 24: length 4611686018427387904 exceeds the 8 bytes remaining"},
    {"empty key", [] { return Raw{}.header(0, 1).kv_u32("", 1); }, "metadata #0: key at offset 24: empty key"},
    {"key not UTF-8", [] { return Raw{}.header(0, 1).kv_u32("bad\xff\xfekey", 1); },
     "metadata #0: key at offset 32: bad\\xff\\xfekey is not valid UTF-8"},
    {"key overlong UTF-8", [] { return Raw{}.header(0, 1).kv_u32("a\xc0\xaf" "b", 1); }, "is not valid UTF-8"},
    {"key with a surrogate", [] { return Raw{}.header(0, 1).kv_u32("\xed\xa0\x80", 1); }, "is not valid UTF-8"},
    {"duplicate key", [] { return Raw{}.header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2); },
     "metadata #1 'a.b': key at offset 43: duplicate key (first at offset 24)"},
    {"unknown value type", [] { return Raw{}.header(0, 1).str("k").u32(13).u32(0); },
     "metadata #0 'k': value type at offset 33: unknown value type id 13"},
    {"string value past the end", [] { return Raw{}.header(0, 1).str("k").u32(8).u64(1000).zeros(10); },
     "metadata #0 'k': string length at offset 37: length 1000 exceeds the 10 bytes remaining"},
    {"truncated scalar", [] { return Raw{}.header(0, 1).str("k").u32(10).u32(0); },
     "metadata #0 'k': value at offset 37: needs 8 bytes but the file ends after 4"},
    {"bool value 2", [] { return Raw{}.header(0, 1).str("k").u32(7).u8(2); }, "bool value at offset 37: 2 is neither 0 nor 1"},
    {"unknown array element type", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(99).u64(0); },
     "array element type at offset 37: unknown value type id 99"},
    {"huge u32 array count", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(4).u64(huge).zeros(16); },
     "array count at offset 41: 4611686018427387904 elements of u32 need at least 4 bytes each, only 16 remain"},
    {"huge string array count", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(8).u64(UINT64_MAX); },
     "array count at offset 41: 18446744073709551615 elements of string"},
    {"huge nested array count", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(9).u64(huge).zeros(24); },
     "elements of array need at least 12 bytes each"},
    {"string in array past the end", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(8).u64(2).str("ok").u64(50); },
     "array string length at offset 59: length 50 exceeds the 0 bytes remaining"},
    {"bool array element 7", [] { return Raw{}.header(0, 1).str("k").u32(9).u32(7).u64(3).u8(1).u8(0).u8(7); },
     "bool array element at offset 51: 7 is neither 0 nor 1"},
    {"arrays nested 100 deep", [] { return nested_arrays(100); }, "arrays nested deeper than 8 levels"},
    {"too many nested arrays", [] {
         Raw r;
         r.header(0, 1).str("k").u32(9).u32(9).u64(70000);
         for (int i = 0; i < 70000; ++i) r.u32(4).u64(0);
         return r;
     }, "more than 65536 nested arrays in the file"},
    {"alignment 0", [] { return Raw{}.header(0, 1).kv_u32("general.alignment", 0); },
     "general.alignment at offset 24: 0 is not a power of two in [1, 16777216]"},
    {"alignment 3", [] { return Raw{}.header(0, 1).kv_u32("general.alignment", 3); }, "3 is not a power of two"},
    {"alignment 2^40", [] { return Raw{}.header(0, 1).kv_u64("general.alignment", uint64_t{1} << 40); },
     "1099511627776 is not a power of two in [1, 16777216]"},
    {"alignment a string", [] { return Raw{}.header(0, 1).str("general.alignment").u32(8).str("32"); },
     "general.alignment at offset 24: must be an unsigned integer, found string"},
    {"tensor info truncated", [] { return Raw{}.header(1, 0).str("tensor").u32(2).u64(4); },
     "tensor #0 'tensor': dimension at offset 50: needs 8 bytes but the file ends after 0"},
    {"empty tensor name", [] { return Raw{}.header(1, 0).tensor("", {4}, f32_id, 0).pad().zeros(32); },
     "tensor #0: name at offset 24: empty tensor name"},
    {"tensor name too long", [] { return Raw{}.header(1, 0).tensor(std::string(2000, 'x'), {4}, f32_id, 0); },
     "name length at offset 24: length 2000 exceeds the limit of 1024 bytes"},
    {"tensor name not UTF-8", [] { return Raw{}.header(1, 0).tensor("w\x80", {4}, f32_id, 0).pad().zeros(32); },
     "tensor #0: name at offset 32: w\\x80 is not valid UTF-8"},
    {"five dimensions", [] { return Raw{}.header(1, 0).tensor("t", {1, 1, 1, 1, 1}, f32_id, 0); },
     "tensor #0 't': n_dims at offset 33: 5 dimensions (at most 4 are allowed)"},
    {"dimension product overflows", [] { return Raw{}.header(1, 0).tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, f32_id, 0); },
     "tensor #0 't': dimension at offset 45: ne[1] = 4294967296: the product of dimensions overflows"},
    {"negative dimension", [] { return Raw{}.header(1, 0).tensor("t", {4, uint64_t{1} << 63}, f32_id, 0); },
     "ne[1] = -9223372036854775808 is negative as int64"},
    {"byte size overflows", [] { return Raw{}.header(1, 0).tensor("t", {huge}, f32_id, 0); },
     "tensor #0 't': dimension at offset 33: byte size of 4611686018427387904 f32 elements overflows"},
    {"unknown tensor type (removed Q4_2)", [] { return Raw{}.header(1, 0).tensor("t", {32}, 4, 0); },
     "tensor #0 't': type at offset 45: unknown tensor type id 4"},
    {"unknown tensor type 1000", [] { return Raw{}.header(1, 0).tensor("t", {32}, 1000, 0); }, "unknown tensor type id 1000"},
    {"row not a whole number of blocks", [] { return Raw{}.header(1, 0).tensor("t", {33, 2}, q4_0_id, 0).pad().zeros(64); },
     "row length ne[0] = 33 is not a multiple of the q4_0 block size 32"},
    {"unaligned offset", [] { return Raw{}.header(1, 0).tensor("t", {4}, f32_id, 3).pad().zeros(64); },
     "tensor #0 't': data offset at offset 49: 3 is not a multiple of the alignment 32"},
    {"data past the end", [] { return Raw{}.header(1, 0).tensor("t", {64}, f32_id, 0).pad().zeros(255); },
     "tensor #0 't': data range at offset 24: [0, 0+256) relative to the data section at 64 runs past the end"},
    {"offset + size overflows", [] { return Raw{}.header(1, 0).tensor("t", {64}, f32_id, UINT64_MAX - 31).pad().zeros(256); },
     "runs past the end of the file"},
    {"no data section at all", [] { return Raw{}.header(1, 0).tensor("t", {8}, f32_id, 0); }, "runs past the end of the file"},
    {"overlapping tensors", [] {
         return Raw{}.header(2, 0).tensor("a", {16}, f32_id, 0).tensor("b", {16}, f32_id, 32).pad().zeros(128);
     }, "tensor #1 'b': data offset at offset 57: [32, 96) overlaps tensor 'a' at [0, 64)"},
    {"tensor inside another, past a zero-size one", [] {
         return Raw{}.header(3, 0).tensor("big", {64}, f32_id, 0).tensor("empty", {0}, f32_id, 32)
             .tensor("inner", {8}, f32_id, 64).pad().zeros(256);
     }, "'inner': data offset at offset 96: [64, 96) overlaps tensor 'big' at [0, 256)"},
    {"duplicate tensor name", [] {
         return Raw{}.header(2, 0).tensor("w", {8}, f32_id, 0).tensor("w", {8}, f32_id, 32).pad().zeros(64);
     }, "tensor #1 'w': name at offset 57: duplicate tensor name (first at offset 24)"},
};

std::string refusal(const std::vector<uint8_t> &bytes, Errc *code = nullptr) {
    try {
        (void)File::parse(bytes, "hostile.gguf");
    } catch (const Error &e) {
        if (code) *code = e.code();
        return e.what();
    }
    return "<accepted>";
}

}  // namespace

TEST_CASE("hostile files are refused with a message naming the field and offset") {
    for (const Case &c : cases) {
        const std::string what = c.what;
        CAPTURE(what);
        const std::vector<uint8_t> bytes = c.make().b;
        Errc code = Errc::ok;
        const std::string msg = refusal(bytes, &code);
        CAPTURE(msg);
        CHECK(msg.rfind("hostile.gguf: ", 0) == 0);
        CHECK(msg.find(c.message) != std::string::npos);
        CHECK(code == c.code);
    }
}

TEST_CASE("the hand-made builder makes valid files when nothing lies") {
    Raw r;
    r.header(2, 1).kv_u32("general.alignment", 64).tensor("a", {16}, f32_id, 0).tensor("b", {32, 4}, q4_0_id, 64);
    r.pad(64).zeros(64 + 18 * 4);
    const File f = File::parse(r.b);
    CHECK(f.alignment() == 64);
    CHECK(f.tensor("b").n_bytes == 72);
    CHECK(f.tensor("b").ne == std::array<uint64_t, 4>{32, 4, 1, 1});
}

TEST_CASE("truncating a valid file at every byte is a clean invalid_file error") {
    const std::vector<uint8_t> full = test::sample_writer().to_bytes();
    const File f = File::parse(full);
    // Padding after the last tensor is not needed, so cuts inside it still parse.
    uint64_t needed = f.data_offset();
    for (const TensorInfo &t : f.tensors()) needed = std::max(needed, f.data_offset() + t.offset + t.n_bytes);
    REQUIRE(needed <= full.size());
    for (size_t cut = 0; cut < full.size(); ++cut) {
        // A fresh allocation of exactly `cut` bytes, so ASan flags any read past it.
        const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
        if (cut < needed) {
            Errc code = Errc::ok;
            const std::string msg = refusal(prefix, &code);
            if (code != Errc::invalid_file) FAIL_CHECK("cut at " << cut << ": " << msg);
        } else {
            CHECK_NOTHROW((void)File::parse(prefix));
        }
    }
}

TEST_CASE("flipping any byte of the header region never crashes") {
    const std::vector<uint8_t> full = test::sample_writer().to_bytes();
    const File f = File::parse(full);
    int refused = 0;
    for (size_t i = 0; i < f.data_offset(); ++i) {
        for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
            std::vector<uint8_t> bytes = full;
            bytes[i] ^= x;
            try {
                (void)File::parse(bytes);
            } catch (const Error &e) {
                ++refused;
                if (e.code() != Errc::invalid_file && e.code() != Errc::unsupported) FAIL_CHECK(e.what());
            }
        }
    }
    CHECK(refused > 0);
}
