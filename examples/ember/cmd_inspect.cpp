// ember inspect FILE [--json] [--arrays N] - what is inside a GGUF file, at a glance.
//
// Header, metadata (long arrays and strings abbreviated), tensor table (name, type, shape,
// size) and totals. Opening is O(metadata): no tensor data is read.
#include "args.hpp"
#include "command.hpp"
#include "memory_fit.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>

namespace ember::cli {
namespace {

using gguf::Value;
using gguf::ValueType;

std::string human_bytes(uint64_t n) {
    if (n < 1024) return fmt::format("{} B", n);
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n) / 1024;
    int u = 0;
    while (v >= 1024 && u < 3) v /= 1024, ++u;
    return fmt::format("{:.2f} {}", v, units[u]);
}

std::string human_count(uint64_t n) {
    if (n < 1000) return fmt::format("{}", n);
    const char *units[] = {"K", "M", "G", "T"};
    double v = static_cast<double>(n) / 1000;
    int u = 0;
    while (v >= 1000 && u < 3) v /= 1000, ++u;
    return fmt::format("{:.2f} {}", v, units[u]);
}

std::string shape_text(const gguf::TensorInfo &t) {
    std::string s;
    for (uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d ? " x " : "", t.ne[d]);
    return s.empty() ? "scalar" : s;
}

// ---- text ----------------------------------------------------------------------------------
std::string scalar_text(const Value &v, size_t max_string) {
    switch (v.type()) {
    case ValueType::u8: case ValueType::u16: case ValueType::u32: case ValueType::u64:
        return fmt::format("{}", *v.as<uint64_t>());
    case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64:
        return fmt::format("{}", *v.as<int64_t>());
    case ValueType::f32: return fmt::format("{}", *v.as<float>());
    case ValueType::f64: return fmt::format("{}", *v.as<double>());
    case ValueType::boolean: return *v.as<bool>() ? "true" : "false";
    case ValueType::string: return fmt::format("\"{}\"", gguf::printable(*v.as<std::string_view>(), max_string));
    case ValueType::array: break;
    }
    return "?";
}

std::string element_text(const Value &v, uint64_t i, size_t max_string) {
    switch (v.element_type()) {
    case ValueType::string: return fmt::format("\"{}\"", gguf::printable(v.strings()[i], max_string));
    case ValueType::u8: return fmt::format("{}", v.array<uint8_t>()[i]);
    case ValueType::boolean: return v.array<uint8_t>()[i] ? "true" : "false";
    case ValueType::i8: return fmt::format("{}", v.array<int8_t>()[i]);
    case ValueType::u16: return fmt::format("{}", v.array<uint16_t>()[i]);
    case ValueType::i16: return fmt::format("{}", v.array<int16_t>()[i]);
    case ValueType::u32: return fmt::format("{}", v.array<uint32_t>()[i]);
    case ValueType::i32: return fmt::format("{}", v.array<int32_t>()[i]);
    case ValueType::u64: return fmt::format("{}", v.array<uint64_t>()[i]);
    case ValueType::i64: return fmt::format("{}", v.array<int64_t>()[i]);
    case ValueType::f32: return fmt::format("{}", v.array<float>()[i]);
    case ValueType::f64: return fmt::format("{}", v.array<double>()[i]);
    case ValueType::array: return fmt::format("[{} x {}]", v.items()[i].size(), gguf::value_type_name(v.items()[i].element_type()));
    }
    return "?";
}

std::string type_text(const Value &v) {
    if (v.type() != ValueType::array) return std::string(gguf::value_type_name(v.type()));
    return fmt::format("[{} x {}]", v.size(), gguf::value_type_name(v.element_type()));
}

std::string value_text(const Value &v, uint64_t max_items) {
    if (v.type() != ValueType::array) return scalar_text(v, 72);
    std::string s;
    const uint64_t shown = std::min(v.size(), max_items);
    for (uint64_t i = 0; i < shown; ++i) s += (i ? ", " : "") + element_text(v, i, 24);
    if (shown < v.size()) s += fmt::format("{}... ({} more)", shown ? ", " : "", v.size() - shown);
    return s;
}

struct Totals {
    uint64_t params = 0, bytes = 0;
    std::map<std::string_view, uint64_t> by_type;  // tensor count per type
};

Totals totals_of(const gguf::File &f) {
    Totals t;
    for (const auto &ti : f.tensors()) {
        t.params += ti.n_elements();
        t.bytes += ti.n_bytes;
        ++t.by_type[dtype_name(ti.type)];
    }
    return t;
}

void print_text(const gguf::File &f, uint64_t max_items) {
    const auto arch = f.get_optional<std::string_view>(gguf::key::architecture);
    const auto name = f.get_optional<std::string_view>(gguf::key::name);
    fmt::print("{}\n", f.path());
    fmt::print("  GGUF v{}, {}, {}{}\n", f.version(), human_bytes(f.bytes().size()),
               arch ? fmt::format("architecture {}", gguf::printable(*arch)) : "no architecture",
               name ? fmt::format(", \"{}\"", gguf::printable(*name)) : "");
    fmt::print("  {} metadata keys, {} tensors, alignment {}, tensor data at offset {}\n\n", f.metadata().size(),
               f.tensors().size(), f.alignment(), f.data_offset());

    size_t key_w = 3;
    for (const auto &kv : f.metadata()) key_w = std::max(key_w, std::min<size_t>(gguf::printable(kv.key).size(), 48));
    fmt::print("metadata\n");
    for (const auto &kv : f.metadata())
        fmt::print("  {:<{}}  {:<18}  {}\n", gguf::printable(kv.key, 48), key_w, type_text(kv.value),
                   value_text(kv.value, max_items));

    size_t name_w = 4;
    for (const auto &t : f.tensors()) name_w = std::max(name_w, std::min<size_t>(t.name.size(), 48));
    fmt::print("\ntensors (shape in ggml order: row length first)\n");
    if (f.tensors().empty()) fmt::print("  (none: a vocabulary-only file)\n");
    else fmt::print("  {:<{}}  {:<7}  {:<22}  {:>11}\n", "name", name_w, "type", "shape", "size");
    for (const auto &t : f.tensors())
        fmt::print("  {:<{}}  {:<7}  {:<22}  {:>11}\n", gguf::printable(t.name, 48), name_w, dtype_name(t.type),
                   shape_text(t), human_bytes(t.n_bytes));

    const Totals tot = totals_of(f);
    std::string types;
    for (const auto &[type, n] : tot.by_type) types += fmt::format("{}{} {}", types.empty() ? "" : ", ", n, type);
    fmt::print("\ntotals\n");
    fmt::print("  parameters   {} ({})\n", human_count(tot.params), tot.params);
    fmt::print("  tensor data  {} ({} bytes)\n", human_bytes(tot.bytes), tot.bytes);
    if (tot.params > 0)
        fmt::print("  bits/weight  {:.2f}\n", 8.0 * static_cast<double>(tot.bytes) / static_cast<double>(tot.params));
    if (!types.empty()) fmt::print("  types        {}\n", types);
    if (auto fit = memory_fit(f)) fmt::print("  memory       {}\n", memory_fit_text(*fit));
}

// ---- JSON ----------------------------------------------------------------------------------
nlohmann::ordered_json value_json(const Value &v, uint64_t max_items);

nlohmann::ordered_json element_json(const Value &v, uint64_t i, uint64_t max_items) {
    switch (v.element_type()) {
    case ValueType::string: return std::string(v.strings()[i]);
    case ValueType::boolean: return v.array<uint8_t>()[i] != 0;
    case ValueType::u8: return v.array<uint8_t>()[i];
    case ValueType::i8: return v.array<int8_t>()[i];
    case ValueType::u16: return v.array<uint16_t>()[i];
    case ValueType::i16: return v.array<int16_t>()[i];
    case ValueType::u32: return v.array<uint32_t>()[i];
    case ValueType::i32: return v.array<int32_t>()[i];
    case ValueType::u64: return v.array<uint64_t>()[i];
    case ValueType::i64: return v.array<int64_t>()[i];
    case ValueType::f32: return v.array<float>()[i];
    case ValueType::f64: return v.array<double>()[i];
    case ValueType::array: return value_json(v.items()[i], max_items);
    }
    return nullptr;
}

nlohmann::ordered_json value_json(const Value &v, uint64_t max_items) {
    switch (v.type()) {
    case ValueType::u8: case ValueType::u16: case ValueType::u32: case ValueType::u64: return *v.as<uint64_t>();
    case ValueType::i8: case ValueType::i16: case ValueType::i32: case ValueType::i64: return *v.as<int64_t>();
    case ValueType::f32: case ValueType::f64: return *v.as<double>();
    case ValueType::boolean: return *v.as<bool>();
    case ValueType::string: return std::string(*v.as<std::string_view>());
    case ValueType::array: {
        nlohmann::ordered_json items = nlohmann::ordered_json::array();
        for (uint64_t i = 0; i < std::min(v.size(), max_items); ++i) items.push_back(element_json(v, i, max_items));
        return {{"element_type", gguf::value_type_name(v.element_type())}, {"count", v.size()},
                {"values", std::move(items)}, {"truncated", v.size() > max_items}};
    }
    }
    return nullptr;
}

void print_json(const gguf::File &f, uint64_t max_items) {
    nlohmann::ordered_json j;
    j["path"] = f.path();
    j["version"] = f.version();
    j["file_size"] = f.bytes().size();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    nlohmann::ordered_json md = nlohmann::ordered_json::array();
    for (const auto &kv : f.metadata())
        md.push_back({{"key", std::string(kv.key)}, {"type", gguf::value_type_name(kv.value.type())},
                      {"value", value_json(kv.value, max_items)}});
    j["metadata"] = std::move(md);
    nlohmann::ordered_json ts = nlohmann::ordered_json::array();
    for (const auto &t : f.tensors()) {
        std::vector<uint64_t> shape(t.ne.begin(), t.ne.begin() + t.n_dims);
        ts.push_back({{"name", std::string(t.name)}, {"type", dtype_name(t.type)}, {"shape", shape},
                      {"offset", t.offset}, {"bytes", t.n_bytes}});
    }
    j["tensors"] = std::move(ts);
    const Totals tot = totals_of(f);
    j["totals"] = {{"params", tot.params}, {"bytes", tot.bytes},
                   {"bits_per_weight", tot.params ? 8.0 * static_cast<double>(tot.bytes) / static_cast<double>(tot.params) : 0.0}};
    if (auto fit = memory_fit(f)) j["memory"] = memory_fit_json(*fit);
    // Invalid UTF-8 in a value is replaced (U+FFFD) rather than failing the whole dump.
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

int run_inspect(int argc, char **argv) {
    Args args(argc, argv, {{"--json"}, {"--help", "-h"}}, {{"--arrays"}});
    if (args.has("--help")) {
        fmt::print("usage: ember inspect FILE [--json] [--arrays N]\n\n"
                   "Show a GGUF file's header, metadata, tensors and totals without reading tensor data.\n"
                   "  --json        machine-readable output\n"
                   "  --arrays N    array elements shown per value (default 8)\n");
        return 0;
    }
    if (args.positional().size() != 1)
        fail(Errc::invalid_argument, "expected exactly one FILE (usage: ember inspect FILE [--json])");
    const auto max_items = static_cast<uint64_t>(args.get_int("--arrays", 8, 0, 1'000'000'000));
    const gguf::File f = gguf::File::open(args.positional()[0]);
    if (!f.warning().empty()) fmt::print(stderr, "warning: {}\n", f.warning());
    if (args.has("--json")) print_json(f, max_items);
    else print_text(f, max_items);
    return 0;
}

}  // namespace

EMBER_COMMAND("inspect", "show a GGUF file's metadata and tensors", 50, run_inspect);

}  // namespace ember::cli
