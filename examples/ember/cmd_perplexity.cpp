// ember perplexity - how well a model predicts a text, by llama-perplexity's protocol.
//
//   ember perplexity -m FILE -f TEXT [-c 512] [--chunks K] [-b N] [-t N] [--json]
//
// The protocol (so the figure matches llama-perplexity's on the same file and settings):
// the whole text is tokenized once, with the model's BOS rule; it is cut into windows of
// exactly n_ctx tokens at stride n_ctx (a tail shorter than a window is dropped); when the
// model adds a BOS, each window's first token is replaced by BOS; each window is evaluated
// from an empty cache, and only its second half is scored — the prediction at positions
// n_ctx/2 .. n_ctx-2 of the token that follows — so every scored token has at least n_ctx/2
// tokens of context. PPL = exp(mean NLL); the uncertainty is the standard error of the mean
// NLL, times PPL.
//
// --score-all is the other common protocol (Hugging Face's, and tests/data/reference's
// *.ppl-*.json): windows of BOS + n_ctx-1 text tokens at stride n_ctx-1, every next token
// scored.
#include "args.hpp"
#include "command.hpp"

#include "core/fail.hpp"
#include "models/model.hpp"
#include "runtime/session.hpp"
#include "tokenizer/tokenizer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ember::cli {
namespace {

constexpr std::string_view k_help = R"(usage: ember perplexity -m FILE -f TEXT [options]

Perplexity of a model over a text file, computed as llama-perplexity does (same windows,
same BOS handling, second half of each window scored), so the figures can be compared.

  -m, --model FILE     GGUF model
  -f, --file TEXT      UTF-8 text to score (e.g. wikitext-2's wiki.test.raw)
  -c, --ctx-size N     window length in tokens (default 512)
  --chunks K           score only the first K windows (default: all)
  -b, --batch-size N   tokens per forward pass (default min(N_CTX, 512))
  -t, --threads N      threads (default: all cores)
  --kv f16|f32         KV cache type (default f16, as llama-perplexity)
  -mmp, --mmap 0|1     1: map the file (default); 0: read it into memory
  --no-mmap            same as -mmp 0
  --score-all          windows of BOS + N_CTX-1 text tokens, every next token scored
  --json               print a JSON object instead of the final line

Progress goes to stderr; stdout gets `Final estimate: PPL = X +/- Y` (or the JSON).
)";

std::string read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Errc::io, "{}: cannot open the text file", path);
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) fail(Errc::io, "{}: read failed", path);
    return ss.str();
}

// -log p(target) under softmax(logits), as llama-perplexity computes it: max in f32,
// exponentials in f32 summed in f64.
double nll_of(std::span<const float> logits, int32_t target) {
    float max = logits[0];
    for (float v : logits) max = std::max(max, v);
    double sum = 0.0;
    for (float v : logits) sum += std::exp(v - max);
    return -(double(logits[size_t(target)] - max) - std::log(sum));
}

struct Plan {
    std::vector<int32_t> tokens;  // the tokenized text (with BOS first when the model adds one)
    int64_t n_ctx = 0;
    int64_t stride = 0;           // window i starts at tokens[i * stride]
    int64_t window_text = 0;      // text tokens per window (n_ctx, or n_ctx - 1 with a BOS prepended)
    bool prepend_bos = false;     // --score-all: BOS + window_text tokens
    bool replace_bos = false;     // llama-perplexity: first token of each window becomes BOS
    int64_t first = 0;            // first scored position (its logits predict position + 1)
    int64_t n_chunk = 0;
};

int run_perplexity(int argc, char **argv) {
    const Args args(argc, argv, {{"--json"}, {"--no-mmap"}, {"--score-all"}, {"-h", "--help"}},
                    {{"-m", "--model"}, {"-f", "--file"}, {"-c", "--ctx-size"}, {"--chunks"},
                     {"-b", "--batch-size"}, {"-t", "--threads"}, {"--kv"}, {"-mmp", "--mmap"}});
    if (args.has("-h")) {
        fmt::print("{}", k_help);
        return 0;
    }
    if (!args.positional().empty())
        fail(Errc::invalid_argument, "unexpected argument '{}' (see ember perplexity --help)",
             args.positional().front());
    const auto model_path = args.get("-m");
    const auto text_path = args.get("-f");
    if (!model_path || !text_path)
        fail(Errc::invalid_argument, "give a model (-m FILE) and a text (-f TEXT); see --help");
    const int64_t n_ctx = args.get_int("-c", 512, 8, 1 << 20);
    const int64_t max_chunks = args.get_int("--chunks", -1, -1, int64_t(1) << 40);
    const int64_t n_batch = args.get_int("-b", std::min<int64_t>(n_ctx, 512), 1, 1 << 20);
    const int n_threads = int(args.get_int("-t", std::max(1u, std::thread::hardware_concurrency()), 1, 1024));
    const std::string kv = args.get_or("--kv", "f16");
    if (kv != "f16" && kv != "f32")
        fail(Errc::invalid_argument, "option --kv must be f16 or f32, got '{}'", kv);
    const bool use_mmap = args.get_int("-mmp", 1, 0, 1) == 1 && !args.has("--no-mmap");
    const bool score_all = args.has("--score-all");
    const bool json = args.has("--json");

    const std::string text = read_text(*text_path);
    models::LoadOptions lo;
    lo.mode = use_mmap ? gguf::LoadMode::mmap : gguf::LoadMode::read;
    const std::shared_ptr<const models::Model> model = models::Model::load(*model_path, lo);
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(model->file());
    const bool has_bos = tok.add_bos() && tok.bos() != tokenizer::k_no_token;

    // ---- windows ---------------------------------------------------------------------------
    const auto t_tok = std::chrono::steady_clock::now();
    Plan plan;
    plan.n_ctx = n_ctx;
    tokenizer::EncodeOptions eo;
    eo.add_special = !score_all;  // llama-perplexity tokenizes with the model's BOS rule
    plan.tokens = tok.encode(text, eo);
    fmt::print(stderr, "perplexity: {} tokens in {:.2f} s\n", plan.tokens.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t_tok).count());
    if (score_all) {
        plan.prepend_bos = has_bos;
        plan.window_text = has_bos ? n_ctx - 1 : n_ctx;
        plan.stride = plan.window_text;
        plan.first = 0;
    } else {
        plan.replace_bos = has_bos;
        plan.window_text = n_ctx;
        plan.stride = n_ctx;
        plan.first = n_ctx / 2;
        // llama-perplexity refuses a text shorter than two windows; so do we, to match it.
        if (int64_t(plan.tokens.size()) < 2 * n_ctx)
            fail(Errc::invalid_argument,
                 "{}: {} tokens; perplexity with a context of {} needs at least {}", *text_path,
                 plan.tokens.size(), n_ctx, 2 * n_ctx);
    }
    const int64_t n_chunk_max = int64_t(plan.tokens.size()) / plan.stride;
    if (n_chunk_max < 1)
        fail(Errc::invalid_argument, "{}: {} tokens, fewer than one window of {}", *text_path,
             plan.tokens.size(), plan.window_text);
    plan.n_chunk = max_chunks < 0 ? n_chunk_max : std::min(max_chunks, n_chunk_max);
    if (plan.n_chunk == 0) fail(Errc::invalid_argument, "--chunks 0: nothing to score");

    runtime::SessionOptions so;
    so.n_ctx = n_ctx;
    so.n_batch = std::min(n_batch, n_ctx);
    so.n_threads = n_threads;
    so.kv_type = kv == "f32" ? ops::KvType::f32 : ops::KvType::f16;
    runtime::Session session(model, so);
    const int64_t n_vocab = session.n_vocab();
    const int64_t n_scored_per = n_ctx - 1 - plan.first;
    fmt::print(stderr, "perplexity: {} windows of {} tokens (of {} available), {} scored per window{}\n",
               plan.n_chunk, n_ctx, n_chunk_max, n_scored_per,
               score_all ? " (--score-all)" : "");

    // ---- scoring ---------------------------------------------------------------------------
    std::vector<float> logits(size_t(std::min(so.n_batch, n_ctx - plan.first) * n_vocab));
    std::vector<int32_t> window(static_cast<size_t>(n_ctx));
    double nll = 0.0, nll2 = 0.0;
    int64_t count = 0;
    std::vector<double> running_ppl;
    const auto t_start = std::chrono::steady_clock::now();
    for (int64_t c = 0; c < plan.n_chunk; ++c) {
        const int32_t *src = plan.tokens.data() + c * plan.stride;
        if (plan.prepend_bos) {
            window[0] = tok.bos();
            std::copy(src, src + plan.window_text, window.begin() + 1);
        } else {
            std::copy(src, src + n_ctx, window.begin());
            if (plan.replace_bos) window[0] = tok.bos();
        }
        session.reset();
        // Unscored positions need no logits; the split does not change any value (ember's
        // results do not depend on how a sequence is batched).
        for (int64_t p = 0; p < plan.first; p += so.n_batch) {
            const int64_t n = std::min(so.n_batch, plan.first - p);
            session.decode(std::span<const int32_t>(window.data() + p, size_t(n)));
        }
        for (int64_t p = plan.first; p < n_ctx; p += so.n_batch) {
            const int64_t n = std::min(so.n_batch, n_ctx - p);
            session.decode(std::span<const int32_t>(window.data() + p, size_t(n)),
                           std::span<float>(logits.data(), size_t(n * n_vocab)));
            for (int64_t j = 0; j < n; ++j) {
                const int64_t pos = p + j;
                if (pos >= n_ctx - 1) break;  // the last position predicts past the window
                const double v = nll_of(
                    std::span<const float>(logits.data() + j * n_vocab, size_t(n_vocab)),
                    window[size_t(pos + 1)]);
                nll += v;
                nll2 += v * v;
                ++count;
            }
        }
        running_ppl.push_back(std::exp(nll / double(count)));
        if (c == 0) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
            fmt::print(stderr, "perplexity: {:.2f} seconds per window, ETA {:.1f} minutes\n", s,
                       s * double(plan.n_chunk) / 60.0);
        }
        fmt::print(stderr, "[{}]{:.4f},", c + 1, running_ppl.back());
        std::fflush(stderr);
    }
    fmt::print(stderr, "\n");

    const double mean = nll / double(count);
    const double ppl = std::exp(mean);
    const double var = nll2 / double(count) - mean * mean;
    const double uncertainty = count > 1 && var > 0 ? std::sqrt(var / double(count - 1)) * ppl : 0.0;
    if (json) {
        nlohmann::json out = {
            {"model", *model_path},
            {"text", *text_path},
            {"protocol", score_all ? "score-all" : "llama-perplexity"},
            {"n_ctx", n_ctx},
            {"n_chunks", plan.n_chunk},
            {"n_tokens", plan.tokens.size()},
            {"n_scored", count},
            {"kv_type", kv},
            {"mean_nll", mean},
            {"ppl", ppl},
            {"uncertainty", uncertainty},
            {"running_ppl", running_ppl},
        };
        fmt::print("{}\n", out.dump(2));
    } else {
        fmt::print("Final estimate: PPL = {:.4f} +/- {:.5f}\n", ppl, uncertainty);
    }
    return 0;
}

}  // namespace

EMBER_COMMAND("perplexity", "perplexity of a model over a text (llama-perplexity's protocol)", 70,
              run_perplexity);

}  // namespace ember::cli
