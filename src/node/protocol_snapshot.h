// What the protocol worker publishes after each tick for status() and metrics(): a copy, so readers on
// other threads (the HTTP handler on the loop thread, a client's `cairn peers`) never touch the
// protocol's state or the store. The store's usage is refreshed at most once a second.
#pragma once

#include <cstdint>

#include "cairn/node.h"
#include "cairn/store.h"
#include "gossip/anti_entropy.h"
#include "gossip/dissemination.h"
#include "gossip/membership.h"
#include "gossip/peer.h"
#include "gossip/stability.h"

namespace cairn::node {

struct ProtocolSnapshot {
  NodeStatus status;
  gossip::PeerStats peer;
  gossip::DisseminationStats dissemination;
  gossip::MembershipStats membership;
  gossip::AntiEntropyStats anti_entropy;
  gossip::StabilityStats stability;
  std::uint64_t frames_dropped_busy = 0;  // Frames dropped because the protocol worker's queue was full.
  StoreUsage store_usage;
  std::uint64_t store_usage_at_ms = 0;  // When store_usage was read (0: never).
  std::uint64_t writes_failing_since_ms = 0;  // When the current write failure episode was seen to begin.
};

}  // namespace cairn::node
