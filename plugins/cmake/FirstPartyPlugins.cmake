# Included by the top-level CMakeLists.txt after add_subdirectory(sdk). Proves that first-party
# plugins build against the installed SDK alone:
#   1. installs the SDK (component clinicore_sdk) into ${CLINICORE_SDK_PREFIX};
#   2. copies plugins/ into the build tree, so a relative #include cannot reach platform/;
#   3. configures and builds that copy as a separate CMake project (ExternalProject) with
#      only -DCMAKE_PREFIX_PATH=${CLINICORE_SDK_PREFIX}; the .so files land in
#      ${CLINICORE_PLUGIN_OUTPUT_DIR};
#   4. registers a conformance test (clinicore-plugin-test) per first-party plugin, and a test
#      that builds sdk/examples/sms_gateway out of tree against the installed SDK alone.
include(ExternalProject)

set(CLINICORE_SDK_PREFIX ${CMAKE_BINARY_DIR}/sdk-prefix CACHE INTERNAL "the SDK installed into the build tree")
set(CLINICORE_PLUGIN_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins CACHE INTERNAL "first-party plugin .so files")
set(CLINICORE_PLUGINS_BUILD_JOBS 2 CACHE STRING "parallel jobs of the nested first-party plugins build")

file(GLOB_RECURSE _clinicore_sdk_inputs CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/sdk/include/* ${CMAKE_SOURCE_DIR}/sdk/cmake/* ${CMAKE_SOURCE_DIR}/sdk/examples/*)
set(_clinicore_sdk_stamp ${CMAKE_BINARY_DIR}/sdk-prefix.stamp)
add_custom_command(
  OUTPUT ${_clinicore_sdk_stamp}
  COMMAND ${CMAKE_COMMAND} --install ${CMAKE_BINARY_DIR} --component clinicore_sdk --prefix ${CLINICORE_SDK_PREFIX}
  COMMAND ${CMAKE_COMMAND} -E touch ${_clinicore_sdk_stamp}
  DEPENDS ${_clinicore_sdk_inputs} ${CMAKE_SOURCE_DIR}/sdk/README.md clinicore-plugin-test
  COMMENT "Installing the plugin SDK into ${CLINICORE_SDK_PREFIX}"
  VERBATIM)
add_custom_target(clinicore_sdk_install ALL DEPENDS ${_clinicore_sdk_stamp})

set(_clinicore_copy_plugins ${CMAKE_COMMAND} -DFROM=${CMAKE_SOURCE_DIR}/plugins -DTO=${CMAKE_BINARY_DIR}/plugins-src
                            -P ${CMAKE_SOURCE_DIR}/plugins/cmake/CopyTree.cmake)

set(_clinicore_plugin_files ${CLINICORE_PLUGIN_OUTPUT_DIR}/webhook.so ${CLINICORE_PLUGIN_OUTPUT_DIR}/web_form.so
                            ${CLINICORE_PLUGIN_OUTPUT_DIR}/points_per_spend.so)
ExternalProject_Add(clinicore_first_party_plugins
  SOURCE_DIR ${CMAKE_BINARY_DIR}/plugins-src
  DOWNLOAD_COMMAND ${_clinicore_copy_plugins}
  UPDATE_COMMAND ${_clinicore_copy_plugins}
  BINARY_DIR ${CMAKE_BINARY_DIR}/plugins-build
  CMAKE_ARGS -DCMAKE_PREFIX_PATH=${CLINICORE_SDK_PREFIX}
             -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
             -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
             -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
             -DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${CLINICORE_PLUGIN_OUTPUT_DIR}
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> -j ${CLINICORE_PLUGINS_BUILD_JOBS}
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  BUILD_BYPRODUCTS ${_clinicore_plugin_files}
  DEPENDS clinicore_sdk_install)

if(CLINICORE_BUILD_TESTS)
  foreach(_plugin IN ITEMS channels/webhook:webhook lead_sources/web_form:web_form
                           loyalty_rules/points_per_spend:points_per_spend)
    string(REPLACE ":" ";" _parts ${_plugin})
    list(GET _parts 0 _folder)
    list(GET _parts 1 _file)
    add_test(NAME clinicore_plugin_conformance_${_file}
             COMMAND clinicore-plugin-test ${CLINICORE_PLUGIN_OUTPUT_DIR}/${_file}.so
                     ${CMAKE_SOURCE_DIR}/plugins/${_folder}/samples.json)
    set_tests_properties(clinicore_plugin_conformance_${_file} PROPERTIES LABELS unit)
  endforeach()
  add_test(NAME clinicore_sdk_out_of_tree_example
           COMMAND ${CMAKE_COMMAND} -DSDK_PREFIX=${CLINICORE_SDK_PREFIX}
                   -DEXAMPLE=${CMAKE_SOURCE_DIR}/sdk/examples/sms_gateway -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}
                   -P ${CMAKE_SOURCE_DIR}/sdk/cmake/TestOutOfTreeExample.cmake)
  set_tests_properties(clinicore_sdk_out_of_tree_example PROPERTIES LABELS integration)
endif()
