# Run by the cairn_build_info_header target (cmake/BuildInfo.cmake) with -DVERSION, -DGIT (may be
# empty or NOTFOUND), -DSOURCE_DIR and -DOUTPUT: writes OUTPUT only when its text would change.
set(commit "unknown")
if(GIT AND EXISTS "${GIT}")
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" describe --always --dirty
    OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(NOT failed AND NOT described STREQUAL "")
    set(commit "${described}")
  endif()
endif()
set(text "// Written by cmake/write_build_info.cmake at build time; do not edit.
#pragma once

namespace cairn::build_info {

inline constexpr const char* kVersion = \"${VERSION}\";
// `git describe --always --dirty` of the source tree (\"-dirty\": built with uncommitted changes), or
// \"unknown\" when it was built outside a git checkout.
inline constexpr const char* kCommit = \"${commit}\";

}  // namespace cairn::build_info
")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
