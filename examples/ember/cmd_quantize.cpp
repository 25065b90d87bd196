// ember quantize IN OUT TYPE - write a quantized copy of a GGUF model.
//
// TYPE is a llama.cpp file type (Q4_K_M, Q8_0, ...); which tensor gets which format follows
// llama-quantize's rules (lib/quant/mix.hpp), and the quantizers are byte-exact with its
// reference ones, so the output is the file llama-quantize would write from the same input
// (without an importance matrix). All metadata is kept; general.file_type and
// general.quantization_version are set. Tensors are converted while the file is written, a
// slab of rows at a time, in parallel over rows; progress goes to stderr.
#include "args.hpp"
#include "command.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "gguf/reader.hpp"
#include "gguf/writer.hpp"
#include "quant/mix.hpp"
#include "quant/traits.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace ember::cli {
namespace {

using quant::FileType;
using quant::TensorDesc;
using quant::TypeChoice;

// GGML_QNT_VERSION: the block layouts' revision, which llama.cpp checks on load.
constexpr uint32_t k_quantization_version = 2;
// f32 working set per slab of rows; bounds memory for any tensor size.
constexpr uint64_t k_slab_floats = 16ull << 20;

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string shape_text(const gguf::TensorInfo &t) {
    std::string s;
    for (uint32_t d = 0; d < std::max<uint32_t>(t.n_dims, 1); ++d) s += fmt::format("{}{}", d ? " x " : "", t.ne[d]);
    return s;
}

// A scalar integer key, or 0 when absent or not a scalar (per-layer arrays, for instance).
int64_t optional_int(const gguf::File &f, const std::string &key) {
    const gguf::Value *v = f.find(key);
    if (!v) return 0;
    return v->as<int64_t>().value_or(0);
}

quant::ModelFacts model_facts(const gguf::File &f) {
    quant::ModelFacts facts;
    if (const gguf::Value *v = f.find(gguf::key::architecture))
        facts.architecture = std::string(v->as<std::string_view>().value_or(""));
    const std::string &a = facts.architecture;
    facts.n_layer = optional_int(f, gguf::arch_key(a, gguf::arch::block_count));
    facts.n_head = optional_int(f, gguf::arch_key(a, gguf::arch::head_count));
    facts.n_head_kv = optional_int(f, gguf::arch_key(a, gguf::arch::head_count_kv));
    facts.n_expert = optional_int(f, gguf::arch_key(a, "expert_count"));
    return facts;
}

// Progress and totals, shared by the tensor producers (called in file order, one at a time).
struct Progress {
    size_t n_tensors = 0;
    size_t done = 0;
    uint64_t bytes_in = 0, bytes_out = 0;

    void line(const gguf::TensorInfo &t, const TypeChoice &c, uint64_t out_bytes) {
        ++done;
        bytes_in += t.n_bytes;
        bytes_out += out_bytes;
        const std::string types = c.quantize ? fmt::format("{:>5} -> {:<5}", dtype_name(t.type), dtype_name(c.type))
                                             : fmt::format("{:>5} (kept) ", dtype_name(t.type));
        fmt::print(stderr, "[{:>4}/{}] {:<36} {} [{}] {:8.2f} MiB -> {:8.2f} MiB{}\n", done, n_tensors, t.name,
                   types, shape_text(t), mib(t.n_bytes), mib(out_bytes),
                   c.fell_back ? fmt::format("  (row length {} does not fit {}: fell back)", t.ne[0],
                                             dtype_name(c.wanted))
                               : "");
    }
};

// Converts one tensor to `to`, a slab of rows at a time, into the sink.
void convert_tensor(const gguf::TensorInfo &t, DType to, tbb::task_arena &arena, const gguf::Writer::Sink &sink) {
    const quant::TypeTraits &src = quant::traits(t.type);
    const quant::TypeTraits &dst = quant::traits(to);
    const auto row_len = static_cast<int64_t>(t.ne[0]);
    const uint64_t n_rows = t.n_rows();
    const uint64_t src_row_bytes = *row_bytes(t.type, t.ne[0]);  // the reader checked it
    const auto dst_row = row_bytes(to, t.ne[0]);
    if (!dst_row) fail(Errc::internal, "tensor {}: row of {} does not fit {}", t.name, t.ne[0], dtype_name(to));
    const uint64_t slab_rows = std::max<uint64_t>(1, k_slab_floats / t.ne[0]);

    std::vector<float> f32(static_cast<size_t>(std::min(slab_rows, n_rows) * t.ne[0]));
    std::vector<uint8_t> out(static_cast<size_t>(std::min(slab_rows, n_rows) * *dst_row));
    for (uint64_t r0 = 0; r0 < n_rows; r0 += slab_rows) {
        const uint64_t rows = std::min(slab_rows, n_rows - r0);
        std::atomic<uint64_t> bad_row{UINT64_MAX};
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<uint64_t>(0, rows), [&](const tbb::blocked_range<uint64_t> &range) {
                for (uint64_t r = range.begin(); r != range.end(); ++r) {
                    float *x = f32.data() + r * t.ne[0];
                    src.to_float(t.data + (r0 + r) * src_row_bytes, x, row_len);
                    // NaN or infinity would quantize to garbage scales; refuse the file instead.
                    bool finite = true;
                    for (int64_t j = 0; j < row_len; ++j) finite &= std::isfinite(x[j]);
                    if (!finite) {
                        uint64_t expected = UINT64_MAX;
                        bad_row.compare_exchange_strong(expected, r0 + r);
                        continue;
                    }
                    dst.from_float(x, out.data() + r * *dst_row, row_len);
                }
            });
        });
        if (bad_row != UINT64_MAX)
            fail(Errc::invalid_file, "tensor {}: row {} holds a NaN or infinite value", t.name, bad_row.load());
        sink(std::span<const uint8_t>(out.data(), static_cast<size_t>(rows * *dst_row)));
    }
}

int run_quantize(int argc, char **argv) {
    Args args(argc, argv, {{"--pure"}, {"--allow-requantize"}, {"--help", "-h"}}, {{"--threads", "-t"}});
    if (args.has("--help")) {
        fmt::print("usage: ember quantize IN OUT TYPE [--pure] [--allow-requantize] [--threads N]\n\n"
                   "Write a quantized copy of the GGUF model IN to OUT. Tensor types follow llama-quantize's\n"
                   "rules for TYPE, and its output loads in llama.cpp. Progress goes to stderr.\n"
                   "  --pure               every 2-D weight gets TYPE's base type (no mix)\n"
                   "  --allow-requantize   accept inputs that are already quantized (lossy twice)\n"
                   "  --threads N          worker threads (default: all cores)\n\nTYPE:\n");
        for (const quant::FileTypeInfo &i : quant::file_types())
            fmt::print("  {:<8} {}\n", i.name, i.summary);
        fmt::print("  (Q4_K, Q5_K and Q3_K mean Q4_K_M, Q5_K_M and Q3_K_M, as in llama-quantize)\n");
        return 0;
    }
    if (args.positional().size() != 3)
        fail(Errc::invalid_argument, "expected IN OUT TYPE (usage: ember quantize IN OUT TYPE [--pure])");
    const std::string &in_path = args.positional()[0];
    const std::string &out_path = args.positional()[1];
    const auto ftype = quant::parse_file_type(args.positional()[2]);
    if (!ftype)
        fail(Errc::invalid_argument, "unknown TYPE '{}' (ember quantize --help lists them)", args.positional()[2]);
    std::error_code ec;
    if (std::filesystem::equivalent(in_path, out_path, ec))
        fail(Errc::invalid_argument, "OUT must not be the input file ({})", in_path);
    const bool pure = args.has("--pure"), requantize = args.has("--allow-requantize");
    const int threads = static_cast<int>(args.get_int("--threads", tbb::this_task_arena::max_concurrency(), 1, 1024));
    const auto start = std::chrono::steady_clock::now();

    const gguf::File in = gguf::File::open(in_path);
    if (!in.warning().empty()) fmt::print(stderr, "warning: {}\n", in.warning());

    // Plan every tensor's type, in llama.cpp's processing (and output) order.
    std::vector<std::string> names;
    for (const gguf::TensorInfo &t : in.tensors()) names.emplace_back(t.name);
    const std::vector<size_t> order = quant::quantize_order(names);
    std::vector<TensorDesc> descs;
    for (size_t i : order) {
        const gguf::TensorInfo &t = in.tensors()[i];
        descs.push_back({names[i], t.type, t.n_dims, t.ne});
    }
    const std::vector<TypeChoice> plan = quant::plan_types(*ftype, model_facts(in), descs, pure);

    // Check every conversion up front, so a bad input fails before any work.
    for (size_t k = 0; k < order.size(); ++k) {
        const gguf::TensorInfo &t = in.tensors()[order[k]];
        if (!plan[k].quantize) continue;
        const quant::TypeTraits *src = quant::find_traits(t.type);
        if (!src) fail(Errc::unsupported, "tensor {}: cannot read type {} to convert it", t.name, dtype_name(t.type));
        if (src->quantized && !requantize)
            fail(Errc::unsupported, "tensor {} is already {}; requantizing loses accuracy twice "
                 "(pass --allow-requantize to do it anyway)", t.name, dtype_name(t.type));
        quant::traits(plan[k].type);
    }

    // Metadata: everything from the input, in order, then the two keys llama.cpp (re)sets
    // at the end. general.alignment is the writer's to set (the data is laid out with it).
    const uint64_t alignment = in.alignment();
    gguf::Writer w(static_cast<uint32_t>(alignment));
    for (const gguf::KeyValue &kv : in.metadata())
        if (kv.key != gguf::key::alignment) w.set_value(kv.key, kv.value);
    w.remove(gguf::key::quantization_version);
    w.set_u32(gguf::key::quantization_version, k_quantization_version);
    w.remove(gguf::key::file_type);
    w.set_u32(gguf::key::file_type, static_cast<uint32_t>(*ftype));

    tbb::task_arena arena(threads);
    Progress progress;
    progress.n_tensors = order.size();
    for (size_t k = 0; k < order.size(); ++k) {
        const gguf::TensorInfo &t = in.tensors()[order[k]];
        const TypeChoice choice = plan[k];
        const std::span<const uint64_t> ne(t.ne.data(), std::max<uint32_t>(t.n_dims, 1));
        w.add_tensor(t.name, choice.type, ne, [&t, choice, &arena, &progress](const gguf::Writer::Sink &sink) {
            uint64_t out_bytes = t.n_bytes;
            if (!choice.quantize) {
                sink(std::span<const uint8_t>(t.data, t.n_bytes));
            } else {
                out_bytes = *row_bytes(choice.type, t.ne[0]) * t.n_rows();
                convert_tensor(t, choice.type, arena, sink);
            }
            progress.line(t, choice, out_bytes);
        });
    }
    w.write(out_path);

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "ember quantize: {} -> {} ({}): {} tensors, {:.2f} MiB -> {:.2f} MiB in {:.1f} s\n", in_path,
               out_path, quant::file_type_info(*ftype).name, progress.n_tensors, mib(progress.bytes_in),
               mib(progress.bytes_out), seconds);
    return 0;
}

}  // namespace

EMBER_COMMAND("quantize", "write a quantized copy of a GGUF model (Q4_K_M, Q8_0, ...)", 60, run_quantize);

}  // namespace ember::cli
