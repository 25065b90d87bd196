// ember bench - prompt-processing and generation speed, measured like llama-bench.
//
//   ember bench -m FILE [-p 512] [-n 128] [-d 0] [-t 1,2] [-r 5] [-mmp 0] [--json]
//   ember bench --synthetic llama-3.2-1b --type q4_0 ...
//
// Each test is llama-bench's: "pp<N>" feeds N random tokens in one batch into an empty cache,
// "tg<N>" decodes N tokens one at a time from an empty cache (the first is BOS when the model
// adds one); one warm-up run, then -r timed repetitions, each from an empty cache.
// t/s = tokens / seconds per run, reported as mean ± sample standard deviation.
// --json prints llama-bench's `-o json` field names for the quantities both tools share
// (model_filename, n_prompt, n_gen, n_threads, avg_ts, stddev_ts, ...), so one script reads
// both. -mmp 0 / --no-mmap reads weights into anonymous memory (ANCHORS.md: idle mapped
// pages get evicted on some hosts); the output says which was used.
#include "args.hpp"
#include "command.hpp"

#include "core/fail.hpp"
#include "gguf/names.hpp"
#include "models/model.hpp"
#include "quant/mix.hpp"
#include "runtime/session.hpp"
#include "runtime/synthetic.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace ember::cli {
namespace {

constexpr std::string_view k_help = R"(usage: ember bench -m FILE [options]
       ember bench --synthetic SHAPE --type TYPE [options]

Measure prompt processing (pp) and generation (tg) speed in tokens per second, the way
llama-bench does, so the two can be compared on the same file.

  -m, --model FILE         GGUF model to measure
  --synthetic SHAPE        make (once, then reuse) a random-weight model of a real shape:
                           llama-3.2-1b, smollm2-135m, qwen3-0.6b or gemma-3-270m
  --type TYPE              its weight type: q4_0 (every matrix Q4_0), q8_0 or q4_k_m
  --layers N               fewer layers than the real shape (quick tries)
  --cache-dir DIR          where synthetic models are kept
                           (default $XDG_CACHE_HOME/ember/synthetic or ~/.cache/ember/synthetic)
  --print-path             only make the synthetic model (if needed) and print its path
  -p, --n-prompt N[,N..]   prompt lengths to test (default 512; 0 skips)
  -n, --n-gen N[,N..]      generation lengths to test (default 128; 0 skips)
  -d, --n-depth N[,N..]    tokens already in the context when each test starts (default 0):
                           filled, untimed, before every run (llama-bench's "tg128 @ d1024")
  -t, --threads N[,N..]    thread counts (default: all cores)
  -r, --repetitions R      timed runs per test (default 5)
  -b, --batch-size N       tokens per forward pass during pp (default 512)
  -mmp, --mmap 0|1         1: map the file (default); 0: read it into memory
  --no-mmap                same as -mmp 0
  --kv f16|f32             KV cache type (default f16)
  --no-warmup              skip the untimed warm-up run
  --json                   print a JSON array (llama-bench -o json field names)

Results go to stdout; progress and notes to stderr.
)";

std::vector<int64_t> int_list(const Args &args, std::string_view name, int64_t fallback,
                              int64_t lo, int64_t hi) {
    const auto text = args.get(name);
    if (!text) return {fallback};
    std::vector<int64_t> out;
    size_t start = 0;
    while (start <= text->size()) {
        const size_t comma = std::min(text->find(',', start), text->size());
        const std::string item = text->substr(start, comma - start);
        char *end = nullptr;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0')
            fail(Errc::invalid_argument, "option {} needs integers separated by commas, got '{}'",
                 name, *text);
        if (v < lo || v > hi)
            fail(Errc::invalid_argument, "option {} values must be in [{}, {}], got {}", name, lo,
                 hi, v);
        out.push_back(v);
        start = comma + 1;
    }
    return out;
}

struct Test {
    int64_t n_prompt = 0, n_gen = 0, n_depth = 0;
    int n_threads = 1;
    std::vector<uint64_t> samples_ns;

    std::string name() const {
        const std::string base = n_prompt > 0 ? fmt::format("pp{}", n_prompt) : fmt::format("tg{}", n_gen);
        return n_depth > 0 ? fmt::format("{} @ d{}", base, n_depth) : base;
    }
    std::vector<double> samples_ts() const {
        std::vector<double> ts;
        for (uint64_t ns : samples_ns) ts.push_back(1e9 * double(n_prompt + n_gen) / double(ns));
        return ts;
    }
};

double mean(const std::vector<double> &v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / double(v.size());
}

double stddev(const std::vector<double> &v) {  // sample standard deviation, as llama-bench
    if (v.size() < 2) return 0.0;
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
}

uint64_t peak_rss_bytes() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return uint64_t(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// 1.24B / 135M / 293K: parameter counts as people say them.
std::string human(double n, std::string_view sep) {
    if (n >= 1e9) return fmt::format("{:.2f}{}B", n / 1e9, sep);
    if (n >= 1e6) return fmt::format("{:.0f}{}M", n / 1e6, sep);
    return fmt::format("{:.0f}{}K", n / 1e3, sep);
}

std::string size_text(uint64_t bytes) {
    const double mib = double(bytes) / (1 << 20);
    return mib >= 1024 ? fmt::format("{:.2f} GiB", mib / 1024) : fmt::format("{:.2f} MiB", mib);
}

struct ModelFacts {
    std::string description;  // "llama 1.24B Q4_0"
    uint64_t size_bytes = 0;  // tensor data, as llama-bench's model_size
    uint64_t n_params = 0;
    int32_t bos = -1;
    bool add_bos = false;
};

ModelFacts describe(const models::Model &model) {
    const gguf::File &f = model.file();
    ModelFacts out;
    for (const auto &t : f.tensors()) {
        out.size_bytes += t.n_bytes;
        out.n_params += t.n_elements();
    }
    // The file type as llama.cpp names it, else the type holding most of the bytes.
    std::string ftype;
    if (auto ft = f.get_optional<uint32_t>(gguf::key::file_type)) {
        for (const auto &info : quant::file_types())
            if (static_cast<uint32_t>(info.ftype) == *ft) ftype = std::string(info.name);
    }
    if (ftype.empty()) {
        std::map<DType, uint64_t> bytes;
        for (const auto &t : f.tensors()) bytes[t.type] += t.n_bytes;
        const auto top = std::max_element(bytes.begin(), bytes.end(),
                                          [](auto &a, auto &b) { return a.second < b.second; });
        ftype = top == bytes.end() ? "?" : upper(dtype_name(top->first));
    }
    out.description = fmt::format("{} {} {}", model.hparams().architecture,
                                  human(double(out.n_params), ""), ftype);
    if (auto bos = f.get_optional<uint32_t>(gguf::key::tokenizer_bos_id)) out.bos = int32_t(*bos);
    out.add_bos = f.get_optional<bool>(gguf::key::tokenizer_add_bos).value_or(false);
    return out;
}

// n random tokens (BOS first when the model adds one and the cache is empty) in batches.
void feed_prompt(runtime::Session &session, int64_t n, const ModelFacts &facts, int64_t n_batch,
                 std::mt19937 &rng) {
    std::uniform_int_distribution<int32_t> pick(0, int32_t(session.n_vocab() - 1));
    std::vector<int32_t> tokens(static_cast<size_t>(n));
    for (auto &tok : tokens) tok = pick(rng);
    if (n > 0 && session.n_past() == 0 && facts.add_bos && facts.bos >= 0) tokens[0] = facts.bos;
    for (int64_t i = 0; i < n; i += n_batch) {
        const int64_t m = std::min(n_batch, n - i);
        session.decode(std::span<const int32_t>(tokens.data() + i, size_t(m)));
    }
}

// One run: llama-bench's test_prompt / test_gen after n_depth untimed tokens; returns the
// nanoseconds of the timed part.
uint64_t run_once(runtime::Session &session, const Test &t, const ModelFacts &facts,
                  int64_t n_batch, std::mt19937 &rng) {
    std::uniform_int_distribution<int32_t> pick(0, int32_t(session.n_vocab() - 1));
    session.reset();
    feed_prompt(session, t.n_depth, facts, n_batch, rng);
    const auto t0 = std::chrono::steady_clock::now();
    feed_prompt(session, t.n_prompt, facts, n_batch, rng);
    int32_t token = session.n_past() == 0 && facts.add_bos && facts.bos >= 0 ? facts.bos : pick(rng);
    for (int64_t i = 0; i < t.n_gen; ++i) {
        session.decode(std::span<const int32_t>(&token, 1));
        token = pick(rng);
    }
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

std::string iso_time() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int run_bench(int argc, char **argv) {
    const Args args(argc, argv, {{"--json"}, {"--no-mmap"}, {"--no-warmup"}, {"--print-path"}, {"-h", "--help"}},
                    {{"-m", "--model"}, {"--synthetic"}, {"--type"}, {"--layers"}, {"--cache-dir"},
                     {"-p", "--n-prompt"}, {"-n", "--n-gen"}, {"-d", "--n-depth"}, {"-t", "--threads"},
                     {"-r", "--repetitions"}, {"-b", "--batch-size"}, {"-mmp", "--mmap"}, {"--kv"}});
    if (args.has("-h")) {
        fmt::print("{}", k_help);
        return 0;
    }
    if (!args.positional().empty())
        fail(Errc::invalid_argument, "unexpected argument '{}' (see ember bench --help)",
             args.positional().front());

    // ---- the model file ----------------------------------------------------------------
    std::string path;
    if (auto shape_name = args.get("--synthetic")) {
        if (args.has("-m")) fail(Errc::invalid_argument, "give either -m or --synthetic, not both");
        const runtime::SyntheticShape &shape = runtime::synthetic_shape(*shape_name);
        const std::string type = args.get_or("--type", "q4_0");
        runtime::SyntheticOptions so;
        runtime::parse_synthetic_type(type, so);
        so.n_layer = int(args.get_int("--layers", 0, 1, 1000));
        const std::filesystem::path dir =
            args.has("--cache-dir") ? std::filesystem::path(*args.get("--cache-dir"))
                                    : runtime::default_synthetic_dir();
        // A terminal gets a live percentage; a log gets a line every 10%.
        const bool tty = ::isatty(STDERR_FILENO) != 0;
        int last_pct = -1;
        so.progress = [&](uint64_t done, uint64_t total) {
            const int pct = int(100 * done / std::max<uint64_t>(total, 1));
            if (tty ? pct != last_pct : pct / 10 != last_pct / 10)
                fmt::print(stderr, "{}ember bench: writing {} {}%{}", tty ? "\r" : "", shape.name,
                           pct, tty ? "" : "\n");
            last_pct = pct;
        };
        path = runtime::ensure_synthetic_model(dir, shape, type, so);
        if (last_pct >= 0 && tty) fmt::print(stderr, "\n");
        fmt::print(stderr, "ember bench: synthetic model {}\n", path);
        if (args.has("--print-path")) {
            fmt::print("{}\n", path);
            return 0;
        }
    } else if (args.has("--print-path")) {
        fail(Errc::invalid_argument, "--print-path goes with --synthetic");
    } else if (auto m = args.get("-m")) {
        path = *m;
    } else {
        fail(Errc::invalid_argument, "no model: give -m FILE or --synthetic SHAPE (see --help)");
    }

    const int64_t mmp = args.get_int("-mmp", 1, 0, 1);
    const bool use_mmap = mmp == 1 && !args.has("--no-mmap");
    const auto n_prompts = int_list(args, "-p", 512, 0, 1 << 20);
    const auto n_gens = int_list(args, "-n", 128, 0, 1 << 20);
    const auto n_depths = int_list(args, "-d", 0, 0, 1 << 20);
    const auto threads = int_list(args, "-t", std::max(1u, std::thread::hardware_concurrency()), 1, 1024);
    const int64_t reps = args.get_int("-r", 5, 1, 1000);
    const int64_t n_batch = args.get_int("-b", 512, 1, 1 << 20);
    const std::string kv_name = args.get_or("--kv", "f16");
    if (kv_name != "f16" && kv_name != "f32")
        fail(Errc::invalid_argument, "option --kv must be f16 or f32, got '{}'", kv_name);
    const bool json = args.has("--json");

    models::LoadOptions lo;
    lo.mode = use_mmap ? gguf::LoadMode::mmap : gguf::LoadMode::read;
    const auto t_load = std::chrono::steady_clock::now();
    const std::shared_ptr<const models::Model> model = models::Model::load(path, lo);
    fmt::print(stderr, "ember bench: loaded {} ({}) in {:.2f} s\n", path,
               use_mmap ? "mmap" : "read into memory, -mmp 0",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
    const ModelFacts facts = describe(*model);

    std::vector<Test> tests;
    for (int64_t t : threads) {
        for (int64_t d : n_depths) {
            for (int64_t p : n_prompts)
                if (p > 0) tests.push_back({p, 0, d, int(t), {}});
            for (int64_t n : n_gens)
                if (n > 0) tests.push_back({0, n, d, int(t), {}});
        }
    }
    if (tests.empty()) fail(Errc::invalid_argument, "nothing to measure: every -p and -n is 0");

    int64_t n_ctx = 0;
    for (const auto &t : tests) n_ctx = std::max(n_ctx, t.n_depth + t.n_prompt + t.n_gen);

    if (!json) {
        fmt::print("| {:<24} | {:>10} | {:>8} | {:>7} | {:>4} | {:>13} | {:>18} |\n", "model", "size",
                   "params", "threads", "mmap", "test", "t/s");
        fmt::print("| {:-<24} | {:->10} | {:->8} | {:->7} | {:->4} | {:->13} | {:->18} |\n", "", "", "",
                   "", "", "", "");
    }
    std::mt19937 rng(1234);
    nlohmann::json rows = nlohmann::json::array();
    uint64_t kv_bytes = 0;
    for (auto &t : tests) {
        runtime::SessionOptions so;
        so.n_ctx = n_ctx;
        so.n_batch = std::min(n_batch, std::max<int64_t>(n_ctx, 1));
        so.n_threads = t.n_threads;
        so.kv_type = kv_name == "f32" ? ops::KvType::f32 : ops::KvType::f16;
        runtime::Session session(model, so);
        kv_bytes = std::max(kv_bytes, session.kv_bytes());
        if (!args.has("--no-warmup")) {
            // llama-bench's warm-up: the whole prompt, or one generated token.
            Test warm = t;
            if (warm.n_gen > 0) warm.n_gen = 1;
            run_once(session, warm, facts, so.n_batch, rng);
        }
        for (int64_t r = 0; r < reps; ++r) {
            if (::isatty(STDERR_FILENO))
                fmt::print(stderr, "\rember bench: {} t={} run {}/{}", t.name(), t.n_threads, r + 1, reps);
            t.samples_ns.push_back(run_once(session, t, facts, so.n_batch, rng));
        }
        if (::isatty(STDERR_FILENO)) fmt::print(stderr, "\r{:60}\r", "");
        const std::vector<double> ts = t.samples_ts();
        if (json) {
            std::vector<double> ns_d(t.samples_ns.begin(), t.samples_ns.end());
            rows.push_back({
                {"build_commit", "ember"},
                {"model_filename", path},
                {"model_type", facts.description},
                {"model_size", facts.size_bytes},
                {"model_n_params", facts.n_params},
                {"n_batch", so.n_batch},
                {"n_threads", t.n_threads},
                {"type_k", kv_name},
                {"type_v", kv_name},
                {"use_mmap", use_mmap},
                {"n_prompt", t.n_prompt},
                {"n_gen", t.n_gen},
                {"n_depth", t.n_depth},
                {"test_time", iso_time()},
                {"avg_ns", uint64_t(mean(ns_d))},
                {"stddev_ns", uint64_t(stddev(ns_d))},
                {"avg_ts", mean(ts)},
                {"stddev_ts", stddev(ts)},
                {"samples_ns", t.samples_ns},
                {"samples_ts", ts},
                {"kv_bytes", session.kv_bytes()},
                {"peak_rss_bytes", peak_rss_bytes()},
            });
        } else {
            fmt::print("| {:<24} | {:>10} | {:>8} | {:>7} | {:>4} | {:>13} | {:>18} |\n",
                       facts.description, size_text(facts.size_bytes),
                       human(double(facts.n_params), " "), t.n_threads,
                       use_mmap ? 1 : 0, t.name(), fmt::format("{:.2f} ± {:.2f}", mean(ts), stddev(ts)));
            std::fflush(stdout);
        }
    }
    if (json) fmt::print("{}\n", rows.dump(2));
    const double mib = 1024.0 * 1024.0;
    fmt::print(stderr, "ember bench: peak RSS {:.1f} MiB (weights {:.1f} MiB, KV cache {:.1f} MiB, {})\n",
               double(peak_rss_bytes()) / mib, double(facts.size_bytes) / mib, double(kv_bytes) / mib,
               use_mmap ? "mapped" : "read into memory");
    return 0;
}

}  // namespace

EMBER_COMMAND("bench", "measure prompt and generation speed (llama-bench compatible)", 60, run_bench);

}  // namespace ember::cli
