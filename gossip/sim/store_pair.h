// Two stores reconciled by their anti-entropy machines alone, with no membership, ring or delta
// gossip around them: every message is encoded into a frame and decoded again, as on the wire, and
// delivered at once, in order. For the anti-entropy tests and bench/anti_entropy_bench.
#pragma once

#include <cstdint>

#include "cairn/store.h"
#include "gossip/anti_entropy.h"

namespace cairn::sim {

class StorePair {
 public:
  // The stores are borrowed and must outlive the pair.
  StorePair(Store& a, Store& b, gossip::AntiEntropyOptions options = {});

  struct RoundResult {
    bool completed = false;   // The round ran to its end (not abandoned).
    bool in_sync = false;     // It ended with every bucket equal and the contexts joined.
    std::uint64_t frames = 0;
    std::uint64_t bytes = 0;  // Whole frames, both directions.
  };
  // One round initiated by store `a`, run until no message is left.
  RoundResult reconcile();

  const gossip::AntiEntropy& a() const { return a_; }
  const gossip::AntiEntropy& b() const { return b_; }

 private:
  gossip::Endpoint a_endpoint_{"10.9.0.1", 7400};  // Before the machines, which copy them.
  gossip::Endpoint b_endpoint_{"10.9.0.2", 7400};
  gossip::AntiEntropy a_;
  gossip::AntiEntropy b_;
  gossip::PeerId b_id_;
  std::uint64_t now_ms_ = 1;
};

}  // namespace cairn::sim
