// ember/error.hpp - the one error type of the C++ API.
#pragma once

#include <ember/export.hpp>

#include <stdexcept>
#include <string>

namespace ember {

// What went wrong, coarse enough to act on. Values are stable: the C ABI's ember_status
// uses the same numbers (see ember.h), and new codes are only ever appended.
enum class Errc : int {
    ok = 0,
    invalid_argument = 1,  // a caller-supplied value is out of range or malformed
    io = 2,                // the operating system refused (open, read, map)
    invalid_file = 3,      // the file is not a well-formed GGUF, or a field in it is wrong
    unsupported = 4,       // well-formed, but a feature ember does not implement
    out_of_memory = 5,     // an allocation failed, or a size check refused one up front
    context_full = 6,      // the session's KV cache has no room for more tokens
    cancelled = 7,         // cancel() was called, or a progress callback returned false
    invalid_model = 8,     // metadata or tensors inconsistent with the architecture
    tokenizer = 9,         // the vocabulary metadata is unusable
    template_error = 10,   // the chat template failed to parse or render
    internal = 11,         // a bug in ember; please report it
};

// Short stable name of a code ("invalid_file"), for logs and bindings.
EMBER_API const char *errc_name(Errc code) noexcept;

// Everything ember throws. what() names the file, field or value at fault.
class EMBER_API Error : public std::runtime_error {
public:
    Error(Errc code, const std::string &message);
    Errc code() const noexcept { return code_; }

private:
    Errc code_;
};

}  // namespace ember
