// ember/export.hpp - symbol visibility for the public C++ API.
#pragma once

// libember is built with hidden visibility; only what is marked EMBER_API (and the C ABI,
// see ember.h) is exported from the shared library.
#if defined(__GNUC__) || defined(__clang__)
#define EMBER_API __attribute__((visibility("default")))
#else
#define EMBER_API
#endif
