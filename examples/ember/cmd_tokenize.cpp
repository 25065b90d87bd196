// ember tokenize -m FILE [--no-bos] [--parse-special] [--ids] (-- TEXT | --file PATH)
//
// The model's own tokenizer applied to TEXT, like llama-tokenize: one "id -> 'piece'" line
// per token, or with --ids all ids space-separated on one line. --stats adds the token
// count and the time spent encoding on stderr (the figure quoted for wiki.test.raw).
#include "args.hpp"
#include "command.hpp"

#include "core/fail.hpp"
#include "gguf/reader.hpp"
#include "tokenizer/tokenizer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace ember::cli {
namespace {

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Errc::io, "cannot open {}", path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int run_tokenize(int argc, char **argv) {
    Args args(argc, argv, {{"--no-bos"}, {"--parse-special"}, {"--ids"}, {"--stats"}, {"--help", "-h"}},
              {{"--model", "-m"}, {"--file", "-f"}});
    if (args.has("--help")) {
        fmt::print("usage: ember tokenize -m FILE [--no-bos] [--parse-special] [--ids] [--stats] (-- TEXT | --file PATH)\n\n"
                   "Tokenize TEXT with the model's own tokenizer (tokenizer.ggml.* metadata).\n"
                   "  -m, --model FILE    GGUF file (a vocabulary-only file is enough)\n"
                   "  --no-bos            do not add BOS/EOS even if the model asks for them\n"
                   "  --parse-special     text spelling a control token (<|im_end|>, <s>) becomes that token\n"
                   "  --ids               print only the ids, space-separated on one line\n"
                   "  -f, --file PATH     tokenize the contents of PATH instead of TEXT\n"
                   "  --stats             print the token count and encoding time on stderr\n");
        return 0;
    }
    const auto model = args.get("--model");
    if (!model) fail(Errc::invalid_argument, "missing -m FILE (usage: ember tokenize -m FILE -- TEXT)");
    std::string text;
    if (const auto file = args.get("--file")) {
        if (!args.positional().empty()) fail(Errc::invalid_argument, "give either --file or TEXT, not both");
        text = read_file(*file);
    } else {
        if (args.positional().size() != 1)
            fail(Errc::invalid_argument, "expected exactly one TEXT after -- (usage: ember tokenize -m FILE -- TEXT)");
        text = args.positional()[0];
    }

    const gguf::File f = gguf::File::open(*model);
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::from_gguf(f);
    const tokenizer::EncodeOptions options{.add_special = !args.has("--no-bos"),
                                           .parse_special = args.has("--parse-special")};
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    const std::vector<tokenizer::TokenId> ids = tok.encode(text, options);
    const std::clock_t c1 = std::clock();
    const auto t1 = std::chrono::steady_clock::now();

    std::string out;
    if (args.has("--ids")) {
        for (size_t i = 0; i < ids.size(); ++i) out += fmt::format("{}{}", i ? " " : "", ids[i]);
        out += '\n';
    } else {
        // Pieces are raw bytes: a byte-fallback token may be part of a UTF-8 character.
        for (tokenizer::TokenId id : ids) out += fmt::format("{:6} -> '{}'\n", id, tok.token_to_piece(id, true));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (args.has("--stats")) {
        const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
        // CPU time too: on a busy machine wall time overstates the cost.
        const double cpu_ms = 1000.0 * double(c1 - c0) / CLOCKS_PER_SEC;
        fmt::print(stderr, "{} bytes -> {} tokens in {:.1f} ms wall, {:.1f} ms CPU ({:.1f} MB/s)\n", text.size(),
                   ids.size(), ms, cpu_ms, ms > 0 ? text.size() / ms / 1000.0 : 0.0);
    }
    return 0;
}

}  // namespace

EMBER_COMMAND("tokenize", "show the token ids a model's tokenizer gives for a text", 40, run_tokenize);

}  // namespace ember::cli
