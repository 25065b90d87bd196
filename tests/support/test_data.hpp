// test_data.hpp - where tests find their data files (tests/data, see its README).
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ember::test {

// Absolute path of a file under tests/data. A missing file fails the test loudly: data the
// suite needs is part of the repository.
inline std::string data_path(const std::string &relative) {
    const char *env = std::getenv("EMBER_TEST_DATA");
    std::filesystem::path root = env && *env ? env : EMBER_TEST_DATA_DIR;
    std::filesystem::path p = root / relative;
    if (!std::filesystem::exists(p)) FAIL("test data missing: " << p.string());
    return p.string();
}

inline std::vector<uint8_t> read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in.good(), "cannot open " << path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ember::test
