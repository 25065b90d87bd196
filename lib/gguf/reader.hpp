// gguf/reader.hpp - a validated, zero-copy view of a GGUF file (v2 and v3).
//
// Opening a file reads and checks the header, metadata and tensor table (O(metadata));
// tensor data is never touched until a caller reads it through TensorInfo::data.
// Every structural problem is an ember::Error(Errc::invalid_file) naming the field and
// its file offset; nothing asserts or reads out of bounds.
#pragma once

#include "core/dtype.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::gguf {

// Metadata value types, numbered as in the GGUF specification.
enum class ValueType : uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view value_type_name(ValueType t);

// One metadata value. Scalars are decoded when the file is opened; numeric arrays are
// copied out (the file gives no alignment for them); strings and arrays of strings are
// views into the file's bytes, valid as long as the File lives.
class Value {
public:
    ValueType type() const { return type_; }
    ValueType element_type() const { return elem_type_; }  // arrays only
    uint64_t size() const { return count_; }               // arrays only: element count

    // Scalar as T. Integers convert between widths when the value fits; floats accept
    // f32 and f64; bool only from boolean; std::string_view / std::string only from string.
    // nullopt when the stored type cannot be represented as T.
    template <class T> std::optional<T> as() const;

    // Numeric array of exactly element type T (u8 for arrays of bool); empty span if the
    // value is not such an array.
    template <class T> std::span<const T> array() const;
    // Array of strings; empty if the value is not one.
    std::span<const std::string_view> strings() const { return strings_; }
    // Array of arrays (element_type() == array): the inner arrays; empty otherwise.
    std::span<const Value> items() const { return items_; }

    // Internal representation, filled by the reader.
    ValueType type_ = ValueType::u8;
    ValueType elem_type_ = ValueType::u8;
    uint64_t count_ = 0;
    union { uint64_t u; int64_t i; double f; } scalar_{};
    std::string_view string_;
    std::vector<std::string_view> strings_;
    std::vector<uint8_t> array_bytes_;  // numeric array elements, native layout
    std::vector<Value> items_;          // arrays of arrays only
};

struct KeyValue {
    std::string_view key;  // view into the file
    Value value;
    uint64_t offset = 0;   // file offset of the key, for messages
};

struct TensorInfo {
    std::string_view name;           // view into the file
    DType type = DType::f32;
    uint32_t n_dims = 0;
    std::array<uint64_t, 4> ne{1, 1, 1, 1};  // ggml order: ne[0] = row length; unused dims are 1
    uint64_t offset = 0;             // relative to the data section
    uint64_t n_bytes = 0;
    const uint8_t *data = nullptr;   // into the mapping (or the in-memory copy)

    uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    uint64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
};

enum class LoadMode {
    mmap,         // map the file and use weights in place (default)
    mmap_locked,  // map and mlock, so the OS cannot evict weights (falls back to mmap with a warning)
    read,         // read the whole file into anonymous memory (immune to page eviction)
};

struct OpenOptions {
    LoadMode mode = LoadMode::mmap;
};

class File {
public:
    // Open and validate a file. Throws ember::Error (io, invalid_file, unsupported).
    static File open(const std::string &path, const OpenOptions &options = {});
    // Validate bytes already in memory; the caller keeps them alive while the File lives.
    // `name` is used in messages. This is the fuzzing entry point.
    static File parse(std::span<const uint8_t> bytes, std::string name = "<memory>");

    File(File &&) noexcept;
    File &operator=(File &&) noexcept;
    ~File();

    const std::string &path() const;
    uint32_t version() const;
    uint64_t alignment() const;
    uint64_t data_offset() const;            // file offset where tensor data begins
    std::span<const uint8_t> bytes() const;  // the whole file
    // Non-empty when the requested LoadMode was degraded (mlock refused); show it to the user.
    const std::string &warning() const;

    // ---- metadata --------------------------------------------------------------------
    const std::vector<KeyValue> &metadata() const;  // file order
    const Value *find(std::string_view key) const;  // nullptr if absent
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed lookups. get() throws invalid_file naming the key when it is missing, and
    // naming the key, the expected type and the actual one when the type is wrong.
    template <class T> T get(std::string_view key) const;
    template <class T> std::optional<T> get_optional(std::string_view key) const;  // throws only on wrong type
    template <class T> std::span<const T> get_array(std::string_view key) const;    // throws if missing/wrong
    std::span<const std::string_view> get_string_array(std::string_view key) const;

    // ---- tensors ---------------------------------------------------------------------
    const std::vector<TensorInfo> &tensors() const;  // file order
    const TensorInfo *find_tensor(std::string_view name) const;
    const TensorInfo &tensor(std::string_view name) const;  // throws invalid_model naming it

    // Gives back the resident memory under a tensor whose bytes the caller no longer needs
    // (MappedFile::discard on the whole pages inside it). `rereadable`: the bytes may still be
    // read, so they are dropped only where a read brings them back from the file (mmap mode);
    // otherwise TensorInfo::data must never be read again for this tensor (in read mode its
    // pages become zeros). Metadata and other tensors are untouched, hence const. No-op for
    // parse()d files (the caller owns those bytes). Not thread-safe; call while loading.
    // Returns the bytes released.
    uint64_t release(const TensorInfo &tensor, bool rereadable) const;
    // The same for bytes [begin, end) of the tensor's data only (a loader that is done with
    // part of a tensor). Pages shared with the rest of the tensor are kept until released too.
    uint64_t release(const TensorInfo &tensor, uint64_t begin, uint64_t end, bool rereadable) const;
    // Whether the page holding file offset `offset` was released (page_in skips those).
    bool released(uint64_t offset) const;

private:
    struct Impl;
    explicit File(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ember::gguf
