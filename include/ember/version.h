/* ember/version.h - the version of the headers, usable from C and C++.
 *
 * EMBER_VERSION_* describe these headers; ember_version() (ember.h) or ember::version()
 * (version.hpp) report the library actually loaded, which a test keeps equal to
 * CMakeLists.txt's project(VERSION). EMBER_ABI_VERSION is the C ABI's major version and
 * the shared library's SOVERSION: it changes only when a binary built against an older
 * ember.h could break. */
#ifndef EMBER_VERSION_H
#define EMBER_VERSION_H

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 1
#define EMBER_VERSION_PATCH 0
#define EMBER_VERSION_STRING_HEADER "0.1.0"

#define EMBER_ABI_VERSION 0

#endif /* EMBER_VERSION_H */
