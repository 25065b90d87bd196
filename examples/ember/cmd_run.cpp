// ember run -m FILE -p PROMPT - continue one prompt, streaming the text to stdout.
//
// stdout carries only the generated text (so `ember run ... > out.txt` keeps just that);
// loading, timings and errors go to stderr. Ctrl-C stops the generation cleanly.
#include "args.hpp"
#include "command.hpp"
#include "generation.hpp"

#include "core/fail.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>

namespace ember::cli {
namespace {

constexpr const char *run_usage =
    "usage: ember run -m FILE [-p PROMPT | -f FILE] [options]\n"
    "\n"
    "Continue PROMPT with the model and print the new text as it is generated. Only that text\n"
    "goes to stdout; progress and timings go to stderr. Without a prompt the model starts from\n"
    "its beginning-of-text token alone. For a conversation with an instruction-tuned model, use\n"
    "--chat (one turn, with the model's chat template) or `ember chat`.\n"
    "\n"
    "examples:\n"
    "  ember run -m model.gguf -p \"Once upon a time\" -n 64\n"
    "  ember run -m model.gguf -p \"The capital of France is\" --temp 0     (greedy)\n"
    "  ember run -m SmolLM2-135M-Instruct.Q4_1.gguf --chat -p \"What is a star?\"\n"
    "\n"
    "prompt:\n"
    "  -p, --prompt TEXT       the text to continue (default: empty)\n"
    "  -f, --file FILE         read the prompt from FILE\n"
    "      --chat              treat PROMPT as a user message in the model's chat template\n"
    "      --system TEXT       system message for --chat\n"
    "  -q, --quiet             no timings on stderr\n";

std::string read_prompt(const Args &args) {
    if (args.has("--prompt") && args.has("--file")) fail(Errc::invalid_argument, "give -p or -f, not both");
    if (auto file = args.get("--file")) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) fail(Errc::io, "cannot read the prompt file '{}'", *file);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    return args.get_or("--prompt", "");
}

int run_run(int argc, char **argv) {
    auto valued = generation_valued_options();
    valued.push_back({"--prompt", "-p"});
    valued.push_back({"--file", "-f"});
    valued.push_back({"--system"});
    auto flags = generation_flag_options();
    flags.push_back({"--chat"});
    flags.push_back({"--quiet", "-q"});
    Args args(argc, argv, flags, valued);
    if (args.has("--help")) {
        fmt::print("{}\n{}", run_usage, generation_help);
        return 0;
    }
    if (!args.positional().empty())
        fail(Errc::invalid_argument, "unexpected argument '{}' (the prompt goes after -p)", args.positional()[0]);
    if (args.has("--system") && !args.has("--chat")) fail(Errc::invalid_argument, "--system needs --chat");

    const std::string path = model_path(args, "run");
    const std::string prompt = read_prompt(args);
    GenerateOptions gen = read_generate_options(args, 0.8f);
    const SessionOptions so = read_session_options(args);

    Model model = load_model(path, read_load_options(args));
    Session session(model, so);
    InterruptGuard interrupt(session);

    auto print = [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    };
    interrupt.generating(true);
    Result r;
    if (args.has("--chat")) {
        std::vector<Message> messages;
        if (auto system = args.get("--system")) messages.push_back({"system", *system});
        messages.push_back({"user", prompt});
        r = session.generate(std::span<const Message>(messages), gen, print);
    } else {
        r = session.generate(prompt, gen, print);
    }
    interrupt.generating(false);
    std::fputc('\n', stdout);
    std::fflush(stdout);

    if (!args.has("--quiet")) print_timings(r);
    switch (r.finish_reason) {
    case FinishReason::stop: return 0;
    case FinishReason::length:
        if (gen.max_tokens < 0 || r.timings.generated_tokens < gen.max_tokens)
            fmt::print(stderr, "note: stopped because the context ({} tokens) is full; -c sets its size\n",
                       session.options().n_ctx);
        return 0;
    case FinishReason::cancelled: fmt::print(stderr, "interrupted\n"); return 130;
    case FinishReason::error: fmt::print(stderr, "ember run: error: {}\n", r.error); return 1;
    }
    return 0;
}

}  // namespace

EMBER_COMMAND("run", "continue a prompt with a model, streaming the text", 10, run_run);

}  // namespace ember::cli
