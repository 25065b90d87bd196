# The C ABI, tested from C: tests/c/*.c compiled as strict C99 against the shared libember,
# plus two checks of the binary itself:
#   capi_exports  only ember_* (and the C++ API's ember::) symbols leave libember, and every
#                 function ember.h declares is among them (nm)
#   capi_abi      the C ABI is compatible with the committed baseline tests/abi/ember.abi
#                 (libabigail's abidiff); after an intended, compatible change (an appended
#                 function, field or enum value) refresh it with tests/abi/check --update
if(NOT TARGET ember)
  return()  # the C ABI lives in the shared library (EMBER_BUILD_SHARED=OFF builds none)
endif()

# DWARF for the C entry points only (three small files), so abidw sees the C ABI's types and
# signatures; code generation is unchanged.
target_compile_options(ember_capi_obj PRIVATE -g)

set(capi_model ${CMAKE_CURRENT_SOURCE_DIR}/data/models/stories260K.gguf)
set(capi_reference ${CMAKE_CURRENT_SOURCE_DIR}/data/reference/stories260K.f32kv.json)
set(capi_scratch ${CMAKE_CURRENT_BINARY_DIR}/capi-scratch)
file(MAKE_DIRECTORY ${capi_scratch})

find_package(Threads REQUIRED)
file(GLOB capi_c_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/c/*.c)
foreach(src IN LISTS capi_c_tests)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src})
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_link_libraries(${name} PRIVATE ember Threads::Threads ember_warnings)
endforeach()
target_link_libraries(capi_evaluate PRIVATE m)  # exp, log: the log-softmax of its checks

add_test(NAME capi_errors COMMAND capi_errors ${capi_model} ${capi_scratch})
add_test(NAME capi_generate COMMAND capi_generate ${capi_model} ${capi_reference})
add_test(NAME capi_evaluate COMMAND capi_evaluate ${capi_model} ${capi_reference})

add_test(NAME capi_exports
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/abi/check exports $<TARGET_FILE:ember>
          ${PROJECT_SOURCE_DIR}/include/ember/ember.h)
# The baseline describes the release build made with Debian's g++ (scripts/test); sanitizer,
# debug and clang builds describe the same ABI with different debug information, so they
# skip this comparison.
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_CXX_FLAGS MATCHES "sanitize")
  add_test(NAME capi_abi
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/abi/check abi $<TARGET_FILE:ember> ${PROJECT_SOURCE_DIR}/include/ember)
endif()
add_test(NAME capi_version_macros
  COMMAND ${CMAKE_COMMAND} -DHEADER=${PROJECT_SOURCE_DIR}/include/ember/version.h -DVERSION=${PROJECT_VERSION}
          -DABI=${EMBER_ABI_VERSION} -P ${CMAKE_CURRENT_SOURCE_DIR}/abi/version_check.cmake)
