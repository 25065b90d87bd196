// args.hpp - a small command-line parser shared by the subcommands.
//
// Options are declared with a name (and aliases), parsed in one pass, and anything malformed
// is reported as a usage error naming the option. "--" ends options; the rest is positional.
#pragma once

#include <ember/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ember::cli {

class Args {
public:
    // flags: options without a value; valued: options that take one. Aliases are separate
    // names mapping to the same canonical (first) name: {"-m", "--model"}.
    Args(int argc, char **argv, std::vector<std::vector<std::string>> flags,
         std::vector<std::vector<std::string>> valued);

    bool has(std::string_view name) const;
    std::optional<std::string> get(std::string_view name) const;
    std::string get_or(std::string_view name, std::string fallback) const;
    int64_t get_int(std::string_view name, int64_t fallback, int64_t min, int64_t max) const;
    double get_double(std::string_view name, double fallback, double min, double max) const;
    const std::vector<std::string> &positional() const { return positional_; }

private:
    std::map<std::string, std::string, std::less<>> values_;
    std::vector<std::string> positional_;
};

}  // namespace ember::cli
