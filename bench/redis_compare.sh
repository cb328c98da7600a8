#!/usr/bin/env bash
# Runs bench/client_load (cairn's client protocol) or redis-benchmark (cairn's RESP port) against cairnd,
# and redis-benchmark against redis-server, in one run, on loopback, with matching durability, and
# prints one table of medians and ratios (docs/BENCHMARKS.md records it).
#
#   bench/redis_compare.sh [--build-dir build/release] [-n 100000] [-c 50] [-P "1 16"] [-t set,get,sadd,incr,mset]
#                          [--modes "durable nosync"] [--rounds 3] [--dir /tmp]
#
# Modes (each a pairing of durability settings):
#   durable  cairn --durability group and sync  against  redis appendonly yes, appendfsync always
#   nosync   cairn --durability nosync          against  redis appendfsync everysec, and no persistence
#   resp-durable, resp-nosync   the same pairings, with redis-benchmark driving cairnd's RESP port
# MSET (redis-benchmark's 10 keys per command) runs through the RESP port only: the native client protocol
# has no multi-key write, so a native-mode row for it says n/a.
# Every server gets a fresh data directory under --dir and is stopped by its PID when the script ends,
# also on failure. Needs redis-server and redis-tools (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build/release requests=100000 clients=50 pipelines="1 16" tests=set,get,sadd,incr
modes="durable nosync" rounds=3 base_dir=/tmp
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    -c) clients=$2; shift 2 ;;
    -P) pipelines=$2; shift 2 ;;
    -t) tests=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) base_dir=$2; shift 2 ;;
    *) echo "redis_compare: unknown argument $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done

cairnd=$build_dir/src/daemon/cairnd
client_load=$build_dir/bench/client_load
for binary in "$cairnd" "$client_load"; do
  [[ -x $binary ]] || { echo "redis_compare: $binary is missing: cmake --build $build_dir --target cairnd client_load" >&2; exit 1; }
done
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
  { echo "redis_compare: redis-server/redis-benchmark missing: scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d "$base_dir/redis_compare.XXXXXX")
server_pid=""
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# A TCP port on 127.0.0.1 nobody listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# start_cairnd DURABILITY: sets server_pid and cairn_port.
start_cairnd() {
  local dir="$work/cairn-$1-$RANDOM"
  mkdir -p "$dir"
  "$cairnd" --data-dir "$dir/data" --gossip-port 0 --client-port 0 --http-port 0 --resp-port 0 --durability "$1" \
    --log-level warn >"$dir/ready" 2>"$dir/log" &
  server_pid=$!
  for _ in $(seq 200); do
    grep -q '"event":"ready"' "$dir/ready" 2>/dev/null && break
    sleep 0.05
  done
  cairn_port=$(sed -n 's/.*"client":"[^"]*:\([0-9]*\)".*/\1/p' "$dir/ready")
  cairn_resp_port=$(sed -n 's/.*"resp":"[^"]*:\([0-9]*\)".*/\1/p' "$dir/ready")
  [[ -n $cairn_port ]] || { cat "$dir/log" >&2; echo "redis_compare: cairnd did not start" >&2; exit 1; }
  cairn_token="$dir/data/client.token"
}

# start_redis ARGS...: sets server_pid and redis_port.
start_redis() {
  local dir="$work/redis-$RANDOM"
  mkdir -p "$dir"
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --dir "$dir" "$@" >"$dir/log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do
    [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && return
    sleep 0.05
  done
  cat "$dir/log" >&2
  echo "redis_compare: redis-server did not start" >&2
  exit 1
}

# Prints "TEST RPS" lines: the median over the rounds of each test's requests per second.
measure_cairn() {
  local pipeline=$1 round
  if [[ $front == resp ]]; then
    for round in $(seq "$rounds"); do
      redis-benchmark -h 127.0.0.1 -p "$cairn_resp_port" -a "$(cat "$cairn_token")" -c "$clients" -P "$pipeline" \
        -n "$requests" -r 200000 -d 100 -t "$tests" --csv 2>/dev/null | tail -n +2
    done | tr -d '"' | test_name_and_rate | medians
    return
  fi
  # client_load has no multi-key operation: MSET is measured through the RESP port only.
  local native_tests
  native_tests=$(tr ',' '\n' <<<"$tests" | grep -vx mset | paste -sd, -)
  [[ -n $native_tests ]] || return 0
  for round in $(seq "$rounds"); do
    "$client_load" --connect "127.0.0.1:$cairn_port" --token-file "$cairn_token" -c "$clients" -P "$pipeline" \
      -n "$requests" -r 200000 -d 100 -t "$native_tests" --csv | tail -n +2
  done | tr -d '"' | awk -F, '{print $1, $2}' | medians
}

measure_redis() {
  local pipeline=$1 round
  for round in $(seq "$rounds"); do
    redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$clients" -P "$pipeline" -n "$requests" -r 200000 -d 100 \
      -t "$tests" --csv | tail -n +2
  done | tr -d '"' | test_name_and_rate | medians
}

# redis-benchmark's CSV rows ("MSET (10 keys)",RPS,...) -> "mset RPS": the test's first word, lower case.
test_name_and_rate() { awk -F, '{split(tolower($1), name, " "); print name[1], $2}'; }

# "TEST RPS" lines of several rounds -> one "TEST MEDIAN" line per test, in the order tests were given.
medians() {
  local lines test
  lines=$(cat)
  for test in ${tests//,/ }; do
    printf '%s %s\n' "$test" "$(awk -v t="$test" '$1 == t {print $2}' <<<"$lines" | median)"
  done
}

# compare LABEL CAIRN_DURABILITY REDIS_LABEL REDIS_ARGS...: one table row per test and pipeline depth.
compare() {
  local cairn_durability=$1 redis_label=$2 pipeline cairn_rows redis_rows test
  shift 2
  for pipeline in $pipelines; do
    start_cairnd "$cairn_durability"
    cairn_rows=$(measure_cairn "$pipeline")
    stop_server
    start_redis "$@"
    redis_rows=$(measure_redis "$pipeline")
    stop_server
    for test in ${tests//,/ }; do
      awk -v t="$test" -v p="$pipeline" -v d="$cairn_durability" -v r="$redis_label" \
        -v c="$(awk -v t="$test" '$1 == t {print $2}' <<<"$cairn_rows")" \
        -v s="$(awk -v t="$test" '$1 == t {print $2}' <<<"$redis_rows")" \
        -v f="$front" \
        'BEGIN {
           if (c == "" || s == "") { printf "| %s | %s | cairn %s (%s) | redis %s | n/a | n/a | n/a |\n", toupper(t), p, d, f, r; exit }
           printf "| %s | %s | cairn %s (%s) | redis %s | %.0f/s | %.0f/s | %.3fx |\n", toupper(t), p, d, f, r, c, s, c / s}'
    done
  done
}

echo "redis_compare: $clients connections, $requests requests per test, 100-byte values, keys below 200000," \
  "medians of $rounds rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| test | pipeline | cairn | redis | cairn ops | redis ops | ratio |"
echo "|---|---|---|---|---|---|---|"
for mode in $modes; do
  front=native
  [[ $mode == resp-* ]] && front=resp
  case "${mode#resp-}" in
    durable)
      compare group "appendfsync always" --appendonly yes --appendfsync always
      compare sync "appendfsync always" --appendonly yes --appendfsync always
      ;;
    nosync)
      compare nosync "appendfsync everysec" --appendonly yes --appendfsync everysec
      compare nosync "no persistence" --appendonly no
      ;;
    *) echo "redis_compare: unknown mode $mode (durable, nosync, resp-durable, resp-nosync)" >&2; exit 2 ;;
  esac
done
echo
echo "redis_compare: done; load $(cut -d' ' -f1-3 /proc/loadavg)"
