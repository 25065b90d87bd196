// ember chat -m FILE - talk with an instruction-tuned model in the terminal.
//
// The conversation is rendered with the model's own chat template each turn; the session
// keeps the KV cache of earlier turns, so a reply starts as soon as the new message is read.
// Ctrl-C stops the answer being written (the conversation goes on); Ctrl-C at the prompt,
// /quit or end of input (Ctrl-D) leaves.
#include "args.hpp"
#include "command.hpp"
#include "generation.hpp"

#include "core/fail.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

namespace ember::cli {
namespace {

constexpr const char *chat_usage =
    "usage: ember chat -m FILE [--system TEXT] [options]\n"
    "\n"
    "Chat with an instruction-tuned model. Type a message and press Enter; the answer streams\n"
    "back. The model's own chat template is used (ChatML when the file has none), and the\n"
    "history is kept, so the model remembers the conversation until you /reset it.\n"
    "\n"
    "while chatting:\n"
    "  /reset        forget the conversation (the system message stays)\n"
    "  /quit         leave (so do Ctrl-D and Ctrl-C at the prompt)\n"
    "  Ctrl-C        stop the answer being written, keep chatting\n"
    "  line\\         a line ending in a backslash continues on the next line\n"
    "\n"
    "example:\n"
    "  ember chat -m SmolLM2-135M-Instruct.Q4_1.gguf --system \"You are a concise assistant.\"\n"
    "\n"
    "  --system TEXT           a system message that sets the assistant's behaviour\n"
    "  -v, --verbose           print timings after each answer (on stderr)\n";

// One message from stdin; lines ending in '\' continue. False at end of input.
bool read_message(std::string &out) {
    out.clear();
    std::string line;
    while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\\') {
            line.pop_back();
            out += line;
            out += '\n';
            continue;
        }
        out += line;
        return true;
    }
    return !out.empty();
}

int run_chat(int argc, char **argv) {
    auto valued = generation_valued_options();
    valued.push_back({"--system"});
    auto flags = generation_flag_options();
    flags.push_back({"--verbose", "-v"});
    Args args(argc, argv, flags, valued);
    if (args.has("--help")) {
        fmt::print("{}\n{}", chat_usage, generation_help);
        return 0;
    }
    if (!args.positional().empty())
        fail(Errc::invalid_argument, "unexpected argument '{}' (see ember chat --help)", args.positional()[0]);

    const std::string path = model_path(args, "chat");
    const GenerateOptions gen = read_generate_options(args, 0.8f);
    const SessionOptions so = read_session_options(args);
    Model model = load_model(path, read_load_options(args));
    Session session(model, so);
    Chat chat(session, args.get_or("--system", ""));
    InterruptGuard interrupt(session);

    const bool interactive = isatty(STDIN_FILENO) != 0;
    if (!model.info().has_chat_template)
        fmt::print(stderr, "note: {} has no chat template; using ChatML\n", path);
    if (interactive) fmt::print(stderr, "type a message, /reset to start over, /quit to leave\n");

    std::string message;
    for (;;) {
        if (interactive) {
            fmt::print(stderr, "\n> ");
            std::fflush(stderr);
        }
        if (!read_message(message)) break;
        if (message == "/quit" || message == "/exit") break;
        if (message == "/reset") {
            chat.reset();
            fmt::print(stderr, "(conversation forgotten)\n");
            continue;
        }
        if (message.empty()) continue;
        if (message[0] == '/') {
            fmt::print(stderr, "unknown command {} (/reset, /quit)\n", message);
            continue;
        }
        interrupt.generating(true);
        Result r = chat.send(message, gen, [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        interrupt.generating(false);
        std::fputc('\n', stdout);
        std::fflush(stdout);
        if (r.finish_reason == FinishReason::cancelled) fmt::print(stderr, "(stopped)\n");
        if (r.finish_reason == FinishReason::error) fmt::print(stderr, "error: {}\n", r.error);
        if (r.finish_reason == FinishReason::length &&
            (gen.max_tokens < 0 || r.timings.generated_tokens < gen.max_tokens))
            fmt::print(stderr, "(the context of {} tokens is full: /reset to start over, or -c for a larger one)\n",
                       session.options().n_ctx);
        if (args.has("--verbose")) print_timings(r);
    }
    return 0;
}

}  // namespace

EMBER_COMMAND("chat", "talk with a model in the terminal (uses its chat template)", 11, run_chat);

}  // namespace ember::cli
