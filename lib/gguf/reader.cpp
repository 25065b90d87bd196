// gguf/reader.cpp - parse and validate a GGUF file (v2, v3) without trusting any field.
//
// Every count, length and offset is checked against the bytes that remain before it is used,
// with overflow-checked arithmetic; every failure names the field and its file offset.
// Nothing here touches tensor data: opening costs O(metadata).
#include "gguf/reader.hpp"

#include "core/fail.hpp"
#include "core/mapped_file.hpp"
#include "gguf/names.hpp"
#include "gguf/text.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace ember::gguf {

std::string_view value_type_name(ValueType t) {
    switch (t) {
    case ValueType::u8: return "u8";
    case ValueType::i8: return "i8";
    case ValueType::u16: return "u16";
    case ValueType::i16: return "i16";
    case ValueType::u32: return "u32";
    case ValueType::i32: return "i32";
    case ValueType::f32: return "f32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::u64: return "u64";
    case ValueType::i64: return "i64";
    case ValueType::f64: return "f64";
    }
    return "unknown";
}

// =============================================================================================
// Parser: a cursor over untrusted bytes
// =============================================================================================
namespace {

// Bounds beyond which a file is refused as hostile rather than parsed.
constexpr uint32_t max_array_depth = 8;             // arrays of arrays of ... (real files: 1)
constexpr uint64_t max_nested_arrays = 1u << 16;    // inner arrays in the whole file (~150 B each)
constexpr uint64_t max_key_bytes = 65535;           // GGUF spec limit on key length
constexpr uint64_t max_tensor_name_bytes = 1024;    // llama.cpp allows 63; leave headroom
constexpr uint64_t max_alignment = uint64_t{1} << 24;
// Real files have tens of keys and at most a few thousand tensors; the caps bound the memory
// a hostile file can make us allocate (~150 bytes per entry) independently of its size.
constexpr uint64_t max_metadata_entries = uint64_t{1} << 20;
constexpr uint64_t max_tensors = uint64_t{1} << 20;
constexpr uint64_t default_alignment = 32;

// Smallest encoding of one element of each type, to bound counts by the bytes remaining.
uint64_t min_encoded_size(ValueType t) {
    switch (t) {
    case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
    case ValueType::u16: case ValueType::i16: return 2;
    case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
    case ValueType::u64: case ValueType::i64: case ValueType::f64: return 8;
    case ValueType::string: return 8;   // length prefix
    case ValueType::array: return 12;   // element type + count
    }
    return 1;
}

bool is_unsigned_int(ValueType t) {
    return t == ValueType::u8 || t == ValueType::u16 || t == ValueType::u32 || t == ValueType::u64;
}
bool is_signed_int(ValueType t) {
    return t == ValueType::i8 || t == ValueType::i16 || t == ValueType::i32 || t == ValueType::i64;
}
bool is_float(ValueType t) { return t == ValueType::f32 || t == ValueType::f64; }
bool is_numeric_elem(ValueType t) { return t != ValueType::string && t != ValueType::array; }

class Parser {
public:
    Parser(std::span<const uint8_t> bytes, const std::string &name) : b_(bytes), name_(name) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return b_.size() - pos_; }

    // What is being parsed, for messages: "metadata #3 'llama.block_count'".
    void set_context(std::string_view kind, uint64_t index, std::string_view item) {
        ctx_kind_ = kind;
        ctx_index_ = index;
        ctx_item_ = item;
    }

    template <class... Args>
    [[noreturn]] void bad(uint64_t at, std::string_view field, fmt::format_string<Args...> f, Args &&...args) const {
        std::string where = ctx_kind_.empty() ? std::string(field)
                            : ctx_item_.empty()
                                ? fmt::format("{} #{}: {}", ctx_kind_, ctx_index_, field)
                                : fmt::format("{} #{} '{}': {}", ctx_kind_, ctx_index_, printable(ctx_item_), field);
        fail(Errc::invalid_file, "{}: {} at offset {}: {}", name_, where, at,
             fmt::format(f, std::forward<Args>(args)...));
    }

    template <class T> T read(std::string_view field) {
        if (remaining() < sizeof(T))
            bad(pos_, field, "needs {} bytes but the file ends after {} (truncated?)", sizeof(T), remaining());
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string_view read_string(std::string_view field, uint64_t max_bytes) {
        const uint64_t at = pos_;
        const uint64_t len = read<uint64_t>(field);
        if (len > remaining())
            bad(at, field, "length {} exceeds the {} bytes remaining in the file", len, remaining());
        if (len > max_bytes) bad(at, field, "length {} exceeds the limit of {} bytes", len, max_bytes);
        std::string_view s(reinterpret_cast<const char *>(b_.data() + pos_), len);
        pos_ += len;
        return s;
    }

    ValueType read_type(std::string_view field) {
        const uint64_t at = pos_;
        const uint32_t t = read<uint32_t>(field);
        if (t > static_cast<uint32_t>(ValueType::f64)) bad(at, field, "unknown value type id {}", t);
        return static_cast<ValueType>(t);
    }

    void read_value(Value &v, ValueType t, uint32_t depth) {
        v.type_ = t;
        switch (t) {
        case ValueType::u8: v.scalar_.u = read<uint8_t>("value"); break;
        case ValueType::u16: v.scalar_.u = read<uint16_t>("value"); break;
        case ValueType::u32: v.scalar_.u = read<uint32_t>("value"); break;
        case ValueType::u64: v.scalar_.u = read<uint64_t>("value"); break;
        case ValueType::i8: v.scalar_.i = read<int8_t>("value"); break;
        case ValueType::i16: v.scalar_.i = read<int16_t>("value"); break;
        case ValueType::i32: v.scalar_.i = read<int32_t>("value"); break;
        case ValueType::i64: v.scalar_.i = read<int64_t>("value"); break;
        case ValueType::f32: v.scalar_.f = read<float>("value"); break;
        case ValueType::f64: v.scalar_.f = read<double>("value"); break;
        case ValueType::boolean: {
            const uint64_t at = pos_;
            const uint8_t x = read<uint8_t>("value");
            if (x > 1) bad(at, "bool value", "{} is neither 0 nor 1", x);
            v.scalar_.u = x;
            break;
        }
        case ValueType::string: v.string_ = read_string("string length", std::numeric_limits<uint64_t>::max()); break;
        case ValueType::array: read_array(v, depth); break;
        }
    }

private:
    void read_array(Value &v, uint32_t depth) {
        const uint64_t at = pos_;
        const ValueType et = read_type("array element type");
        const uint64_t count_at = pos_;
        const uint64_t count = read<uint64_t>("array count");
        v.elem_type_ = et;
        v.count_ = count;
        const uint64_t min_size = min_encoded_size(et);
        if (count > remaining() / min_size)
            bad(count_at, "array count", "{} elements of {} need at least {} bytes each, only {} remain", count,
                value_type_name(et), min_size, remaining());
        if (is_numeric_elem(et)) {
            const uint64_t n = count * min_size;  // cannot overflow: bounded by remaining()
            const uint8_t *p = b_.data() + pos_;
            if (et == ValueType::boolean) {
                for (uint64_t i = 0; i < count; ++i)
                    if (p[i] > 1) bad(pos_ + i, "bool array element", "{} is neither 0 nor 1", p[i]);
            }
            v.array_bytes_.assign(p, p + n);
            pos_ += n;
        } else if (et == ValueType::string) {
            v.strings_.reserve(count);
            for (uint64_t i = 0; i < count; ++i)
                v.strings_.push_back(read_string("array string length", std::numeric_limits<uint64_t>::max()));
        } else {
            if (depth + 1 >= max_array_depth)
                bad(at, "array element type", "arrays nested deeper than {} levels", max_array_depth);
            nested_arrays_ += count;
            if (nested_arrays_ > max_nested_arrays)
                bad(count_at, "array count", "more than {} nested arrays in the file", max_nested_arrays);
            v.items_.resize(count);
            for (uint64_t i = 0; i < count; ++i) read_value(v.items_[i], ValueType::array, depth + 1);
        }
    }

    std::span<const uint8_t> b_;
    const std::string &name_;
    uint64_t pos_ = 0;
    uint64_t nested_arrays_ = 0;
    std::string_view ctx_kind_;
    uint64_t ctx_index_ = 0;
    std::string_view ctx_item_;
};

std::string describe(const Value &v) {
    if (v.type() == ValueType::array) return fmt::format("array of {}", value_type_name(v.element_type()));
    if (is_unsigned_int(v.type())) return fmt::format("{} ({})", value_type_name(v.type()), v.scalar_.u);
    if (is_signed_int(v.type())) return fmt::format("{} ({})", value_type_name(v.type()), v.scalar_.i);
    return std::string(value_type_name(v.type()));
}

}  // namespace

// =============================================================================================
// Value
// =============================================================================================
template <class T> std::optional<T> Value::as() const {
    if constexpr (std::is_same_v<T, bool>) {
        if (type_ == ValueType::boolean) return scalar_.u != 0;
    } else if constexpr (std::is_integral_v<T>) {
        if (is_unsigned_int(type_) && std::in_range<T>(scalar_.u)) return static_cast<T>(scalar_.u);
        if (is_signed_int(type_) && std::in_range<T>(scalar_.i)) return static_cast<T>(scalar_.i);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (is_float(type_)) return static_cast<T>(scalar_.f);
    } else if constexpr (std::is_same_v<T, std::string_view> || std::is_same_v<T, std::string>) {
        if (type_ == ValueType::string) return T(string_);
    }
    return std::nullopt;
}

namespace {
template <class T> constexpr ValueType elem_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return ValueType::u8;
    else if constexpr (std::is_same_v<T, int8_t>) return ValueType::i8;
    else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::u16;
    else if constexpr (std::is_same_v<T, int16_t>) return ValueType::i16;
    else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::u32;
    else if constexpr (std::is_same_v<T, int32_t>) return ValueType::i32;
    else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::u64;
    else if constexpr (std::is_same_v<T, int64_t>) return ValueType::i64;
    else if constexpr (std::is_same_v<T, float>) return ValueType::f32;
    else if constexpr (std::is_same_v<T, double>) return ValueType::f64;
    else if constexpr (std::is_same_v<T, bool>) return ValueType::boolean;
    else return ValueType::string;
}
}  // namespace

template <class T> std::span<const T> Value::array() const {
    if (type_ != ValueType::array) return {};
    const bool match = elem_type_ == elem_type_of<T>() ||
                       (std::is_same_v<T, uint8_t> && elem_type_ == ValueType::boolean);
    if (!match || count_ == 0) return {};
    return {reinterpret_cast<const T *>(array_bytes_.data()), static_cast<size_t>(count_)};
}

#define EMBER_GGUF_SCALAR(T) template std::optional<T> Value::as<T>() const;
#define EMBER_GGUF_NUMERIC(T) template std::span<const T> Value::array<T>() const;
EMBER_GGUF_SCALAR(uint8_t) EMBER_GGUF_SCALAR(int8_t) EMBER_GGUF_SCALAR(uint16_t) EMBER_GGUF_SCALAR(int16_t)
EMBER_GGUF_SCALAR(uint32_t) EMBER_GGUF_SCALAR(int32_t) EMBER_GGUF_SCALAR(uint64_t) EMBER_GGUF_SCALAR(int64_t)
EMBER_GGUF_SCALAR(float) EMBER_GGUF_SCALAR(double) EMBER_GGUF_SCALAR(bool)
EMBER_GGUF_SCALAR(std::string_view) EMBER_GGUF_SCALAR(std::string)
EMBER_GGUF_NUMERIC(uint8_t) EMBER_GGUF_NUMERIC(int8_t) EMBER_GGUF_NUMERIC(uint16_t) EMBER_GGUF_NUMERIC(int16_t)
EMBER_GGUF_NUMERIC(uint32_t) EMBER_GGUF_NUMERIC(int32_t) EMBER_GGUF_NUMERIC(uint64_t) EMBER_GGUF_NUMERIC(int64_t)
EMBER_GGUF_NUMERIC(float) EMBER_GGUF_NUMERIC(double)

// =============================================================================================
// File
// =============================================================================================
struct File::Impl {
    std::string path;
    MappedFile mapping;  // empty for parse()
    std::span<const uint8_t> bytes;
    uint32_t version = 0;
    uint64_t alignment = default_alignment;
    uint64_t data_offset = 0;
    std::vector<KeyValue> metadata;
    std::unordered_map<std::string_view, size_t> key_index;
    std::vector<TensorInfo> tensors;
    std::unordered_map<std::string_view, size_t> tensor_index;
    std::vector<std::pair<uint64_t, uint64_t>> released;  // [begin, end) file offsets, unsorted

    void parse();
    void parse_tensor_infos(Parser &p, uint64_t n_tensors, std::vector<uint64_t> &info_offsets);
    void check_tensor_ranges(const std::vector<uint64_t> &info_offsets);
    const KeyValue *find_kv(std::string_view key) const {
        auto it = key_index.find(key);
        return it == key_index.end() ? nullptr : &metadata[it->second];
    }
};

void File::Impl::parse() {
    Parser p(bytes, path);
    if (bytes.size() < 4) p.bad(0, "magic", "file is {} bytes, too short to be GGUF", bytes.size());
    if (std::memcmp(bytes.data(), "GGUF", 4) != 0)
        p.bad(0, "magic", "expected \"GGUF\", found {} (not a GGUF file)",
              printable(std::string_view(reinterpret_cast<const char *>(bytes.data()), 4)));
    p.read<uint32_t>("magic");
    version = p.read<uint32_t>("version");
    if (version == 1)
        fail(Errc::unsupported, "{}: version at offset 4: GGUF v1 is not supported (only v2 and v3); "
             "re-convert the model with a current llama.cpp", path);
    if (version != 2 && version != 3) {
        if ((version & 0xffff) == 0 && (version >> 24) <= 3)
            fail(Errc::unsupported, "{}: version at offset 4: reads as {} - a big-endian GGUF, which ember does "
                 "not support", path, version);
        fail(Errc::unsupported, "{}: version at offset 4: GGUF version {} is not supported (only 2 and 3)", path,
             version);
    }
    const uint64_t n_tensors_at = p.pos();
    const uint64_t n_tensors = p.read<uint64_t>("tensor count");
    const uint64_t n_kv_at = p.pos();
    const uint64_t n_kv = p.read<uint64_t>("metadata count");
    // Each key-value needs >= 13 bytes (key length, type, one byte of value); each tensor
    // info >= 24 (name length, n_dims, type, offset). Refuse counts the file cannot hold
    // before reserving anything.
    if (n_kv > max_metadata_entries)
        p.bad(n_kv_at, "metadata count", "{} entries exceed the limit of {}", n_kv, max_metadata_entries);
    if (n_tensors > max_tensors)
        p.bad(n_tensors_at, "tensor count", "{} tensors exceed the limit of {}", n_tensors, max_tensors);
    if (n_kv > p.remaining() / 13)
        p.bad(n_kv_at, "metadata count", "{} entries cannot fit in the {} bytes remaining", n_kv, p.remaining());
    if (n_tensors > p.remaining() / 24)
        p.bad(n_tensors_at, "tensor count", "{} tensors cannot fit in the {} bytes remaining", n_tensors,
              p.remaining());

    // ---- metadata ---------------------------------------------------------------------------
    metadata.resize(n_kv);
    key_index.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
        KeyValue &kv = metadata[i];
        kv.offset = p.pos();
        p.set_context("metadata", i, {});
        kv.key = p.read_string("key length", max_key_bytes);
        if (kv.key.empty()) p.bad(kv.offset, "key", "empty key");
        if (!valid_utf8(kv.key)) p.bad(kv.offset + 8, "key", "{} is not valid UTF-8", printable(kv.key));
        p.set_context("metadata", i, kv.key);
        if (!key_index.emplace(kv.key, i).second) {
            p.bad(kv.offset, "key", "duplicate key (first at offset {})", metadata[key_index[kv.key]].offset);
        }
        const ValueType t = p.read_type("value type");
        p.read_value(kv.value, t, 0);
    }
    p.set_context({}, 0, {});

    if (const KeyValue *kv = find_kv(key::alignment)) {
        auto a = kv->value.as<uint64_t>();
        if (!a) p.bad(kv->offset, key::alignment, "must be an unsigned integer, found {}", describe(kv->value));
        if (*a == 0 || (*a & (*a - 1)) != 0 || *a > max_alignment)
            p.bad(kv->offset, key::alignment, "{} is not a power of two in [1, {}]", *a, max_alignment);
        alignment = *a;
    }

    if (n_tensors > p.remaining() / 24)  // again, now that the metadata is behind us
        p.bad(n_tensors_at, "tensor count", "{} tensors cannot fit in the {} bytes after the metadata", n_tensors,
              p.remaining());
    std::vector<uint64_t> info_offsets;
    parse_tensor_infos(p, n_tensors, info_offsets);

    // The data section starts at the next multiple of the alignment after the tensor infos.
    const uint64_t end = p.pos();
    data_offset = (end + alignment - 1) / alignment * alignment;  // end <= file size: no overflow
    check_tensor_ranges(info_offsets);
}

void File::Impl::parse_tensor_infos(Parser &p, uint64_t n_tensors, std::vector<uint64_t> &info_offsets) {
    tensors.resize(n_tensors);
    info_offsets.resize(n_tensors);
    tensor_index.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo &t = tensors[i];
        const uint64_t at = info_offsets[i] = p.pos();
        p.set_context("tensor", i, {});
        t.name = p.read_string("name length", max_tensor_name_bytes);
        if (t.name.empty()) p.bad(at, "name", "empty tensor name");
        if (!valid_utf8(t.name)) p.bad(at + 8, "name", "{} is not valid UTF-8", printable(t.name));
        p.set_context("tensor", i, t.name);
        if (!tensor_index.emplace(t.name, i).second)
            p.bad(at, "name", "duplicate tensor name (first at offset {})", info_offsets[tensor_index[t.name]]);

        const uint64_t dims_at = p.pos();
        t.n_dims = p.read<uint32_t>("n_dims");
        if (t.n_dims > 4) p.bad(dims_at, "n_dims", "{} dimensions (at most 4 are allowed)", t.n_dims);
        uint64_t n_elements = 1;
        for (uint32_t d = 0; d < t.n_dims; ++d) {
            const uint64_t ne_at = p.pos();
            const uint64_t ne = p.read<uint64_t>("dimension");
            if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                p.bad(ne_at, "dimension", "ne[{}] = {} is negative as int64", d, static_cast<int64_t>(ne));
            auto prod = checked_mul(n_elements, ne);
            if (!prod || *prod > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                p.bad(ne_at, "dimension", "ne[{}] = {}: the product of dimensions overflows", d, ne);
            n_elements = *prod;
            t.ne[d] = ne;
        }
        const uint64_t type_at = p.pos();
        const uint32_t type_id = p.read<uint32_t>("type");
        const auto info = dtype_info(type_id);
        if (!info) p.bad(type_at, "type", "unknown tensor type id {}", type_id);
        t.type = static_cast<DType>(type_id);
        const uint64_t off_at = p.pos();
        t.offset = p.read<uint64_t>("data offset");
        if (t.offset % alignment != 0)
            p.bad(off_at, "data offset", "{} is not a multiple of the alignment {}", t.offset, alignment);

        if (t.ne[0] % info->block_elems != 0)
            p.bad(dims_at, "dimension", "row length ne[0] = {} is not a multiple of the {} block size {}", t.ne[0],
                  info->name, info->block_elems);
        // Checked: (2^62 f32 elements) * 4 bytes wraps to 0 in plain arithmetic.
        const auto rb = checked_mul(t.ne[0] / info->block_elems, info->block_bytes);
        const auto nb = rb ? checked_mul(*rb, t.n_rows()) : std::nullopt;  // n_rows <= n_elements
        if (!nb) p.bad(dims_at, "dimension", "byte size of {} {} elements overflows", n_elements, info->name);
        t.n_bytes = *nb;
    }
}

void File::Impl::check_tensor_ranges(const std::vector<uint64_t> &info_offsets) {
    Parser p(bytes, path);
    const uint64_t data_size = data_offset <= bytes.size() ? bytes.size() - data_offset : 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        TensorInfo &t = tensors[i];
        p.set_context("tensor", i, t.name);
        const auto end = checked_add(t.offset, t.n_bytes);
        if (!end || *end > data_size)
            p.bad(info_offsets[i], "data range",
                  "[{}, {}+{}) relative to the data section at {} runs past the end of the file ({} bytes)",
                  t.offset, t.offset, t.n_bytes, data_offset, bytes.size());
        t.data = bytes.data() + data_offset + t.offset;
    }
    // Overlap: sort by start; each tensor must begin at or after the furthest end so far.
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    size_t furthest = 0;  // index (into order) of the tensor reaching furthest so far
    for (size_t k = 1; k < order.size(); ++k) {
        const TensorInfo &prev = tensors[order[furthest]];
        const TensorInfo &cur = tensors[order[k]];
        if (cur.n_bytes > 0 && prev.offset + prev.n_bytes > cur.offset) {
            p.set_context("tensor", order[k], cur.name);
            p.bad(info_offsets[order[k]], "data offset", "[{}, {}) overlaps tensor '{}' at [{}, {})", cur.offset,
                  cur.offset + cur.n_bytes, printable(prev.name), prev.offset, prev.offset + prev.n_bytes);
        }
        if (cur.offset + cur.n_bytes > prev.offset + prev.n_bytes) furthest = k;
    }
}

File File::open(const std::string &path, const OpenOptions &options) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    const MappedFile::Mode mode = options.mode == LoadMode::read          ? MappedFile::Mode::read
                                  : options.mode == LoadMode::mmap_locked ? MappedFile::Mode::map_locked
                                                                          : MappedFile::Mode::map;
    impl->mapping = MappedFile::open(path, mode);
    impl->bytes = impl->mapping.bytes();
    impl->parse();
    return File(std::move(impl));
}

File File::parse(std::span<const uint8_t> bytes, std::string name) {
    auto impl = std::make_unique<Impl>();
    impl->path = std::move(name);
    impl->bytes = bytes;
    impl->parse();
    return File(std::move(impl));
}

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File &&) noexcept = default;
File &File::operator=(File &&) noexcept = default;
File::~File() = default;

const std::string &File::path() const { return impl_->path; }
uint32_t File::version() const { return impl_->version; }
uint64_t File::alignment() const { return impl_->alignment; }
uint64_t File::data_offset() const { return impl_->data_offset; }
std::span<const uint8_t> File::bytes() const { return impl_->bytes; }
const std::string &File::warning() const { return impl_->mapping.warning(); }

uint64_t File::release(const TensorInfo &tensor, bool rereadable) const {
    return release(tensor, 0, tensor.n_bytes, rereadable);
}

uint64_t File::release(const TensorInfo &tensor, uint64_t begin, uint64_t end, bool rereadable) const {
    if (impl_->bytes.empty() || tensor.data < impl_->bytes.data()) return 0;
    if (begin >= end || end > tensor.n_bytes) return 0;
    const auto offset = static_cast<uint64_t>(tensor.data - impl_->bytes.data()) + begin;
    const uint64_t n = impl_->mapping.discard(offset, end - begin, rereadable);
    // The whole range is recorded; its partial end pages were kept, which only means
    // page_in() does not pre-fault them.
    if (n > 0) impl_->released.emplace_back(offset, offset + (end - begin));
    return n;
}

bool File::released(uint64_t offset) const {
    for (const auto &[begin, end] : impl_->released)
        if (offset >= begin && offset < end) return true;
    return false;
}
const std::vector<KeyValue> &File::metadata() const { return impl_->metadata; }
const std::vector<TensorInfo> &File::tensors() const { return impl_->tensors; }

const Value *File::find(std::string_view key) const {
    const KeyValue *kv = impl_->find_kv(key);
    return kv ? &kv->value : nullptr;
}

const TensorInfo *File::find_tensor(std::string_view name) const {
    auto it = impl_->tensor_index.find(name);
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorInfo &File::tensor(std::string_view name) const {
    if (const TensorInfo *t = find_tensor(name)) return *t;
    fail(Errc::invalid_model, "{}: tensor '{}' is missing", impl_->path, name);
}

// ---- typed metadata lookups ------------------------------------------------------------------
namespace {
template <class T> constexpr std::string_view type_label() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) return "string";
    else return value_type_name(elem_type_of<T>());
}
}  // namespace

template <class T> std::optional<T> File::get_optional(std::string_view key) const {
    const KeyValue *kv = impl_->find_kv(key);
    if (!kv) return std::nullopt;
    if (auto v = kv->value.as<T>()) return v;
    const bool range = std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                       (is_unsigned_int(kv->value.type()) || is_signed_int(kv->value.type()));
    fail(Errc::invalid_file, "{}: metadata key '{}' at offset {}: expected {}, found {}{}", impl_->path, key,
         kv->offset, type_label<T>(), describe(kv->value), range ? ", out of range" : "");
}

template <class T> T File::get(std::string_view key) const {
    if (auto v = get_optional<T>(key)) return *v;
    fail(Errc::invalid_file, "{}: metadata key '{}' ({}) is missing", impl_->path, key, type_label<T>());
}

template <class T> std::span<const T> File::get_array(std::string_view key) const {
    const KeyValue *kv = impl_->find_kv(key);
    if (!kv) fail(Errc::invalid_file, "{}: metadata key '{}' (array of {}) is missing", impl_->path, key, type_label<T>());
    const Value &v = kv->value;
    const bool match = v.type() == ValueType::array &&
                       (v.element_type() == elem_type_of<T>() ||
                        (std::is_same_v<T, uint8_t> && v.element_type() == ValueType::boolean));
    if (!match)
        fail(Errc::invalid_file, "{}: metadata key '{}' at offset {}: expected array of {}, found {}", impl_->path, key,
             kv->offset, type_label<T>(), describe(v));
    return v.array<T>();
}

std::span<const std::string_view> File::get_string_array(std::string_view key) const {
    const KeyValue *kv = impl_->find_kv(key);
    if (!kv) fail(Errc::invalid_file, "{}: metadata key '{}' (array of string) is missing", impl_->path, key);
    if (kv->value.type() != ValueType::array || kv->value.element_type() != ValueType::string)
        fail(Errc::invalid_file, "{}: metadata key '{}' at offset {}: expected array of string, found {}", impl_->path,
             key, kv->offset, describe(kv->value));
    return kv->value.strings();
}

#define EMBER_GGUF_GET(T)                                                          \
    template T File::get<T>(std::string_view) const;                               \
    template std::optional<T> File::get_optional<T>(std::string_view) const;
#define EMBER_GGUF_GET_ARRAY(T) template std::span<const T> File::get_array<T>(std::string_view) const;
EMBER_GGUF_GET(uint8_t) EMBER_GGUF_GET(int8_t) EMBER_GGUF_GET(uint16_t) EMBER_GGUF_GET(int16_t)
EMBER_GGUF_GET(uint32_t) EMBER_GGUF_GET(int32_t) EMBER_GGUF_GET(uint64_t) EMBER_GGUF_GET(int64_t)
EMBER_GGUF_GET(float) EMBER_GGUF_GET(double) EMBER_GGUF_GET(bool)
EMBER_GGUF_GET(std::string_view) EMBER_GGUF_GET(std::string)
EMBER_GGUF_GET_ARRAY(uint8_t) EMBER_GGUF_GET_ARRAY(int8_t) EMBER_GGUF_GET_ARRAY(uint16_t)
EMBER_GGUF_GET_ARRAY(int16_t) EMBER_GGUF_GET_ARRAY(uint32_t) EMBER_GGUF_GET_ARRAY(int32_t)
EMBER_GGUF_GET_ARRAY(uint64_t) EMBER_GGUF_GET_ARRAY(int64_t) EMBER_GGUF_GET_ARRAY(float)
EMBER_GGUF_GET_ARRAY(double)

}  // namespace ember::gguf
