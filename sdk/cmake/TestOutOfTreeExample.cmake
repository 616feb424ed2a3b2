# cmake -DSDK_PREFIX=<installed SDK> -DEXAMPLE=<example source> [-DLAUNCHER=ccache] -P TestOutOfTreeExample.cmake
#
# What a third party does: copies the example plugin to a fresh folder outside any clinicore
# tree, configures it with nothing but the installed SDK (find_package(clinicore_sdk)), builds
# it, and runs its ctest, which runs clinicore-plugin-test on it with its samples. Also checks
# the package version policy: SameMajorVersion (a 1.x SDK satisfies 1.0, never 2.0 nor a newer
# minor than it has).
cmake_minimum_required(VERSION 3.25)
foreach(required SDK_PREFIX EXAMPLE)
  if(NOT ${required})
    message(FATAL_ERROR "${required} is required")
  endif()
endforeach()

if(DEFINED ENV{TMPDIR})
  set(tmp $ENV{TMPDIR})
else()
  set(tmp /tmp)
endif()
string(RANDOM LENGTH 8 ALPHABET abcdefghijklmnopqrstuvwxyz0123456789 suffix)
set(work ${tmp}/clinicore-sdk-example-${suffix})
file(COPY ${EXAMPLE}/ DESTINATION ${work}/src)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}")
  endif()
endfunction()

set(launcher "")
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run(${CMAKE_COMMAND} -S ${work}/src -B ${work}/build -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${SDK_PREFIX} ${launcher})
run(${CMAKE_COMMAND} --build ${work}/build)
run(${CMAKE_CTEST_COMMAND} --test-dir ${work}/build --output-on-failure)

# The version policy, as find_package sees it.
file(WRITE ${work}/versions/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(versions NONE)
find_package(clinicore_sdk 1.0 REQUIRED)
find_package(clinicore_sdk 2.0 QUIET)
if(clinicore_sdk_FOUND)
  message(FATAL_ERROR "an SDK 1.x must not satisfy find_package(clinicore_sdk 2.0)")
endif()
math(EXPR newer_minor "${clinicore_sdk_ABI_MINOR} + 1")
find_package(clinicore_sdk 1.${newer_minor} QUIET)
if(clinicore_sdk_FOUND)
  message(FATAL_ERROR "SDK 1.${clinicore_sdk_ABI_MINOR} must not satisfy a request for 1.${newer_minor}")
endif()
]=])
run(${CMAKE_COMMAND} -S ${work}/versions -B ${work}/versions/build -DCMAKE_PREFIX_PATH=${SDK_PREFIX})
file(REMOVE_RECURSE ${work})
message("out-of-tree example: built with the installed SDK only, conformance passed, version policy holds")
