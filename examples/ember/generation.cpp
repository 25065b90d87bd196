// Options, loading and interrupts shared by `ember run` and `ember chat`.
#include "generation.hpp"

#include "core/fail.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <unistd.h>

namespace ember::cli {

std::vector<std::vector<std::string>> generation_valued_options() {
    return {{"--model", "-m"},     {"--n-predict", "-n"},   {"--temp"},
            {"--seed", "-s"},      {"--threads", "-t"},     {"--top-k"},
            {"--top-p"},           {"--min-p"},             {"--typical-p"},
            {"--repeat-penalty"},  {"--repeat-last-n"},     {"--presence-penalty"},
            {"--frequency-penalty"}, {"--ctx-size", "-c"}, {"--batch-size", "-b"},
            {"--kv-type"},         {"--stop"}};
}

std::vector<std::vector<std::string>> generation_flag_options() { return {{"--no-mmap"}, {"--mlock"}, {"--help", "-h"}}; }

const char *const generation_help =
    "model and session:\n"
    "  -m, --model FILE        the GGUF model file (required)\n"
    "  -c, --ctx-size N        context length in tokens (default: the model's, at most 4096)\n"
    "  -t, --threads N         CPU threads (default: all)\n"
    "  -b, --batch-size N      prompt tokens per step (default 512)\n"
    "      --kv-type f16|f32   KV cache precision (default f16)\n"
    "      --no-mmap           read the file into memory instead of mapping it\n"
    "      --mlock             keep the mapped weights in RAM\n"
    "sampling (applied in this order: penalties, top-k, typical-p, top-p, min-p, temperature):\n"
    "  -n, --n-predict N       stop after N new tokens (default: no limit, -1)\n"
    "      --temp T            randomness; 0 always picks the most likely token (greedy)\n"
    "  -s, --seed S            random seed: the same seed gives the same text (default 0)\n"
    "      --top-k K           sample from the K most likely tokens (default 40; 0 = off)\n"
    "      --top-p P           ... the smallest set holding P of the probability (default 0.95)\n"
    "      --min-p P           drop tokens below P x the best one's probability (default 0.05)\n"
    "      --typical-p P       locally typical sampling (default 1 = off)\n"
    "      --repeat-penalty R  discourage repeating recent tokens (default 1 = off)\n"
    "      --repeat-last-n N   how many recent tokens the penalties look at (default 64)\n"
    "      --presence-penalty X, --frequency-penalty X   (default 0)\n"
    "      --stop TEXT         stop when the output would contain TEXT\n";

LoadOptions read_load_options(const Args &args) {
    LoadOptions o;
    if (args.has("--no-mmap") && args.has("--mlock"))
        fail(Errc::invalid_argument, "--no-mmap and --mlock exclude each other");
    if (args.has("--no-mmap")) o.mode = LoadMode::read;
    if (args.has("--mlock")) o.mode = LoadMode::mmap_locked;
    return o;
}

SessionOptions read_session_options(const Args &args) {
    SessionOptions o;
    o.n_ctx = static_cast<uint32_t>(args.get_int("--ctx-size", 0, 0, 1 << 24));
    o.n_batch = static_cast<uint32_t>(args.get_int("--batch-size", 512, 1, 1 << 20));
    o.n_threads = static_cast<uint32_t>(args.get_int("--threads", 0, 0, 4096));
    o.seed = static_cast<uint64_t>(args.get_int("--seed", 0, 0, std::numeric_limits<int64_t>::max()));
    const std::string kv = args.get_or("--kv-type", "f16");
    if (kv == "f16") o.kv_type = KvType::f16;
    else if (kv == "f32") o.kv_type = KvType::f32;
    else fail(Errc::invalid_argument, "--kv-type must be f16 or f32, got '{}'", kv);
    return o;
}

GenerateOptions read_generate_options(const Args &args, float default_temperature) {
    GenerateOptions g;
    g.max_tokens = static_cast<int32_t>(args.get_int("--n-predict", -1, -1, std::numeric_limits<int32_t>::max()));
    auto &s = g.sampling;
    s.temperature = static_cast<float>(args.get_double("--temp", default_temperature, 0.0, 1e6));
    s.top_k = static_cast<int32_t>(args.get_int("--top-k", s.top_k, 0, std::numeric_limits<int32_t>::max()));
    s.top_p = static_cast<float>(args.get_double("--top-p", s.top_p, 0.0, 1.0));
    s.min_p = static_cast<float>(args.get_double("--min-p", s.min_p, 0.0, 1.0));
    s.typical_p = static_cast<float>(args.get_double("--typical-p", s.typical_p, 0.0, 1.0));
    s.repeat_penalty = static_cast<float>(args.get_double("--repeat-penalty", s.repeat_penalty, 1e-6, 1e6));
    s.penalty_last_n = static_cast<int32_t>(args.get_int("--repeat-last-n", s.penalty_last_n, -1, 1 << 24));
    s.presence_penalty = static_cast<float>(args.get_double("--presence-penalty", 0.0, -1e6, 1e6));
    s.frequency_penalty = static_cast<float>(args.get_double("--frequency-penalty", 0.0, -1e6, 1e6));
    if (auto stop = args.get("--stop")) {
        if (stop->empty()) fail(Errc::invalid_argument, "--stop needs a non-empty TEXT");
        g.stop.push_back(*stop);
    }
    return g;
}

std::string model_path(const Args &args, const char *command) {
    auto path = args.get("--model");
    if (!path || path->empty())
        fail(Errc::invalid_argument,
             "no model given: use -m FILE.gguf (scripts/fetch-models downloads a small one; ember {} --help)",
             command);
    std::error_code ec;
    if (!std::filesystem::exists(*path, ec))
        fail(Errc::io, "model file '{}' does not exist", *path);
    return *path;
}

Model load_model(const std::string &path, const LoadOptions &options) {
    const bool tty = isatty(STDERR_FILENO) != 0;
    const auto t0 = std::chrono::steady_clock::now();
    LoadOptions o = options;
    int last_percent = -1;
    if (tty) {
        o.progress = [&](float fraction) {
            const int percent = static_cast<int>(fraction * 100.0f);
            if (percent != last_percent) {
                last_percent = percent;
                const int filled = percent * 30 / 100;
                fmt::print(stderr, "\rloading [{:#<{}}{:.<{}}] {:3}%", "", filled, "", 30 - filled, percent);
                std::fflush(stderr);
            }
            return true;
        };
    }
    Model model = Model::load(path, o);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const ModelInfo &info = model.info();
    fmt::print(stderr, "{}loaded {} ({}, {:.1f}M parameters, {:.1f} MiB) in {:.0f} ms\n", tty ? "\r\033[K" : "",
               info.name.empty() ? std::filesystem::path(path).filename().string() : info.name, info.architecture,
               static_cast<double>(info.n_params) / 1e6, static_cast<double>(info.n_bytes) / (1 << 20), ms);
    return model;
}

// ---- Ctrl-C --------------------------------------------------------------------------------

namespace {
std::atomic<Session *> interrupt_session{nullptr};
std::atomic<bool> interrupt_generating{false};
static_assert(std::atomic<Session *>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

extern "C" void on_sigint(int) {
    Session *s = interrupt_session.load();
    if (s && interrupt_generating.load()) {
        s->cancel();  // an atomic store: safe in a signal handler
        return;
    }
    const char newline = '\n';
    (void)!write(STDERR_FILENO, &newline, 1);
    _exit(130);
}
}  // namespace

InterruptGuard::InterruptGuard(Session &session) {
    interrupt_session.store(&session);
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a Ctrl-C during the next line's read does not break getline
    sigaction(SIGINT, &sa, nullptr);
}

InterruptGuard::~InterruptGuard() {
    std::signal(SIGINT, SIG_DFL);
    interrupt_session.store(nullptr);
}

void InterruptGuard::generating(bool on) { interrupt_generating.store(on); }

void print_timings(const Result &r) {
    fmt::print(stderr, "[{} tokens in {:.2f} s, {:.1f} tok/s; prompt {} tokens at {:.1f} tok/s{}]\n",
               r.timings.generated_tokens, r.timings.generate_ms / 1000.0, r.timings.generated_tokens_per_second(),
               r.timings.prompt_tokens, r.timings.prompt_tokens_per_second(),
               r.timings.reused_tokens ? fmt::format(", {} reused", r.timings.reused_tokens) : std::string());
}

}  // namespace ember::cli
