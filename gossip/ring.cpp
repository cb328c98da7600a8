// The ring's neighbour rule (the contract is in ring.h):
//
//   ring links: the `successors` peers after and the `predecessors` peers before the peer's primary
//               position (virtual node 0), counted on the ring of primary positions only;
//   fingers:    for each i in 0..63, the owner of the first position of another peer at or after
//               primary position + 2^i (wrapping), over every virtual node.
//
// Why the two halves use different rings. The ring links carry the guarantee: on the primary ring
// every peer has exactly one position, so "next peer" is a cycle through all members and flooding
// reaches everyone whatever the fingers do. Walking the full ring from the primary position would not
// do: a peer none of whose positions lies next to another peer's primary position is nobody's ring
// link, and only a finger may happen to reach it (in a trial of 30 random sets of 50 peers, one set
// left a peer unreachable). The fingers carry the speed: each doubles the distance covered, so a delta
// crosses the ring in O(log N) rounds. Aiming them at all virtual nodes makes the chance of being a
// finger target proportional to the sum of 8 arcs rather than one arc, which keeps the busiest peer's
// in-degree near 2.5x the mean (near 6x with fingers on the primary ring, as in plain Chord) and mixes
// the graph, so flooding takes 4 rounds at N = 1000 where plain Chord takes 8.
#include "gossip/ring.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <iterator>

#include "src/util/rng.h"

namespace cairn::gossip {
namespace {

constexpr int kMaxVirtualNodes = 1024;
constexpr int kFingerCount = 64;  // One per bit of a ring position.

[[maybe_unused]] bool valid(const RingOptions& options) {
  return options.virtual_nodes >= 1 && options.virtual_nodes <= kMaxVirtualNodes && options.successors >= 0 &&
         options.predecessors >= 0;
}

// The index of the first position at or after `target`, wrapping to 0 past the largest.
std::size_t first_at_or_after(const std::vector<RingPosition>& ring, std::uint64_t target) {
  const auto it = std::partition_point(ring.begin(), ring.end(),
                                       [target](const RingPosition& p) { return p.position < target; });
  return it == ring.end() ? 0 : static_cast<std::size_t>(std::distance(ring.begin(), it));
}

// Appends the first `count` peers other than `self` met walking the primary positions (virtual node
// 0) of `ring` from index `start` (exclusive), forwards or backwards. Each peer has one primary
// position, so the walk meets each peer at most once per lap; it stops after one lap.
void walk_primaries(const std::vector<RingPosition>& ring, std::size_t start, PeerId self, int count,
                    bool forwards, std::vector<PeerId>& out) {
  const std::size_t size = ring.size();
  int found = 0;
  for (std::size_t step = 1; step < size && found < count; ++step) {
    const std::size_t index = forwards ? (start + step) % size : (start + size - step) % size;
    const RingPosition& p = ring[index];
    if (p.virtual_node != 0 || p.peer == self) continue;
    out.push_back(p.peer);
    ++found;
  }
}

// Appends the owner of the first position not owned by `self` at or after `target`. The ring must
// hold another peer.
void append_finger(const std::vector<RingPosition>& ring, std::uint64_t target, PeerId self,
                   std::vector<PeerId>& out) {
  std::size_t index = first_at_or_after(ring, target);
  for (std::size_t step = 0; step < ring.size(); ++step, index = (index + 1) % ring.size()) {
    if (ring[index].peer != self) {
      out.push_back(ring[index].peer);
      return;
    }
  }
  assert(false && "append_finger needs another peer on the ring");
}

}  // namespace

std::uint64_t Ring::position_of(PeerId peer, int virtual_node) {
  // Two SplitMix64 rounds: the first spreads the id, the second the virtual node, so consecutive ids
  // and consecutive virtual nodes both land far apart. Only 64-bit integer arithmetic: the same
  // positions on every platform.
  std::uint64_t state = peer.value;
  std::uint64_t peer_hash = splitmix64(state);
  peer_hash += static_cast<std::uint64_t>(virtual_node) * 0x9E3779B97F4A7C15ULL;
  return splitmix64(peer_hash);
}

void Ring::set_members(const std::vector<PeerId>& members) {
  assert(valid(options_) && "RingOptions out of range");
  std::vector<PeerId> peers = members;
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());

  positions_.clear();
  positions_.reserve(peers.size() * static_cast<std::size_t>(options_.virtual_nodes));
  for (const PeerId peer : peers) {
    for (int v = 0; v < options_.virtual_nodes; ++v) positions_.push_back({position_of(peer, v), peer, v});
  }
  // Ties on position (vanishingly rare) fall back to peer id, then virtual node: still a total order,
  // so every peer sorts the same members into the same ring.
  std::sort(positions_.begin(), positions_.end());
}

std::vector<PeerId> Ring::neighbours(PeerId self) const {
  const std::uint64_t primary = position_of(self, 0);
  const RingPosition self_primary{primary, self, 0};
  const auto it = std::lower_bound(positions_.begin(), positions_.end(), self_primary);
  if (it == positions_.end() || *it != self_primary) return {};  // Not a member.
  const auto self_index = static_cast<std::size_t>(std::distance(positions_.begin(), it));

  std::vector<PeerId> result;
  walk_primaries(positions_, self_index, self, options_.successors, /*forwards=*/true, result);
  walk_primaries(positions_, self_index, self, options_.predecessors, /*forwards=*/false, result);
  // Another peer exists exactly when the ring holds more positions than self's own.
  const bool alone = positions_.size() == static_cast<std::size_t>(options_.virtual_nodes);
  if (options_.fingers && !alone) {
    for (int i = 0; i < kFingerCount; ++i) {
      append_finger(positions_, primary + (std::uint64_t{1} << i), self, result);
    }
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

}  // namespace cairn::gossip
