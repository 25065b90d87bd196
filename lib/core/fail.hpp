// core/fail.hpp - throwing ember::Error with a formatted message, and checked arithmetic.
#pragma once

#include <ember/error.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>

namespace ember {

// Throw ember::Error(code, fmt::format(...)). Every error in the library goes through here
// so messages are formatted one way.
template <class... Args>
[[noreturn]] void fail(Errc code, fmt::format_string<Args...> format, Args &&...args) {
    throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// Overflow-checked arithmetic for sizes read from untrusted files: nullopt on overflow.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
    return r;
}

}  // namespace ember
