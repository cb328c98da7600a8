#!/usr/bin/env bash
# Installs every Debian package that cairn's build, tests, fuzzers and benchmarks use.
# Idempotent: when every package is already installed it does no apt work and returns at once (one
# line on stderr says so). Otherwise apt's progress lines go to stderr.
# Add a package here in the same commit that starts using it, with the reason in the commit message.
set -euo pipefail

packages=(
  # toolchain and build
  cmake ninja-build pkg-config ccache g++ clang-14 libclang-rt-14-dev
  # libraries the code links
  libuv1-dev capnproto libcapnp-dev liblmdb-dev libexpected-dev libcli11-dev
  # daemon config (toml++), CLI --json (nlohmann-json), HTTP /metrics (http-parser), hash-tree buckets (xxhash),
  # peer encryption and tokens (libsodium)
  libtomlplusplus-dev nlohmann-json3-dev libhttp-parser-dev libxxhash-dev libsodium-dev
  # tests and tools around them (iproute2 and iptables: network-namespace partition tests)
  catch2 lmdb-utils iproute2 iptables
  # script(1), which runs the CLI on a pseudo-terminal in the progress-bar test (essential; listed to say so)
  bsdutils
  # benchmark baselines (bench/redis_compare.sh): redis-server and redis-benchmark from Debian
  redis-server redis-tools
  # RESP port tests: hiredis (a C client library in a C++ test) and the Python redis package (a smoke test)
  libhiredis-dev python3-redis
  # operator files (packaging/, tests/packaging): go-md2man builds the man pages from docs/*.md, groff
  # and man-db render them in the test, zsh parses the zsh completion, systemd's systemd-analyze
  # verifies examples/systemd/cairnd.service
  go-md2man groff-base man-db zsh systemd
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are installed" >&2
  exit 0
fi

# apt's own progress lines go to stderr, so a long install shows what it is doing.
echo "install-deps: installing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}" >&2
sudo_cmd=()
if ((EUID != 0)); then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update" >&2
"${sudo_cmd[@]}" apt-get update >&2
echo "install-deps: apt-get install" >&2
"${sudo_cmd[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2
echo "install-deps: done" >&2
