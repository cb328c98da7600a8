// What the protocol worker publishes after each tick for status() and metrics(): a copy, so readers on
// other threads (the HTTP handler on the loop thread, a client's `cairn peers`) never touch the
// protocol's state.
#pragma once

#include <cstdint>

#include "cairn/node.h"
#include "gossip/dissemination.h"
#include "gossip/membership.h"
#include "gossip/peer.h"

namespace cairn::node {

struct ProtocolSnapshot {
  NodeStatus status;
  gossip::PeerStats peer;
  gossip::DisseminationStats dissemination;
  gossip::MembershipStats membership;
  std::uint64_t frames_dropped_busy = 0;  // Frames dropped because the protocol worker's queue was full.
};

}  // namespace cairn::node
