#!/usr/bin/env bash
# The README's run command: installs what is missing, builds cairn (Release) and runs the main job:
# one cairnd peer with the embedded defaults (data in ./cairn-data, gossip on 127.0.0.1:7400, clients on
# 127.0.0.1:7401, HTTP on 127.0.0.1:7402, a single-peer cluster until others join with
# --seed 127.0.0.1:7400). It also builds the `cairn` CLI to talk to it. Stop it with Ctrl-C.
# Extra arguments go to cairnd (see `scripts/run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${CAIRN_BUILD_DIR:-build/release}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" --target cairnd cairn_cli >/dev/null
exec "$build_dir/src/daemon/cairnd" "$@"
