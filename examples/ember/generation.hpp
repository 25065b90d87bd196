// generation.hpp - what `ember run` and `ember chat` share: model/session/sampler options,
// loading with a progress bar, Ctrl-C handling, and the timing line.
#pragma once

#include "args.hpp"

#include <ember/ember.hpp>

#include <string>
#include <vector>

namespace ember::cli {

// Options both commands accept (valued, then flags), to pass to Args with their own.
std::vector<std::vector<std::string>> generation_valued_options();
std::vector<std::vector<std::string>> generation_flag_options();
// Their --help text.
extern const char *const generation_help;

LoadOptions read_load_options(const Args &args);
SessionOptions read_session_options(const Args &args);
GenerateOptions read_generate_options(const Args &args, float default_temperature);

// -m FILE, required, with a message a newcomer can act on.
std::string model_path(const Args &args, const char *command);

// Load with a progress bar on stderr (a terminal) or one summary line (a pipe).
Model load_model(const std::string &path, const LoadOptions &options);

// Ctrl-C (SIGINT): while a generation runs, cancel it (the session lives on); otherwise
// end the process with status 130. The guard installs the handler for its lifetime.
class InterruptGuard {
public:
    explicit InterruptGuard(Session &session);
    ~InterruptGuard();
    void generating(bool on);  // cancel (true) or exit (false) on Ctrl-C
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;
};

// "[32 tokens in 0.21 s, 152.3 tok/s; prompt 5 tokens at 812.0 tok/s]" on stderr.
void print_timings(const Result &r);

}  // namespace ember::cli
