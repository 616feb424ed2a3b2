# clinicore_add_plugin(<name> SOURCES <file>... [OUTPUT_NAME <file name without .so>]
#                      [LINK_LIBRARIES <lib>...])
#
# Builds a clinicore plugin: a MODULE library <OUTPUT_NAME or name>.so that links only the SDK
# (clinicore_sdk::sdk) and what you add, exports nothing but clinicore_plugin_entry (hidden
# visibility for everything else), and refuses to link with an undefined symbol, so a missing
# one is found at build time instead of by the platform's loader.
#
# clinicore_add_plugin_test(<plugin target> SAMPLES <samples.json>)
#
# Registers a ctest that runs the SDK's conformance runner (clinicore-plugin-test) on the
# plugin with your sample inputs.
include_guard(GLOBAL)

function(clinicore_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME" "SOURCES;LINK_LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "clinicore_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_NAME)
    set(ARG_OUTPUT_NAME ${name})
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE clinicore_sdk::sdk ${ARG_LINK_LIBRARIES})
  target_compile_features(${name} PRIVATE cxx_std_17)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${name} PRIVATE LINKER:--no-undefined LINKER:-z,now)
  endif()
endfunction()

function(clinicore_add_plugin_test target)
  cmake_parse_arguments(ARG "" "SAMPLES" "" ${ARGN})
  if(NOT CLINICORE_SDK_TESTKIT OR NOT EXISTS "${CLINICORE_SDK_TESTKIT}")
    message(WARNING "clinicore_add_plugin_test(${target}): clinicore-plugin-test is not part of this SDK install")
    return()
  endif()
  set(command ${CLINICORE_SDK_TESTKIT} $<TARGET_FILE:${target}>)
  if(ARG_SAMPLES)
    list(APPEND command ${ARG_SAMPLES})
  endif()
  add_test(NAME ${target}_conformance COMMAND ${command})
endfunction()
