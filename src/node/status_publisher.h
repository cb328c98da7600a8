// What the data lane publishes for status() and metrics() (a node::ProtocolSnapshot), and the operator
// log lines that go with it: a changed replica id, the members' first identity confirmation, write
// failure episodes, and (on the membership lane) members changing state. Kept apart from node.cpp so
// the node keeps its lifecycle and wiring, and this reads the peer and the store through what it is
// given, not through the node's members.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/node.h"
#include "cairn/store.h"
#include "gossip/peer.h"
#include "src/node/protocol_snapshot.h"
#include "src/store/replica.h"

namespace cairn::node {

// How often the worker re-reads the store's usage for metrics (it takes a read transaction).
inline constexpr std::uint64_t kStoreUsageRefreshMs = 1000;

// The steady clock in milliseconds: the node's (and its lanes') one notion of now.
std::uint64_t steady_now_ms();

// "alive", "suspect", "dead" or "left": a member's state in status and log lines.
const char* status_name(gossip::MemberStatus status);

// One warning per change of this peer's replica id: why, both ids, and what the operator does about
// the old one (docs/store.md "Identity", docs/metadata-gc.md). Nothing when `change` is empty.
void log_identity_change(const std::optional<IdentityChange>& change);

// Builds the snapshot on the data lane. Not thread-safe: only the data lane calls it. Borrows the
// peer, the store and the node's counters, which must outlive it.
class StatusPublisher {
 public:
  struct Borrowed {
    gossip::Peer& peer;
    store::Replica& store;
    // The node's replica id, read by any thread: updated here when the cluster retired the old one.
    std::atomic<std::uint64_t>& replica_id;
    // Frames dropped because a lane's queue was full (counted on the loop thread and the lanes).
    const std::atomic<std::uint64_t>& frames_dropped_busy;
  };

  // `seeds` as configured; `started_ms` when the peer started (steady_now_ms()).
  StatusPublisher(Borrowed borrowed, std::uint16_t gossip_port, std::vector<std::string> seeds,
                  std::uint64_t started_ms);

  // Logs identity news, then describes this peer, the cluster and the protocol's counters at `now`.
  // The store usage and write health are left to finish().
  ProtocolSnapshot describe(std::uint64_t now);

  // Completes `snapshot` whose store_usage and store_usage_at_ms hold the last published ones:
  // re-reads the usage when kStoreUsageRefreshMs passed (it takes a read transaction), and notes
  // (and logs) the write health.
  void finish(ProtocolSnapshot& snapshot, std::uint64_t now);

 private:
  void log_identity_news();
  void describe_self(NodeStatus& status) const;
  void describe_cluster(NodeStatus& status, std::uint64_t now) const;
  void take_protocol_stats(ProtocolSnapshot& snapshot) const;
  void refresh_store_usage(ProtocolSnapshot& snapshot, std::uint64_t now);
  void note_write_health(const WriteHealth& writes, std::uint64_t now, ProtocolSnapshot& snapshot);

  Borrowed borrowed_;
  std::uint16_t gossip_port_;
  std::vector<std::string> seeds_;
  std::uint64_t started_ms_;
  std::uint64_t identity_confirmations_logged_ = 0;
  // Write failure episodes already logged, and when the current one began.
  std::uint64_t logged_write_episodes_ = 0;
  std::uint64_t writes_failing_since_ms_ = 0;
  bool announced_write_failure_ = false;
};

// On the membership lane: one info line per member whose state changed since the last call, so an
// operator reading the log sees peers join, fail, return and leave when it happens (not when the
// data lane next publishes, which a long merge may delay). Not thread-safe.
class MembershipChangeLog {
 public:
  void log_changes(const std::map<gossip::PeerId, gossip::Member>& members);

 private:
  std::map<std::uint64_t, std::string> logged_states_;  // Member states already logged.
};

}  // namespace cairn::node
