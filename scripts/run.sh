#!/usr/bin/env bash
# The README's run command: installs what is missing, builds cairn (Release) and runs the main job:
# one cairnd peer with the embedded defaults (data in ./cairn-data, gossip on 127.0.0.1:7400, clients on
# 127.0.0.1:7401, HTTP on 127.0.0.1:7402, a single-peer cluster until others join with
# --seed 127.0.0.1:7400). It also builds the `cairn` CLI to talk to it. Stop it with Ctrl-C.
# Extra arguments go to cairnd (see `scripts/run.sh --help`).
#
# Progress goes to stderr: one "run.sh: [n/4]" line per step, apt's and the build tool's own progress
# lines under it; stdout carries only cairnd's output (its ready line), for scripts. When everything is
# installed and built, the steps take about a second and cairnd starts at once.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf 'run.sh: %s\n' "$*" >&2; }

build_dir=${CAIRN_BUILD_DIR:-build/release}

step "[1/4] checking the Debian packages (scripts/install-deps.sh)"
scripts/install-deps.sh

if [[ -f "$build_dir/build.ninja" ]]; then
  # Ninja re-runs CMake by itself when a CMakeLists.txt has changed since.
  step "[2/4] $build_dir is configured already"
else
  step "[2/4] configuring $build_dir (CMake, Release, Ninja)"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
fi

step "[3/4] building cairnd and the cairn CLI in $build_dir (the first build takes minutes; ninja shows [done/total])"
cmake --build "$build_dir" --target cairnd cairn_cli >&2

step "[4/4] starting $build_dir/src/daemon/cairnd${*:+ $*} (Ctrl-C stops it)"
exec "$build_dir/src/daemon/cairnd" "$@"
