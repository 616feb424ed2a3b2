# One way to declare targets: every component library, test and executable gets the same
# warnings, sanitizer flags and include root, so no target can quietly build differently.

get_filename_component(CLINICORE_SOURCE_ROOT ${CMAKE_CURRENT_LIST_DIR}/../.. ABSOLUTE)

function(clinicore_apply_flags target)
  # -Wno-restrict: g++ 12 reports false positives inside libstdc++ string code at -O3
  # (GCC bug 105329); -Wno-deprecated-declarations: libpqxx 6 marks APIs still current in 6.4.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-deprecated-declarations
                                           $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(CLINICORE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(CLINICORE_FUZZ)
    # Coverage instrumentation everywhere; only fuzz executables link libFuzzer's main.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# clinicore_add_fuzzer(<name> SOURCES ... DEPS ...) builds a libFuzzer target (clang only,
# CLINICORE_FUZZ=ON) and adds it to the `fuzzers` target that scripts/test builds and runs.
function(clinicore_add_fuzzer name)
  if(NOT CLINICORE_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${CLINICORE_SOURCE_ROOT})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  clinicore_apply_flags(${name})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  if(NOT TARGET fuzzers)
    add_custom_target(fuzzers)
  endif()
  add_dependencies(fuzzers ${name})
endfunction()

# clinicore_add_library(<name> SOURCES ... DEPS ...) declares clinicore_<name> with the
# alias clinicore::<name>. Headers are included from the repository root ("platform/...").
function(clinicore_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  set(target clinicore_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(clinicore::${name} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${CLINICORE_SOURCE_ROOT})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  clinicore_apply_flags(${target})
  if(CLINICORE_SANITIZE)
    target_link_options(${target} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

# clinicore_add_test(<name> LABEL unit|integration|e2e [SHARDS n] [SERIAL <gtest filter>]
#                    SOURCES ... DEPS ...)
# builds one GoogleTest executable and registers it with ctest under the given label.
#
# scripts/test runs ctest with -j and one Redis server per "lane" (a ctest resource, see
# docs/testing.md): every entry holds one lane, and the harness reads its lane's Redis URL
# (testing::TestRedisUrl), so tests running side by side never share rate-limit keys or
# pub/sub channels. Each test makes its own PostgreSQL database, so the shared cluster is safe.
#   SHARDS n  registers n entries <name>_shard_<i>, each running every n-th test (GoogleTest's
#             GTEST_TOTAL_SHARDS/GTEST_SHARD_INDEX), so one long binary spreads over the lanes.
#   SERIAL f  runs the tests matching the GoogleTest filter f in one more entry, <name>_serial,
#             with nothing else beside it (RUN_SERIAL): the tests that stop the shared cluster.
function(clinicore_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;SHARDS;SERIAL" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${CLINICORE_SOURCE_ROOT})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main)
  clinicore_apply_flags(${name})

  if(NOT ARG_SHARDS)
    set(ARG_SHARDS 1)
  endif()
  set(parallel_filter "")
  if(ARG_SERIAL)
    set(parallel_filter "GTEST_FILTER=-${ARG_SERIAL}")
    add_test(NAME ${name}_serial COMMAND ${name})
    set_tests_properties(${name}_serial PROPERTIES LABELS ${ARG_LABEL} RESOURCE_GROUPS "lane:1" RUN_SERIAL TRUE
                                                   ENVIRONMENT "GTEST_FILTER=${ARG_SERIAL}")
  endif()
  if(ARG_SHARDS EQUAL 1)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} RESOURCE_GROUPS "lane:1"
                                            ENVIRONMENT "${parallel_filter}")
    return()
  endif()
  math(EXPR last "${ARG_SHARDS} - 1")
  foreach(index RANGE ${last})
    add_test(NAME ${name}_shard_${index} COMMAND ${name})
    set_tests_properties(${name}_shard_${index} PROPERTIES LABELS ${ARG_LABEL} RESOURCE_GROUPS "lane:1"
      ENVIRONMENT "GTEST_TOTAL_SHARDS=${ARG_SHARDS};GTEST_SHARD_INDEX=${index};${parallel_filter}")
  endforeach()
endfunction()
