// ember/version.hpp - the library's version, for C++ callers.
#pragma once

#include <ember/export.hpp>
#include <ember/version.h>

namespace ember {

// The version of the library loaded at run time ("0.1.0"); may differ from
// EMBER_VERSION_STRING_HEADER when an application runs against a newer libember.
EMBER_API const char *version() noexcept;

}  // namespace ember
