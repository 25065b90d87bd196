# Packaging is code and is tested (STYLE.md #15): install this build into a scratch prefix,
# then build tiny consumer projects against it with find_package, add_subdirectory and
# pkg-config, and run them on a real model.
set(pkg_prefix ${CMAKE_BINARY_DIR}/package-test/prefix)
set(pkg_work ${CMAKE_BINARY_DIR}/package-test)
set(pkg_model ${CMAKE_CURRENT_SOURCE_DIR}/data/models/stories260K.gguf)

add_test(NAME package_install
  COMMAND ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --prefix ${pkg_prefix})
set_tests_properties(package_install PROPERTIES FIXTURES_SETUP ember_installed)

add_test(NAME package_find_package
  COMMAND ${CMAKE_COMMAND} -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/package/find_package
          -DBINARY=${pkg_work}/find_package -DPREFIX=${pkg_prefix} -DMODEL=${pkg_model}
          -DGENERATOR=${CMAKE_GENERATOR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/package/build_and_run.cmake)
set_tests_properties(package_find_package PROPERTIES FIXTURES_REQUIRED ember_installed)

add_test(NAME package_pkg_config
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/package/pkg_config/build_and_run.sh
          ${pkg_prefix} ${pkg_work}/pkg_config ${pkg_model} ${CMAKE_C_COMPILER})
set_tests_properties(package_pkg_config PROPERTIES FIXTURES_REQUIRED ember_installed)

# add_subdirectory builds ember from source inside the consumer; only its library, so it
# stays quick.
add_test(NAME package_add_subdirectory
  COMMAND ${CMAKE_COMMAND} -DSOURCE=${CMAKE_CURRENT_SOURCE_DIR}/package/add_subdirectory
          -DBINARY=${pkg_work}/add_subdirectory -DEMBER_SOURCE=${PROJECT_SOURCE_DIR}
          -DMODEL=${pkg_model} -DGENERATOR=${CMAKE_GENERATOR}
          -P ${CMAKE_CURRENT_SOURCE_DIR}/package/build_and_run.cmake)
set_tests_properties(package_add_subdirectory PROPERTIES TIMEOUT 1200)
