// Two stores reconciled by their anti-entropy machines alone, with no membership, ring or delta
// gossip around them: every message is encoded into a frame and decoded again, as on the wire, and
// delivered at once, in order. For the anti-entropy tests and bench/anti_entropy_bench.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "src/store/replica.h"
#include "gossip/anti_entropy.h"

namespace cairn::sim {

// Fills stores fast with register writes of a replica that is none of them (`writer`): keys
// <prefix><first> .. <prefix><first + count - 1>, values of `value_bytes` bytes, merged as delta-groups of
// 10,000 writes, as if gossiped from that replica. Returns the bytes of those delta-groups (what
// shipping the whole data set would cost), or 0 when a store refused one.
std::uint64_t load_registers(const std::vector<store::Replica*>& stores, std::uint64_t writer,
                             const std::string& prefix, std::uint64_t first, std::uint64_t count,
                             std::size_t value_bytes);

class StorePair {
 public:
  // The stores are borrowed and must outlive the pair.
  StorePair(store::Replica& a, store::Replica& b, gossip::AntiEntropyOptions options = {});

  struct RoundResult {
    bool completed = false;  // The round ran to its end (not abandoned).
    bool in_sync = false;    // It ended with every bucket equal and the contexts joined.
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
