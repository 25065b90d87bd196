// command.hpp - how `ember` subcommands register themselves.
//
// Each examples/ember/cmd_<name>.cpp defines one subcommand and registers it with a static
// EMBER_COMMAND(...) line; main.cpp dispatches. Commands print results to stdout and
// everything else (logs, progress, errors) to stderr, and return a process exit code.
#pragma once

#include <string_view>
#include <vector>

namespace ember::cli {

struct Command {
    std::string_view name;
    std::string_view summary;  // one line for `ember --help`
    int order;                 // position in the help listing
    int (*run)(int argc, char **argv);  // argv[0] is the subcommand name
};

std::vector<Command> &registry();

struct Registrar {
    explicit Registrar(Command c) { registry().push_back(c); }
};

}  // namespace ember::cli

#define EMBER_COMMAND(name, summary, order, fn) \
    static const ::ember::cli::Registrar ember_command_registrar_{::ember::cli::Command{name, summary, order, fn}}
