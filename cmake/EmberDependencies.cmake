# Every dependency comes from Debian's packages (scripts/install-deps); nothing is
# downloaded at configure time.

# Debian 12's xsimd 8.1 config names a target `xtl` in its interface but ships no such
# package; an empty INTERFACE target satisfies it (xsimd itself is header-only).
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()

find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(xsimd 8.1 REQUIRED)
find_package(TBB 2021 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
if(EMBER_BUILD_TESTS)
  find_package(doctest 2.4 REQUIRED)
endif()
if(EMBER_BUILD_BENCH)
  find_package(benchmark 1.7 REQUIRED)
endif()
