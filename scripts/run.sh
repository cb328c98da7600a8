#!/usr/bin/env bash
# The README's run command: installs what is missing, builds cairn (Release) and runs the main job.
#
# Until the cairnd daemon lands (issue "Peers that find each other..."), the main job is the
# partition demo: three in-process replicas split by a partition, written on both sides, healed,
# and checked for convergence. It exits non-zero if they do not converge.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${CAIRN_BUILD_DIR:-build/release}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --target partition_demo >/dev/null
exec "$build_dir/examples/partition_demo" "$@"
