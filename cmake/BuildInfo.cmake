# cairn_build_info: an interface target whose users can include "cairn_build_info.h", which holds the
# project version and the git commit the binaries are built from (`cairn --version`, `cairnd --version`).
#
# The header is written at build time, not configure time, so the commit is the one built even when
# CMake did not re-run after a commit. The script rewrites it only when its text changes: a build of
# the same commit recompiles nothing, and reconfiguring costs nothing. Outside a git checkout (a source
# tarball), or without git, the commit reads "unknown".
find_program(CAIRN_GIT_EXECUTABLE git)
set(CAIRN_BUILD_INFO_DIR "${PROJECT_BINARY_DIR}/generated/build_info")
add_custom_target(cairn_build_info_header
  COMMAND "${CMAKE_COMMAND}"
          -DVERSION=${PROJECT_VERSION}
          -DGIT=${CAIRN_GIT_EXECUTABLE}
          -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DOUTPUT=${CAIRN_BUILD_INFO_DIR}/cairn_build_info.h
          -P "${PROJECT_SOURCE_DIR}/cmake/write_build_info.cmake"
  BYPRODUCTS "${CAIRN_BUILD_INFO_DIR}/cairn_build_info.h"
  COMMENT "Checking the git commit for cairn_build_info.h"
  VERBATIM)
add_library(cairn_build_info INTERFACE)
target_include_directories(cairn_build_info INTERFACE "${CAIRN_BUILD_INFO_DIR}")
add_dependencies(cairn_build_info cairn_build_info_header)
