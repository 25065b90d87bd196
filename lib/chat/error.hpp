// chat/error.hpp - how the template engine reports a failure before it knows where it is.
//
// Deep helpers (value arithmetic, filters) throw TemplateFailure with a message only; the
// evaluator stamps the source offset of the innermost node that was running, and the public
// entry points turn it into ember::Error(Errc::template_error, "name:line:col: message").
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>

namespace ember::chat {

struct TemplateFailure {
    std::string message;
    size_t offset = static_cast<size_t>(-1);  // into the normalized source; -1 while unknown
    bool raised = false;                       // from raise_exception(): the template's own words
};

template <class... Args>
[[noreturn]] void raise(fmt::format_string<Args...> format, Args &&...args) {
    throw TemplateFailure{fmt::format(format, std::forward<Args>(args)...)};
}

}  // namespace ember::chat
