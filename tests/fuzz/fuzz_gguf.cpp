// fuzz_gguf - libFuzzer entry point for the GGUF reader (and the writer, by round trip).
//
// Any input must either parse or throw ember::Error; ASan/UBSan catch everything else. Files
// that parse are read through every accessor, touch each tensor's first and last byte, and
// are rewritten with the writer and parsed again, which must give the same metadata count
// and tensor bytes.
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"

#include <ember/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace {

volatile uint64_t sink;  // keeps reads from being optimised away

void touch(const ember::gguf::Value &v) {
    using ember::gguf::ValueType;
    sink = sink + v.as<uint64_t>().value_or(0) + static_cast<uint64_t>(v.as<double>().value_or(0) != 0) +
           v.as<std::string_view>().value_or("").size() + v.as<bool>().value_or(false);
    for (std::string_view s : v.strings()) sink = sink + s.size() + (s.empty() ? 0 : static_cast<uint8_t>(s.back()));
    for (const auto &item : v.items()) touch(item);
    if (v.type() == ValueType::array && v.element_type() == ValueType::f64 && v.size() > 0)
        sink = sink + static_cast<uint64_t>(v.array<double>().back() != 0);
    if (v.type() == ValueType::array && v.element_type() == ValueType::u8 && v.size() > 0)
        sink = sink + v.array<uint8_t>().back();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ember;
    try {
        const gguf::File f = gguf::File::parse({data, size}, "fuzz");
        gguf::Writer w(static_cast<uint32_t>(f.alignment()));  // the reader bounds it by 2^24
        for (const auto &kv : f.metadata()) {
            touch(kv.value);
            (void)f.get_optional<uint32_t>(kv.key).has_value();
            if (kv.key != "general.alignment") w.set_value(kv.key, kv.value);
        }
        for (const auto &t : f.tensors()) {
            if (t.n_bytes > 0) sink = sink + t.data[0] + t.data[t.n_bytes - 1];
            if (t.name.size() <= 63 && t.n_dims > 0)
                w.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims), {t.data, t.n_bytes});
        }
        const std::vector<uint8_t> bytes = w.to_bytes();
        const gguf::File g = gguf::File::parse(bytes, "fuzz-rewritten");
        // The writer states general.alignment only when it is not the default 32.
        const size_t expected = f.metadata().size() - (f.has("general.alignment") ? 1 : 0) + (f.alignment() != 32 ? 1 : 0);
        if (g.metadata().size() != expected) std::abort();  // the writer lost or invented metadata
        for (const auto &t : g.tensors()) {
            const gguf::TensorInfo *orig = f.find_tensor(t.name);
            if (!orig || orig->n_bytes != t.n_bytes || std::memcmp(orig->data, t.data, t.n_bytes) != 0) std::abort();
        }
    } catch (const ember::Error &) {
        // refusing malformed input is the expected outcome
    }
    return 0;
}
