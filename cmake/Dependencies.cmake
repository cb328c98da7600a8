# Every external package cairn uses, all from Debian (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
find_package(CapnProto CONFIG REQUIRED)
find_package(Threads REQUIRED)

# tl::expected is header-only and Debian ships no CMake config for it.
find_path(TL_EXPECTED_INCLUDE_DIR tl/expected.hpp REQUIRED)
add_library(tl_expected INTERFACE)
target_include_directories(tl_expected SYSTEM INTERFACE "${TL_EXPECTED_INCLUDE_DIR}")

# cairnd's config file (TOML) and the CLI's --json output.
find_package(tomlplusplus CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
# libsodium: base64 in the CLI's --json output (and, with the security issue, peer encryption).
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# http-parser (the HTTP listener's request reader) ships neither a CMake config nor a .pc file.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")

if(CAIRN_BUILD_TESTS)
  find_package(Catch2 2 CONFIG REQUIRED)
  include(Catch)
endif()

# xxHash (xxh3-64) for the anti-entropy hash tree's bucket and record hashes.
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
