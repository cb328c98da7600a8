// The hash ring and the gossip neighbours it gives each peer.
//
// Peers sit on a 64-bit ring at positions hashed from their replica id, several virtual nodes each.
// A peer's neighbours are its ring successors and predecessors plus Chord-style fingers (the first peer
// at or after position + 2^i), so flooding a delta to neighbours reaches all N peers in O(log N) rounds,
// where ring neighbours alone would behave like a line (N/2 rounds). Pure and deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "gossip/messages.h"

namespace cairn::gossip {

struct RingOptions {
  // Ring positions per peer, 1 to 1024. Virtual node 0 is the peer's primary position. Fingers land on
  // any virtual node, so more of them spread the finger targets (and their traffic) more evenly.
  int virtual_nodes = 8;
  // Ring links: this many distinct peers after the primary position, and `predecessors` before it,
  // counted on the ring of primary positions only (one per peer), so they form a cycle through every
  // member. With successors == predecessors the ring links are symmetric. Each >= 0, and capped at N-1.
  int successors = 2;
  int predecessors = 2;
  // Chord fingers from the primary position p: for each i in 0..63, the peer owning the first position
  // at or after p + 2^i (wrapping), over all virtual nodes and skipping the peer's own positions. They
  // are one-way (the target need not finger back); they are what makes flooding take O(log N) rounds.
  bool fingers = true;
};

// Ordered by position, then peer id, then virtual node: a total order, so ties on position sort the same
// way on every peer.
struct RingPosition {
  std::uint64_t position = 0;
  PeerId peer;
  int virtual_node = 0;
  friend auto operator<=>(const RingPosition&, const RingPosition&) = default;
};

class Ring {
 public:
  explicit Ring(RingOptions options = {}) : options_(options) {}

  // Replaces the set of peers on the ring (live members, including this peer). Duplicates are ignored and
  // the order of `members` does not matter. Options out of range are a bug (asserted).
  void set_members(const std::vector<PeerId>& members);

  // `self`'s gossip neighbours: its ring links and fingers (see RingOptions), without `self` and without
  // duplicates, sorted by peer id. Empty when `self` is alone or not a member.
  //
  // The result depends only on the current member set and the options, never on the order of earlier
  // calls: a peer that fails and returns gets back exactly the neighbours it had, and every peer
  // computes the same lists. Removing a peer changes only the lists that contained it (it is replaced by
  // the next peer along the ring); adding one changes only the lists that come to contain it.
  //
  // Reach (guaranteed): with successors + predecessors >= 1 the ring links alone form a cycle through
  // all members, so flooding from any peer reaches every peer.
  // Speed (probabilistic, since positions are hashes; tested on seeded random and on consecutive ids):
  // with fingers, synchronous flooding reaches all N peers within ceil(log2 N) + 2 rounds. Measured
  // with the default options: at most 1, 2, 3 (rarely 4), 4, 4 rounds for N = 3, 10, 50, 200, 1000;
  // the ring links alone take exactly ceil(floor(N/2) / 2) = 50 rounds at N = 200.
  //
  // Degree: at most min(N - 1, successors + predecessors + 64) always, and in practice at most
  // successors + predecessors + ceil(log2(N * virtual_nodes)) + 8 (tested): the fingers hit about
  // log2(N * virtual_nodes) distinct peers. With the default options: mean 6.6, 11.2, 14.0, 16.6 and
  // maximum 9, 17, 20, 21 for N = 10, 50, 200, 1000.
  //
  // Cost: expected O(virtual_nodes * (successors + predecessors) + 64 * log(N * virtual_nodes)).
  std::vector<PeerId> neighbours(PeerId self) const;

  // Every position on the ring, virtual_nodes per member, in ring order (for `cairn ring`).
  const std::vector<RingPosition>& positions() const { return positions_; }

  // Where virtual node `virtual_node` of `peer` sits: a SplitMix64-based hash of (peer id, virtual node).
  // Stable: identical on every platform and release, since every peer must compute the same ring.
  static std::uint64_t position_of(PeerId peer, int virtual_node);

 private:
  RingOptions options_;
  std::vector<RingPosition> positions_;  // Sorted (RingPosition's order).
};

}  // namespace cairn::gossip
