// ember - the command-line front end: `ember <command> [options]`.
#include "command.hpp"

#include <ember/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string_view>

namespace ember::cli {
std::vector<Command> &registry() {
    static std::vector<Command> commands;
    return commands;
}
}  // namespace ember::cli

namespace {

void print_help() {
    auto commands = ember::cli::registry();
    std::sort(commands.begin(), commands.end(),
              [](const auto &a, const auto &b) { return a.order < b.order; });
    fmt::print("ember - run open-weight language models (GGUF) on your CPU\n\n"
               "usage: ember <command> [options]     ember <command> --help\n\ncommands:\n");
    for (const auto &c : commands) fmt::print("  {:<12} {}\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h" ||
        std::string_view(argv[1]) == "help") {
        print_help();
        return argc < 2 ? 2 : 0;
    }
    std::string_view name = argv[1];
    for (const auto &c : ember::cli::registry()) {
        if (c.name != name) continue;
        try {
            return c.run(argc - 1, argv + 1);
        } catch (const ember::Error &e) {
            fmt::print(stderr, "ember {}: error: {}\n", name, e.what());
            return e.code() == ember::Errc::invalid_argument ? 2 : 1;
        } catch (const std::exception &e) {
            fmt::print(stderr, "ember {}: error: {}\n", name, e.what());
            return 1;
        }
    }
    fmt::print(stderr, "ember: unknown command '{}' (see ember --help)\n", name);
    return 2;
}
