#!/usr/bin/env python3
# Layering check (issue 14): every `#include "..."` in the tree's sources must point to the same
# layer or a lower one, and the folder-level include graph must have no cycle. Tests, benchmarks and
# examples are outside the check: they may reach into any layer.
#
# Usage: scripts/check-layers.sh [repo-root]   (exit 0: clean; 1: findings, one per line)
# Registered as the ctest test "unit: no include points up a layer"; docs/architecture.md shows the
# table below as the layer picture, so change both together.
import os
import re
import sys

# The one layer table: folder prefix -> rank. A file may include a header whose folder has a rank <=
# its own. The longest matching prefix wins, so `gossip/transport` could get its own rank later.
# include/cairn is rank 0: the public headers include nothing of the tree but each other, so every
# layer may include them (src/store implements cairn/store.h, src/util implements cairn/status.h).
LAYERS = {
    "crdt": 0,            # header-only CRDT algebra
    "include/cairn": 0,   # the public API: types and interfaces only
    "src/util": 1,        # logging, hex ids, clocks, signals (system_clock.h adapts crdt's WallClock)
    "src/net": 2,         # event loop, stream/session servers, datagram socket, task pool (on main;
                          #   not yet in every tree, and harmless where absent)
    "schema": 3,          # Cap'n Proto schemas (generated *.capnp.h)
    "src/codec": 3,       # stored-record codecs and the shared frame header
    "src/protocol": 4,    # the client protocol's codec
    "src/store": 5,       # LMDB store
    "gossip": 6,          # sans-I/O peer, wire codec, libuv transport, simulator
    "src/server": 7,      # front doors: client protocol listener,
    "src/resp": 7,        #   RESP core (and its listener),
    "src/http": 7,        #   HTTP listener,
    "src/metrics": 7,     #   Prometheus renderer,
    "src/client": 7,      #   and the client library (the client side of the protocol);
    "src/backup": 7,      # backups, restore, export, import (over the store and the client)
    "src/node": 8,        # Node: store + Peer + listeners
    "src/daemon": 9,      # programs: cairnd
    "src/capi": 9,        #   the C API over Store and Node (libcairn's stable ABI)
    "tools": 9,           #   and the cairn CLI
}

# Known exceptions: (including file, included header) -> reason. Keep it empty when possible.
EXCEPTIONS = {
}

SOURCE_ROOTS = ["crdt", "include", "src", "gossip", "schema", "tools"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(folder):
    best = None
    for prefix in LAYERS:
        if folder == prefix or folder.startswith(prefix + "/"):
            if best is None or len(prefix) > len(best):
                best = prefix
    return best


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    os.chdir(root)
    problems = []
    graph = {}  # folder -> {folder: first "file:line" that makes the edge}
    for top in SOURCE_ROOTS:
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                if not name.endswith((".h", ".hpp", ".cpp", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                folder = dirpath
                own = layer_of(folder)
                if own is None:
                    problems.append(f"{path}: folder {folder} is not in the layer table of scripts/check-layers.sh")
                    continue
                with open(path, encoding="utf-8", errors="replace") as source:
                    for number, line in enumerate(source, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        header = match.group(1)
                        if header.startswith("cairn/"):
                            target = "include/cairn"
                        elif "/" in header:
                            target = os.path.dirname(header)
                        else:
                            target = folder  # a generated header next to its user (cairn_build_info.h)
                        where = f"{path}:{number}"
                        if target != folder:
                            graph.setdefault(folder, {}).setdefault(target, where)
                        theirs = layer_of(target)
                        if theirs is None:
                            problems.append(f"{where}: includes {header}, whose folder {target} is not in the layer table")
                        elif LAYERS[theirs] > LAYERS[own] and (path, header) not in EXCEPTIONS:
                            problems.append(f"{where}: {folder} (layer {LAYERS[own]}) includes {header} "
                                            f"from {theirs} (layer {LAYERS[theirs]}), a higher layer")
    problems += cycles(graph)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check-layers: {len(problems)} finding(s)")
        return 1
    print(f"check-layers: {sum(len(v) for v in graph.values())} folder edges, no upward include, no cycle")
    return 0


def cycles(graph):
    # Depth-first search with colours; each back edge closes one cycle, reported with the include
    # that makes each of its edges.
    found, colour, stack = [], {}, []

    def visit(node):
        colour[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if colour.get(nxt) == "grey":
                loop = stack[stack.index(nxt):] + [nxt]
                steps = ", ".join(f"{a} -> {b} ({graph[a][b]})" for a, b in zip(loop, loop[1:]))
                found.append(f"folder include cycle: {steps}")
            elif nxt not in colour:
                visit(nxt)
        stack.pop()
        colour[node] = "black"

    for node in sorted(graph):
        if node not in colour:
            visit(node)
    return found


if __name__ == "__main__":
    sys.exit(main())
