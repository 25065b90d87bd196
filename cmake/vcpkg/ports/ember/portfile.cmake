# Overlay port: builds ember from this checkout (no download).
#   vcpkg install ember --overlay-ports=<ember>/cmake/vcpkg/ports
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../..")

if(VCPKG_LIBRARY_LINKAGE STREQUAL "dynamic")
    set(EMBER_SHARED ON)
    set(EMBER_STATIC OFF)
else()
    set(EMBER_SHARED OFF)
    set(EMBER_STATIC ON)
endif()
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DEMBER_BUILD_SHARED=${EMBER_SHARED}
        -DEMBER_BUILD_STATIC=${EMBER_STATIC}
        -DEMBER_BUILD_TESTS=OFF
        -DEMBER_BUILD_BENCH=OFF
        -DEMBER_BUILD_EXAMPLES=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/ember)
vcpkg_fixup_pkgconfig()
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "ember is licensed under the MIT licence.\n")
