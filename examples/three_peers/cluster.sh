#!/usr/bin/env bash
# A 3-peer cairn cluster on loopback, driven with the `cairn` CLI:
#   1. start peers A, B, C (C and B join through A),
#   2. write on A, read the value back on B and C,
#   3. kill C (SIGKILL: no goodbye), write more on A,
#   4. restart C from its data directory and watch it catch up,
#   5. stop everything it started (also when a step fails or you press Ctrl-C).
#
# Usage: examples/three_peers/cluster.sh [BUILD_DIR]     (default: build/release)
# Every port is ephemeral and every file lives in a temp dir, so it never collides with a running peer.
set -euo pipefail

build_dir=${1:-build/release}
cairnd="$build_dir/src/daemon/cairnd"
cairn="$build_dir/tools/cairn"
for binary in "$cairnd" "$cairn"; do
  [[ -x "$binary" ]] || { echo "cluster.sh: $binary not found; build first (scripts/test.sh builds it)" >&2; exit 2; }
done

work=$(mktemp -d -t cairn-example-XXXXXX)
declare -A pid
cleanup() {
  for name in "${!pid[@]}"; do kill -TERM "${pid[$name]}" 2>/dev/null || true; done
  for name in "${!pid[@]}"; do wait "${pid[$name]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }

# A field of a peer's ready line, e.g. field A client -> 127.0.0.1:40123
field() { sed -E "s/.*\"$2\":\"([^\"]+)\".*/\1/" "$work/$1.ready"; }

# start NAME [cairnd flags...]: runs a peer in the background and waits for its ready line.
start() {
  local name=$1; shift
  rm -f "$work/$name.ready"
  "$cairnd" --data-dir "$work/$name" --client-port 0 --http-port 0 --resp-port 0 --gossip-interval-ms 100 \
    --ports-file "$work/$name.ready" "$@" >/dev/null 2>"$work/$name.log" &
  pid[$name]=$!
  for _ in $(seq 100); do [[ -s "$work/$name.ready" ]] && break; sleep 0.1; done
  [[ -s "$work/$name.ready" ]] || { echo "peer $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
  echo "peer $name: replica $(field "$name" replica), gossip $(field "$name" gossip), client $(field "$name" client)"
}

cli() { local name=$1; shift; "$cairn" --connect "$(field "$name" client)" --data-dir "$work/$name" "$@"; }

# until_true SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
until_true() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}

count_keys() { cli "$1" keys "$2" | wc -l; }
has_keys() { [[ $(count_keys "$1" "$2") -eq $3 ]]; }
# `peers` lists the peer asked too (marked "self"), so a peer that sees both others counts 3 alive.
alive_peers() { [[ $(cli "$1" peers --json | grep -o '"state":"alive"' | wc -l) -eq $2 ]]; }

say "starting peers A, B and C on loopback"
# A creates the cluster key on its first start (A/cluster.key); B and C join with the same key.
start A --gossip-port 0
key="$work/A/cluster.key"
start B --gossip-port 0 --seed "$(field A gossip)" --cluster-key-file "$key"
start C --gossip-port 0 --seed "$(field A gossip)" --cluster-key-file "$key"
until_true 20 alive_peers A 3
cli A peers

say "write on A, read on B and C"
cli A put city Lisbon
cli A sadd visited Porto Faro
cli A incr trips 2
until_true 20 cli C get city
for name in B C; do
  echo "$name: city=$(cli $name get city) visited=$(cli $name smembers visited | tr '\n' ' ')trips=$(cli $name counter trips)"
done

say "kill C with SIGKILL, then write 50 more keys on A"
c_gossip_port=$(field C gossip | sed -E 's/.*://')
kill -KILL "${pid[C]}"; wait "${pid[C]}" 2>/dev/null || true; unset 'pid[C]'
for i in $(seq -w 1 50); do cli A put "offline:$i" "written while C was down" >/dev/null; done
until_true 20 has_keys B offline: 50
echo "A and B hold $(count_keys B offline:) offline:* keys; C is down"

say "restart C from its data directory (same gossip port) and let it catch up"
start C --gossip-port "$c_gossip_port" --seed "$(field A gossip)" --cluster-key-file "$key"
until_true 60 has_keys C offline: 50
echo "C caught up: $(count_keys C offline:) offline:* keys, city=$(cli C get city)"
cli C inspect offline:50

say "done: stopping A, B and C"
