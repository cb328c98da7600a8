# Compiler flags shared by every cairn target, applied through the cairn_warnings interface target
# so that third-party code (generated Cap'n Proto sources excepted) is not held to them.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

add_library(cairn_warnings INTERFACE)
target_compile_options(cairn_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # GCC 12 reports -Wnull-dereference inside libstdc++'s own inlined string and streambuf code; clang's
  # version of the warning is precise, so it is on for clang (the sanitizer build) only.
  target_compile_options(cairn_warnings INTERFACE -Wnull-dereference)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports -Wrestrict on ordinary std::string concatenation ("literal" + std::string) once
  # inlined (GCC bug 105329); the warning is noise there, so it is off for GCC only.
  target_compile_options(cairn_warnings INTERFACE -Wno-restrict)
endif()
if(CAIRN_WERROR)
  target_compile_options(cairn_warnings INTERFACE -Werror)
endif()

if(CAIRN_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(WARNING "CAIRN_SANITIZE is meant for clang-14 (CXX=clang++-14); continuing with ${CMAKE_CXX_COMPILER_ID}")
  endif()
  set(sanitize_flags -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${sanitize_flags})
  add_link_options(${sanitize_flags})
endif()

# libFuzzer targets need clang; with another compiler each fuzz target is built as a plain program
# that replays its seed corpus, so the corpus still runs as a regression test.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(CAIRN_HAVE_LIBFUZZER ON)
else()
  set(CAIRN_HAVE_LIBFUZZER OFF)
endif()
