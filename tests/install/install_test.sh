#!/usr/bin/env bash
# Installs the already-built tree into a temporary prefix (cmake --install: nothing is rebuilt) and
# builds two outside consumers against it: a C++ project with find_package(cairn) (shared and static),
# and a C file with pkg-config and a plain compiler line (shared, and static through Libs.private).
# Runs each and checks its output; checks the layout of the prefix and the SONAME.
#
# Usage: install_test.sh BUILD_DIR      (needs `ninja -C BUILD_DIR` done: cairnd, cairn, libcairn)
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap "rm -rf \"$work\"" EXIT
prefix="$work/prefix"
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log" >&2; fail "cmake --install"; }

# The layout: one library (static and shared), public headers only, the programs, both package files.
libdir=$(dirname "$(find "$prefix" -name cairn.pc)")/..
libdir=$(cd "$libdir" && pwd)
for file in bin/cairnd bin/cairn include/cairn/cairn.h include/cairn/store.h include/cairn/node.h; do
  [[ -e "$prefix/$file" ]] || fail "missing $file"
done
for file in libcairn.a libcairn.so libcairn.so.1 cmake/cairn/cairnConfig.cmake pkgconfig/cairn.pc; do
  [[ -e "$libdir/$file" ]] || fail "missing $libdir/$file"
done
[[ $(find "$prefix/include" -type f | grep -vc '/include/cairn/[a-z_]*\.h$') == 0 ]] || fail "a non-public file in include/"
grep -rhE '^#include "' "$prefix/include/cairn" | grep -v '"cairn/' && fail "a public header includes a non-public one"
soname=$(objdump -p "$libdir/libcairn.so" | awk '/SONAME/ {print $2}')
[[ "$soname" == "libcairn.so.1" ]] || fail "SONAME is '$soname', not libcairn.so.1"
"$prefix/bin/cairnd" --version > /dev/null || fail "installed cairnd --version"

launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi

# 1. CMake: find_package(cairn COMPONENTS static) -> cairn::cairn (shared) and cairn::static.
cmake -S "$here/cmake_consumer" -B "$work/cmake_build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "${launcher[@]}" > "$work/cmake.log" 2>&1 || { cat "$work/cmake.log" >&2; fail "consumer configure"; }
cmake --build "$work/cmake_build" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "consumer build"; }
for program in consumer_shared consumer_static; do
  out=$("$work/cmake_build/$program" "$work/data-$program")
  [[ "$out" == "consumer ok works 2" ]] || fail "$program printed '$out'"
done
# ldd's output is taken whole: `ldd | grep -q` under pipefail fails at random when grep stops reading early.
loaded=$(ldd "$work/cmake_build/consumer_shared")
[[ "$loaded" == *"$libdir/libcairn.so.1"* ]] || fail "consumer_shared does not load $libdir/libcairn.so.1: $loaded"
[[ "$(ldd "$work/cmake_build/consumer_static")" != *libcairn* ]] || fail "consumer_static loads libcairn.so"

# 2. pkg-config and a plain compiler line, in C: shared, then static with the *.private flags.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
[[ $(pkg-config --modversion cairn) == $(sed -n 's/^Version: //p' "$libdir/pkgconfig/cairn.pc") ]] || fail "pkg-config --modversion"
cc -std=c99 -Wall -Werror -o "$work/c_shared" "$here/pkgconfig_consumer.c" $(pkg-config --cflags --libs cairn) \
  -Wl,-rpath,"$libdir" || fail "compiling the pkg-config consumer (shared)"
out=$("$work/c_shared" "$work/data-c-shared")
[[ "$out" == "pkg-config consumer ok pkg-config abi 1" ]] || fail "c_shared printed '$out'"
static_libs=$(pkg-config --static --libs cairn | sed 's/-lcairn\b/-l:libcairn.a/')
cc -std=c99 -Wall -Werror -o "$work/c_static" "$here/pkgconfig_consumer.c" $(pkg-config --cflags cairn) $static_libs \
  || fail "linking the pkg-config consumer statically ($static_libs)"
[[ "$(ldd "$work/c_static")" != *libcairn* ]] || fail "c_static loads libcairn.so"
out=$("$work/c_static" "$work/data-c-static")
[[ "$out" == "pkg-config consumer ok pkg-config abi 1" ]] || fail "c_static printed '$out'"
echo "install_test: installed into a temporary prefix; CMake (shared, static) and pkg-config (shared, static) consumers built and ran"
