# Warnings every ember target compiles with; -Werror in CI (EMBER_WERROR=ON).
add_library(ember_warnings INTERFACE)
target_compile_options(ember_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic>)
if(EMBER_WERROR)
  target_compile_options(ember_warnings INTERFACE -Werror)
endif()
