// gguf/writer.cpp - encoding GGUF metadata and laying out tensor data.
//
// Layout (GGUF v3, little-endian): magic, version, tensor count, metadata count, metadata,
// tensor infos, zero padding to the alignment, then each tensor's bytes padded to the
// alignment. Offsets in tensor infos are relative to the start of the data section.
#include "gguf/writer.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>

namespace ember::gguf {

namespace {

template <class T> void append(std::vector<uint8_t> &out, T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    // resize + memcpy rather than insert(): g++ 12 misreports insert() into an empty vector
    // as an overflow (-Wstringop-overflow).
    const size_t n = out.size();
    out.resize(n + sizeof(T));
    std::memcpy(out.data() + n, &v, sizeof(T));
}

void append_type(std::vector<uint8_t> &out, ValueType t) { append(out, static_cast<uint32_t>(t)); }

void append_string(std::vector<uint8_t> &out, std::string_view s) {
    append(out, static_cast<uint64_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
}

template <class T> constexpr ValueType type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return ValueType::u8;
    else if constexpr (std::is_same_v<T, int8_t>) return ValueType::i8;
    else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::u16;
    else if constexpr (std::is_same_v<T, int16_t>) return ValueType::i16;
    else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::u32;
    else if constexpr (std::is_same_v<T, int32_t>) return ValueType::i32;
    else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::u64;
    else if constexpr (std::is_same_v<T, int64_t>) return ValueType::i64;
    else if constexpr (std::is_same_v<T, float>) return ValueType::f32;
    else return ValueType::f64;
}

template <class T> std::vector<uint8_t> scalar(T v) {
    std::vector<uint8_t> out;
    append_type(out, type_of<T>());
    append(out, v);
    return out;
}

uint64_t scalar_size(ValueType t) {
    switch (t) {
    case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
    case ValueType::u16: case ValueType::i16: return 2;
    case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
    default: return 8;
    }
}

// Encodes `v` (without its type id) as the reader decoded it.
void append_value(std::vector<uint8_t> &out, const Value &v) {
    switch (v.type()) {
    case ValueType::u8: append(out, static_cast<uint8_t>(v.scalar_.u)); break;
    case ValueType::u16: append(out, static_cast<uint16_t>(v.scalar_.u)); break;
    case ValueType::u32: append(out, static_cast<uint32_t>(v.scalar_.u)); break;
    case ValueType::u64: append(out, v.scalar_.u); break;
    case ValueType::boolean: append(out, static_cast<uint8_t>(v.scalar_.u != 0)); break;
    case ValueType::i8: append(out, static_cast<int8_t>(v.scalar_.i)); break;
    case ValueType::i16: append(out, static_cast<int16_t>(v.scalar_.i)); break;
    case ValueType::i32: append(out, static_cast<int32_t>(v.scalar_.i)); break;
    case ValueType::i64: append(out, v.scalar_.i); break;
    case ValueType::f32: append(out, static_cast<float>(v.scalar_.f)); break;
    case ValueType::f64: append(out, v.scalar_.f); break;
    case ValueType::string: append_string(out, v.as<std::string_view>().value_or("")); break;
    case ValueType::array:
        append_type(out, v.element_type());
        append(out, v.size());
        if (v.element_type() == ValueType::string) {
            for (std::string_view s : v.strings()) append_string(out, s);
        } else if (v.element_type() == ValueType::array) {
            for (const Value &item : v.items()) append_value(out, item);
        } else {
            if (v.array_bytes_.size() != v.size() * scalar_size(v.element_type()))
                fail(Errc::invalid_argument, "gguf writer: array value holds {} bytes for {} {} elements",
                     v.array_bytes_.size(), v.size(), value_type_name(v.element_type()));
            out.insert(out.end(), v.array_bytes_.begin(), v.array_bytes_.end());
        }
        break;
    }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

const uint8_t zeros[64] = {};

void pad(const Writer::Sink &sink, uint64_t n) {
    while (n > 0) {
        const uint64_t k = std::min<uint64_t>(n, sizeof(zeros));
        sink({zeros, k});
        n -= k;
    }
}

}  // namespace

// ---- metadata --------------------------------------------------------------------------------
Writer::Writer(uint32_t alignment) {
    if (alignment != 32) set_u32(key::alignment, alignment);
}

void Writer::set_version(uint32_t version) {
    if (version != 2 && version != 3) fail(Errc::invalid_argument, "gguf writer: version {} (only 2 or 3)", version);
    version_ = version;
}

void Writer::put(std::string_view key, std::vector<uint8_t> encoded) {
    if (key.empty() || key.size() > 65535 || !valid_utf8(key))
        fail(Errc::invalid_argument, "gguf writer: invalid metadata key '{}'", printable(key));
    if (key == key::alignment) {
        uint32_t type = 0, a = 0;
        std::memcpy(&type, encoded.data(), 4);
        if (type != static_cast<uint32_t>(ValueType::u32) || encoded.size() != 8)
            fail(Errc::invalid_argument, "gguf writer: {} must be a u32", key::alignment);
        std::memcpy(&a, encoded.data() + 4, 4);
        if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 24))
            fail(Errc::invalid_argument, "gguf writer: alignment {} is not a power of two in [1, 2^24]", a);
        alignment_ = a;
    }
    for (Entry &e : entries_) {
        if (e.key == key) {
            e.encoded = std::move(encoded);
            return;
        }
    }
    entries_.push_back({std::string(key), std::move(encoded)});
}

void Writer::set_u8(std::string_view key, uint8_t v) { put(key, scalar(v)); }
void Writer::set_i8(std::string_view key, int8_t v) { put(key, scalar(v)); }
void Writer::set_u16(std::string_view key, uint16_t v) { put(key, scalar(v)); }
void Writer::set_i16(std::string_view key, int16_t v) { put(key, scalar(v)); }
void Writer::set_u32(std::string_view key, uint32_t v) { put(key, scalar(v)); }
void Writer::set_i32(std::string_view key, int32_t v) { put(key, scalar(v)); }
void Writer::set_u64(std::string_view key, uint64_t v) { put(key, scalar(v)); }
void Writer::set_i64(std::string_view key, int64_t v) { put(key, scalar(v)); }
void Writer::set_f32(std::string_view key, float v) { put(key, scalar(v)); }
void Writer::set_f64(std::string_view key, double v) { put(key, scalar(v)); }

void Writer::set_bool(std::string_view key, bool v) {
    std::vector<uint8_t> out;
    append_type(out, ValueType::boolean);
    append(out, static_cast<uint8_t>(v));
    put(key, std::move(out));
}

void Writer::set_string(std::string_view key, std::string_view v) {
    std::vector<uint8_t> out;
    append_type(out, ValueType::string);
    append_string(out, v);
    put(key, std::move(out));
}

template <class T> void Writer::set_array(std::string_view key, std::span<const T> values) {
    std::vector<uint8_t> out;
    out.reserve(16 + values.size_bytes());
    append_type(out, ValueType::array);
    append_type(out, type_of<T>());
    append(out, static_cast<uint64_t>(values.size()));
    const auto *p = reinterpret_cast<const uint8_t *>(values.data());
    out.insert(out.end(), p, p + values.size_bytes());
    put(key, std::move(out));
}
template void Writer::set_array<uint8_t>(std::string_view, std::span<const uint8_t>);
template void Writer::set_array<int8_t>(std::string_view, std::span<const int8_t>);
template void Writer::set_array<uint16_t>(std::string_view, std::span<const uint16_t>);
template void Writer::set_array<int16_t>(std::string_view, std::span<const int16_t>);
template void Writer::set_array<uint32_t>(std::string_view, std::span<const uint32_t>);
template void Writer::set_array<int32_t>(std::string_view, std::span<const int32_t>);
template void Writer::set_array<uint64_t>(std::string_view, std::span<const uint64_t>);
template void Writer::set_array<int64_t>(std::string_view, std::span<const int64_t>);
template void Writer::set_array<float>(std::string_view, std::span<const float>);
template void Writer::set_array<double>(std::string_view, std::span<const double>);

void Writer::set_bool_array(std::string_view key, std::span<const bool> values) {
    std::vector<uint8_t> out;
    append_type(out, ValueType::array);
    append_type(out, ValueType::boolean);
    append(out, static_cast<uint64_t>(values.size()));
    for (bool b : values) append(out, static_cast<uint8_t>(b));
    put(key, std::move(out));
}

namespace {
template <class S> std::vector<uint8_t> string_array(std::span<const S> values) {
    std::vector<uint8_t> out;
    append_type(out, ValueType::array);
    append_type(out, ValueType::string);
    append(out, static_cast<uint64_t>(values.size()));
    for (const S &s : values) append_string(out, s);
    return out;
}
}  // namespace

void Writer::set_string_array(std::string_view key, std::span<const std::string> values) {
    put(key, string_array(values));
}
void Writer::set_string_array(std::string_view key, std::span<const std::string_view> values) {
    put(key, string_array(values));
}

void Writer::set_value(std::string_view key, const Value &value) {
    std::vector<uint8_t> out;
    append_type(out, value.type());
    append_value(out, value);
    put(key, std::move(out));
}

bool Writer::has(std::string_view key) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry &e) { return e.key == key; });
}

void Writer::remove(std::string_view key) {
    std::erase_if(entries_, [&](const Entry &e) { return e.key == key; });
    if (key == key::alignment) alignment_ = 32;
}

// ---- tensors ---------------------------------------------------------------------------------
Writer::Tensor &Writer::new_tensor(std::string_view name, DType type, std::span<const uint64_t> ne) {
    // 63 bytes: llama.cpp keeps names in a 64-byte buffer with its terminator.
    if (name.empty() || name.size() > 63 || !valid_utf8(name))
        fail(Errc::invalid_argument, "gguf writer: tensor name '{}' must be 1 to 63 bytes of UTF-8", printable(name));
    for (const Tensor &t : tensors_)
        if (t.name == name) fail(Errc::invalid_argument, "gguf writer: duplicate tensor '{}'", name);
    if (ne.empty() || ne.size() > 4)
        fail(Errc::invalid_argument, "gguf writer: tensor '{}' has {} dimensions (1 to 4)", name, ne.size());
    uint64_t rows = 1;
    for (size_t d = 1; d < ne.size(); ++d) {
        auto r = checked_mul(rows, ne[d]);
        if (!r) fail(Errc::invalid_argument, "gguf writer: tensor '{}' shape overflows", name);
        rows = *r;
    }
    const DTypeInfo info = dtype_info(type);
    if (ne[0] % info.block_elems != 0)
        fail(Errc::invalid_argument, "gguf writer: tensor '{}' row length {} is not a multiple of the {} block",
             name, ne[0], dtype_name(type));
    const auto rb = checked_mul(ne[0] / info.block_elems, info.block_bytes);
    const auto nb = rb ? checked_mul(*rb, rows) : std::nullopt;
    if (!nb) fail(Errc::invalid_argument, "gguf writer: tensor '{}' byte size overflows", name);
    Tensor &t = tensors_.emplace_back();
    t.name = name;
    t.type = type;
    t.ne.assign(ne.begin(), ne.end());
    t.n_bytes = *nb;
    return t;
}

void Writer::add_tensor(std::string_view name, DType type, std::span<const uint64_t> ne, std::span<const uint8_t> data) {
    Tensor &t = new_tensor(name, type, ne);
    if (data.size() != t.n_bytes) {
        const uint64_t need = t.n_bytes;
        tensors_.pop_back();
        fail(Errc::invalid_argument, "gguf writer: tensor '{}' needs {} bytes, got {}", name, need, data.size());
    }
    t.borrowed = data;
}

void Writer::add_tensor_owned(std::string_view name, DType type, std::span<const uint64_t> ne, std::vector<uint8_t> data) {
    Tensor &t = new_tensor(name, type, ne);
    if (data.size() != t.n_bytes) {
        const uint64_t need = t.n_bytes;
        tensors_.pop_back();
        fail(Errc::invalid_argument, "gguf writer: tensor '{}' needs {} bytes, got {}", name, need, data.size());
    }
    t.owned = std::move(data);
}

void Writer::add_tensor(std::string_view name, DType type, std::span<const uint64_t> ne, Producer produce) {
    if (!produce) fail(Errc::invalid_argument, "gguf writer: tensor '{}' has an empty producer", name);
    new_tensor(name, type, ne).produce = std::move(produce);
}

// ---- output ----------------------------------------------------------------------------------
uint64_t Writer::header_size() const {
    uint64_t n = 4 + 4 + 8 + 8;
    for (const Entry &e : entries_) n += 8 + e.key.size() + e.encoded.size();
    for (const Tensor &t : tensors_) n += 8 + t.name.size() + 4 + 8 * t.ne.size() + 4 + 8;
    return n;
}

uint64_t Writer::file_size() const {
    uint64_t n = align_up(header_size(), alignment_);
    for (const Tensor &t : tensors_) n += align_up(t.n_bytes, alignment_);
    return n;
}

void Writer::write(const Sink &sink) const {
    std::vector<uint8_t> head;
    head.reserve(header_size());
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    append(head, version_);
    append(head, static_cast<uint64_t>(tensors_.size()));
    append(head, static_cast<uint64_t>(entries_.size()));
    for (const Entry &e : entries_) {
        append_string(head, e.key);
        head.insert(head.end(), e.encoded.begin(), e.encoded.end());
    }
    uint64_t offset = 0;
    for (const Tensor &t : tensors_) {
        append_string(head, t.name);
        append(head, static_cast<uint32_t>(t.ne.size()));
        for (uint64_t d : t.ne) append(head, d);
        append(head, static_cast<uint32_t>(t.type));
        append(head, offset);
        offset += align_up(t.n_bytes, alignment_);
    }
    sink(head);
    pad(sink, align_up(head.size(), alignment_) - head.size());

    for (const Tensor &t : tensors_) {
        if (t.produce) {
            uint64_t produced = 0;
            t.produce([&](std::span<const uint8_t> chunk) {
                produced += chunk.size();
                if (produced > t.n_bytes)
                    fail(Errc::invalid_argument, "gguf writer: producer of tensor '{}' emitted more than its {} bytes",
                         t.name, t.n_bytes);
                sink(chunk);
            });
            if (produced != t.n_bytes)
                fail(Errc::invalid_argument, "gguf writer: producer of tensor '{}' emitted {} of its {} bytes", t.name,
                     produced, t.n_bytes);
        } else {
            sink(t.owned.empty() ? t.borrowed : std::span<const uint8_t>(t.owned));
        }
        pad(sink, align_up(t.n_bytes, alignment_) - t.n_bytes);
    }
}

std::vector<uint8_t> Writer::to_bytes() const {
    std::vector<uint8_t> out;
    out.reserve(file_size());
    write([&](std::span<const uint8_t> chunk) { out.insert(out.end(), chunk.begin(), chunk.end()); });
    return out;
}

void Writer::write(const std::string &path) const {
    const std::string tmp = path + ".tmp";
    struct Closer {
        void operator()(std::FILE *f) const { std::fclose(f); }
    };
    std::unique_ptr<std::FILE, Closer> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) fail(Errc::io, "{}: cannot create: {}", tmp, std::strerror(errno));
    std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 20);
    try {
        write([&](std::span<const uint8_t> chunk) {
            if (!chunk.empty() && std::fwrite(chunk.data(), 1, chunk.size(), f.get()) != chunk.size())
                fail(Errc::io, "{}: write failed: {}", tmp, std::strerror(errno));
        });
        if (std::fclose(f.release()) != 0) fail(Errc::io, "{}: close failed: {}", tmp, std::strerror(errno));
    } catch (...) {
        f.reset();
        std::remove(tmp.c_str());
        throw;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        fail(Errc::io, "{}: cannot rename {} into place: {}", path, tmp, std::strerror(err));
    }
}

}  // namespace ember::gguf
