# The Gemma 3 270M greedy check (tests/gemma3_check.cpp): needs the 253 MB model that
# scripts/fetch-models downloads, so scripts/test.d/45-gemma3 runs it (with the model's path in
# EMBER_GEMMA3_MODEL) rather than ctest.
if(TARGET ember_internal)
  add_executable(gemma3_check ${CMAKE_CURRENT_SOURCE_DIR}/gemma3_check.cpp)
  target_link_libraries(gemma3_check PRIVATE ember_internal ember_warnings)
endif()
