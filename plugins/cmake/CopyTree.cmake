# cmake -DFROM=<dir> -DTO=<dir> -P CopyTree.cmake
# Mirrors FROM into TO: copies new and changed files (keeping their timestamps, so the build
# of the copy stays incremental) and removes files that no longer exist in FROM.
file(GLOB_RECURSE _sources RELATIVE ${FROM} ${FROM}/*)
file(GLOB_RECURSE _copies RELATIVE ${TO} ${TO}/*)
foreach(_file IN LISTS _copies)
  if(NOT EXISTS ${FROM}/${_file})
    file(REMOVE ${TO}/${_file})
  endif()
endforeach()
foreach(_file IN LISTS _sources)
  get_filename_component(_dir ${TO}/${_file} DIRECTORY)
  file(COPY ${FROM}/${_file} DESTINATION ${_dir})
endforeach()
