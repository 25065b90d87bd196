# The README's examples, compiled against the shared libember exactly as a user would link
# them (public headers only); tests/api_cli.cmake runs them on a small model.
if(NOT TARGET ember)
  return()
endif()
add_executable(example_hello_c ${CMAKE_CURRENT_SOURCE_DIR}/c/hello.c)
set_target_properties(example_hello_c PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
                                                 OUTPUT_NAME hello_c)
target_link_libraries(example_hello_c PRIVATE ember ember_warnings)

add_executable(example_hello_cpp ${CMAKE_CURRENT_SOURCE_DIR}/cpp/hello.cpp)
set_target_properties(example_hello_cpp PROPERTIES OUTPUT_NAME hello_cpp)
target_link_libraries(example_hello_cpp PRIVATE ember ember_warnings)
