// Command-line parsing for the ember subcommands.
#include "args.hpp"

#include "core/fail.hpp"

#include <charconv>
#include <cmath>

namespace ember::cli {

namespace {
const std::vector<std::string> *lookup(const std::vector<std::vector<std::string>> &table,
                                       std::string_view arg) {
    for (const auto &names : table)
        for (const auto &n : names)
            if (n == arg) return &names;
    return nullptr;
}
}  // namespace

Args::Args(int argc, char **argv, std::vector<std::vector<std::string>> flags,
           std::vector<std::vector<std::string>> valued) {
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            positional_.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string_view value;
        bool has_inline = false;
        if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        if (const auto *names = lookup(flags, arg)) {
            if (has_inline) fail(Errc::invalid_argument, "option {} takes no value", arg);
            values_[names->front()] = "";
        } else if (const auto *vnames = lookup(valued, arg)) {
            if (!has_inline) {
                if (i + 1 >= argc) fail(Errc::invalid_argument, "option {} needs a value", arg);
                value = argv[++i];
            }
            values_[vnames->front()] = std::string(value);
        } else {
            fail(Errc::invalid_argument, "unknown option {} (see --help)", arg);
        }
    }
}

bool Args::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::optional<std::string> Args::get(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Args::get_or(std::string_view name, std::string fallback) const {
    auto v = get(name);
    return v ? *v : std::move(fallback);
}

int64_t Args::get_int(std::string_view name, int64_t fallback, int64_t min, int64_t max) const {
    auto v = get(name);
    if (!v) return fallback;
    int64_t out = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || p != v->data() + v->size())
        fail(Errc::invalid_argument, "option {} needs an integer, got '{}'", name, *v);
    if (out < min || out > max)
        fail(Errc::invalid_argument, "option {} must be in [{}, {}], got {}", name, min, max, out);
    return out;
}

double Args::get_double(std::string_view name, double fallback, double min, double max) const {
    auto v = get(name);
    if (!v) return fallback;
    char *end = nullptr;
    double out = std::strtod(v->c_str(), &end);
    if (v->empty() || end != v->c_str() + v->size() || !std::isfinite(out))
        fail(Errc::invalid_argument, "option {} needs a number, got '{}'", name, *v);
    if (out < min || out > max)
        fail(Errc::invalid_argument, "option {} must be in [{}, {}], got {}", name, min, max, out);
    return out;
}

}  // namespace ember::cli
