// The public error type and the dtype table.
#include "core/dtype.hpp"
#include "core/fail.hpp"

#include <doctest/doctest.h>

using namespace ember;

TEST_CASE("fail() throws ember::Error with code and formatted message") {
    try {
        fail(Errc::invalid_file, "bad field '{}' at offset {}", "n_tensors", 24);
        FAIL("no throw");
    } catch (const Error &e) {
        CHECK(e.code() == Errc::invalid_file);
        CHECK(std::string(e.what()) == "bad field 'n_tensors' at offset 24");
    }
    CHECK(std::string(errc_name(Errc::context_full)) == "context_full");
}

TEST_CASE("checked arithmetic refuses overflow") {
    CHECK(checked_mul(1ull << 32, 1ull << 31).value() == (1ull << 63));
    CHECK_FALSE(checked_mul(1ull << 32, 1ull << 32).has_value());
    CHECK_FALSE(checked_add(~0ull, 1).has_value());
}

TEST_CASE("dtype table knows ggml block geometry") {
    CHECK(dtype_info(DType::q4_0).block_bytes == 18);
    CHECK(dtype_info(DType::q4_k).block_elems == 256);
    CHECK(row_bytes(DType::q8_0, 64).value() == 68);
    CHECK_FALSE(row_bytes(DType::q8_0, 33).has_value());
    CHECK_FALSE(dtype_info(4u).has_value());
    CHECK_FALSE(dtype_info(1000u).has_value());
}

TEST_CASE("row_bytes refuses sizes that overflow 64 bits") {
    CHECK_FALSE(row_bytes(DType::f32, 1ull << 62).has_value());
    CHECK(row_bytes(DType::f32, 1ull << 40).value() == (1ull << 42));
}
