// gguf/writer.hpp - build GGUF v3 files that ember's reader and llama.cpp both accept.
//
// Used by tests, the quantize tool and benchmarks that make synthetic models. Metadata is
// encoded as it is set; tensor data is pulled only while writing, from borrowed bytes, owned
// bytes or a producer callback, so a synthetic multi-GB model never needs to sit in memory.
//
//   gguf::Writer w;
//   w.set_string(gguf::key::architecture, "llama");
//   w.set_u32(gguf::arch_key("llama", gguf::arch::block_count), 2);
//   w.add_tensor("token_embd.weight", DType::f32, {64, 256}, bytes);   // ne in ggml order
//   w.write("/tmp/model.gguf");
#pragma once

#include "core/dtype.hpp"
#include "gguf/reader.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ember::gguf {

class Writer {
public:
    // Receives the file's bytes in order (path writes, to_bytes, or a caller's own sink).
    using Sink = std::function<void(std::span<const uint8_t>)>;
    // Emits one tensor's bytes, in any number of calls to the sink, exactly n_bytes in all.
    using Producer = std::function<void(const Sink &)>;

    // alignment: of every tensor's data (power of two); written as general.alignment when
    // not the GGUF default of 32.
    explicit Writer(uint32_t alignment = 32);

    // GGUF version written: 3 (default) or 2 (identical layout; for testing readers).
    void set_version(uint32_t version);

    // ---- metadata (file order = first-set order; setting a key again replaces its value) --
    void set_u8(std::string_view key, uint8_t v);
    void set_i8(std::string_view key, int8_t v);
    void set_u16(std::string_view key, uint16_t v);
    void set_i16(std::string_view key, int16_t v);
    void set_u32(std::string_view key, uint32_t v);
    void set_i32(std::string_view key, int32_t v);
    void set_u64(std::string_view key, uint64_t v);
    void set_i64(std::string_view key, int64_t v);
    void set_f32(std::string_view key, float v);
    void set_f64(std::string_view key, double v);
    void set_bool(std::string_view key, bool v);
    void set_string(std::string_view key, std::string_view v);
    // Numeric arrays: T is one of uint8_t..int64_t, float, double.
    template <class T> void set_array(std::string_view key, std::span<const T> values);
    void set_bool_array(std::string_view key, std::span<const bool> values);
    void set_string_array(std::string_view key, std::span<const std::string> values);
    void set_string_array(std::string_view key, std::span<const std::string_view> values);
    // Any value read from a file (copying metadata between files). Arrays of arrays are
    // written too, and ember reads them back, but llama.cpp refuses files that contain them.
    void set_value(std::string_view key, const Value &value);
    bool has(std::string_view key) const;
    void remove(std::string_view key);

    // ---- tensors (written in the order added) ----------------------------------------------
    // ne: dimensions in ggml order (ne[0] = row length), 1 to 4 of them. Throws
    // invalid_argument on a bad name (empty, > 63 bytes, duplicate), shape or byte count.
    // Borrowed: `data` must stay valid until the last write.
    void add_tensor(std::string_view name, DType type, std::span<const uint64_t> ne, std::span<const uint8_t> data);
    void add_tensor(std::string_view name, DType type, std::initializer_list<uint64_t> ne, std::span<const uint8_t> data) {
        add_tensor(name, type, std::span<const uint64_t>(ne.begin(), ne.size()), data);
    }
    void add_tensor_owned(std::string_view name, DType type, std::span<const uint64_t> ne, std::vector<uint8_t> data);
    void add_tensor_owned(std::string_view name, DType type, std::initializer_list<uint64_t> ne, std::vector<uint8_t> data) {
        add_tensor_owned(name, type, std::span<const uint64_t>(ne.begin(), ne.size()), std::move(data));
    }
    // Produced: called once per write; must emit exactly the tensor's byte size.
    void add_tensor(std::string_view name, DType type, std::span<const uint64_t> ne, Producer produce);
    void add_tensor(std::string_view name, DType type, std::initializer_list<uint64_t> ne, Producer produce) {
        add_tensor(name, type, std::span<const uint64_t>(ne.begin(), ne.size()), std::move(produce));
    }

    // Bytes the file will have.
    uint64_t file_size() const;

    // ---- output ----------------------------------------------------------------------------
    // Streams to `path` through a temporary file renamed into place, so a failed write never
    // leaves a half file under the final name. Throws Errc::io.
    void write(const std::string &path) const;
    std::vector<uint8_t> to_bytes() const;
    void write(const Sink &sink) const;

private:
    struct Entry {
        std::string key;
        std::vector<uint8_t> encoded;  // type id + value, as in the file
    };
    struct Tensor {
        std::string name;
        DType type;
        std::vector<uint64_t> ne;
        uint64_t n_bytes;
        std::span<const uint8_t> borrowed;
        std::vector<uint8_t> owned;
        Producer produce;
    };
    void put(std::string_view key, std::vector<uint8_t> encoded);
    Tensor &new_tensor(std::string_view name, DType type, std::span<const uint64_t> ne);
    uint64_t header_size() const;

    uint32_t version_ = 3;
    uint32_t alignment_ = 32;
    std::vector<Entry> entries_;
    std::vector<Tensor> tensors_;
};

}  // namespace ember::gguf
