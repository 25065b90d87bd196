// gguf/text.hpp - checking and quoting untrusted strings from GGUF files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ember::gguf {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s);

// A string safe to put in a message or a terminal: control characters and invalid bytes
// escaped (\n, \x1b), cut to max_bytes with "..." so a hostile 1 MB name cannot flood a log.
std::string printable(std::string_view s, size_t max_bytes = 96);

}  // namespace ember::gguf
