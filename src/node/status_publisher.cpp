// See status_publisher.h.
#include "src/node/status_publisher.h"

#include <chrono>
#include <utility>

#include "src/util/hex_id.h"
#include "src/util/log.h"

namespace cairn::node {

std::uint64_t steady_now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

const char* status_name(gossip::MemberStatus status) {
  switch (status) {
    case gossip::MemberStatus::kAlive: return "alive";
    case gossip::MemberStatus::kSuspect: return "suspect";
    case gossip::MemberStatus::kDead: return "dead";
    case gossip::MemberStatus::kLeft: return "left";
  }
  return "unknown";
}

void log_identity_change(const std::optional<IdentityChange>& change) {
  if (!change) return;
  const std::string old_id = hex_id(change->old_replica), new_id = hex_id(change->new_replica);
  const std::string retire_old = "; once no peer runs as " + old_id + " any more, retire it (cairn retire " +
                                 old_id + ") so that it leaves every version vector (its peers also retire it "
                                 "after it has been dead for the retire-after horizon)";
  const std::string set_aside = change->emptied ? "; the " + std::to_string(change->writes_set_aside) +
                                                      " writes it made as " + old_id +
                                                      " since it started are set aside and re-issued once it has caught up"
                                                : ", keeping all its data";
  switch (change->reason) {
    case IdentityChangeReason::kRetired:
      log::warn("gossip", "the cluster retired replica " + old_id +
                              " while it was away: this peer now continues as replica " + new_id +
                              " and re-issues its unsynced writes once it has caught up");
      return;
    case IdentityChangeReason::kCopied:
      log::warn("store", "this data directory is a copy (" + change->detail + "): so that two peers never write as one, " +
                             "it continues as replica " + new_id + set_aside + ". If the peer it was copied from " +
                             "still runs as " + old_id + ", nothing more is needed" + retire_old);
      return;
    case IdentityChangeReason::kConflict:
      log::warn("gossip", "another copy of this data directory writes as replica " + old_id + " (" + change->detail +
                              "; a directory restored or rolled back in place?): this peer stops writing as " +
                              old_id + " and continues as replica " + new_id + set_aside + retire_old);
      return;
    case IdentityChangeReason::kRequested:
      log::warn("store", "replica " + old_id + " continues as replica " + new_id + set_aside + retire_old);
      return;
  }
}

StatusPublisher::StatusPublisher(Borrowed borrowed, std::uint16_t gossip_port, std::vector<std::string> seeds,
                                 std::uint64_t started_ms)
    : borrowed_(borrowed), gossip_port_(gossip_port), seeds_(std::move(seeds)), started_ms_(started_ms) {}

ProtocolSnapshot StatusPublisher::describe(std::uint64_t now) {
  log_identity_news();
  ProtocolSnapshot snapshot;
  describe_self(snapshot.status);
  describe_cluster(snapshot.status, now);
  take_protocol_stats(snapshot);
  return snapshot;
}

void StatusPublisher::finish(ProtocolSnapshot& snapshot, std::uint64_t now) {
  refresh_store_usage(snapshot, now);
  note_write_health(snapshot.store_usage.writes, now, snapshot);
}

// Logs a new replica id (the cluster retired this peer's old one) and the members' first
// confirmation that no other copy of this peer writes as its replica.
void StatusPublisher::log_identity_news() {
  gossip::Peer& peer = borrowed_.peer;
  if (peer.id().value != borrowed_.replica_id.load()) {
    log_identity_change(borrowed_.store.identity().last_change);
    borrowed_.replica_id = peer.id().value;
  }
  if (peer.stability().stats().identity_confirmations > identity_confirmations_logged_) {
    identity_confirmations_logged_ = peer.stability().stats().identity_confirmations;
    log::info("gossip", "its members confirmed that no other copy of this peer wrote as replica " +
                            hex_id(borrowed_.replica_id.load()) + ": its writes since it started now go out (held " +
                            std::to_string(steady_now_ms() - started_ms_) + " ms)");
  }
}

// This peer's own part of the status: who and where it is.
void StatusPublisher::describe_self(NodeStatus& status) const {
  gossip::Peer& peer = borrowed_.peer;
  status.replica_id = borrowed_.replica_id;
  status.gossip_port = gossip_port_;
  status.address = peer.endpoint().to_string();
  status.incarnation = peer.membership().incarnation();
  status.seeds = seeds_;
  status.frames_dropped = peer.stats().frames_dropped_total() + peer.stats().frames_from_other_clusters +
                          peer.stats().frames_other_partition_count +
                          borrowed_.frames_dropped_busy.load();
}

// The members (with their ring positions and, for neighbours, how far behind they are), the pending
// retirements, the neighbours and this peer's ring positions.
void StatusPublisher::describe_cluster(NodeStatus& status, std::uint64_t now) const {
  gossip::Peer& peer = borrowed_.peer;
  const std::map<gossip::PeerId, std::uint64_t> acknowledged = peer.dissemination().acknowledged();
  const auto bounds = borrowed_.store.delta_log_bounds();
  const std::uint64_t last_logged = bounds ? bounds->last : 0;
  std::map<std::uint64_t, std::vector<std::uint64_t>> positions;
  for (const gossip::RingPosition& position : peer.ring().positions()) {
    positions[position.peer.value].push_back(position.position);
  }
  for (const auto& [id, member] : peer.membership().members()) {
    NodeStatus::Member entry;
    entry.id = id.value;
    entry.address = member.endpoint.to_string();
    entry.state = status_name(member.status);
    entry.incarnation = member.incarnation;
    entry.last_heard_ms_ago = member.last_heard_ms == 0 || member.last_heard_ms > now ? 0 : now - member.last_heard_ms;
    if (auto acked = acknowledged.find(id); acked != acknowledged.end()) {
      entry.neighbour = true;
      entry.lag_entries = last_logged > acked->second ? last_logged - acked->second : 0;
    }
    entry.ring_positions = positions[id.value];
    status.members.push_back(std::move(entry));
  }
  for (const gossip::PendingRetirement& pending : peer.stability().pending(peer.membership())) {
    NodeStatus::PendingRetirement entry{pending.replica.value,
                                        now >= pending.proposed_ms ? now - pending.proposed_ms : 0,
                                        pending.by_operator,
                                        {}};
    for (gossip::PeerId member : pending.waiting_for) entry.waiting_for.push_back(member.value);
    status.pending_retirements.push_back(std::move(entry));
  }
  for (gossip::PeerId neighbour : peer.neighbours()) status.neighbours.push_back(neighbour.value);
  status.ring_positions = positions[status.replica_id];
}

void StatusPublisher::take_protocol_stats(ProtocolSnapshot& snapshot) const {
  gossip::Peer& peer = borrowed_.peer;
  snapshot.peer = peer.stats();
  snapshot.dissemination = peer.dissemination().stats();
  snapshot.membership = peer.membership().stats();
  snapshot.anti_entropy = peer.anti_entropy().stats();
  snapshot.stability = peer.stability().stats();
  snapshot.frames_dropped_busy = borrowed_.frames_dropped_busy.load();
}

// The store's usage takes a read transaction, so it is re-read at most every kStoreUsageRefreshMs;
// in between the last published figures (already in `snapshot`) are carried over.
void StatusPublisher::refresh_store_usage(ProtocolSnapshot& snapshot, std::uint64_t now) {
  if (snapshot.store_usage_at_ms == 0 || now >= snapshot.store_usage_at_ms + kStoreUsageRefreshMs) {
    if (auto usage = borrowed_.store.usage()) {
      snapshot.store_usage = *usage;
      snapshot.store_usage_at_ms = now;
    }
  }
}

// One error line when writes start failing (an episode), one info line when they succeed again, and
// when the current episode began (for /health).
void StatusPublisher::note_write_health(const WriteHealth& writes, std::uint64_t now, ProtocolSnapshot& snapshot) {
  if (writes.episodes > logged_write_episodes_) {
    logged_write_episodes_ = writes.episodes;
    writes_failing_since_ms_ = now;
    announced_write_failure_ = true;
    log::error("store", "writes are failing: " + writes.last_error +
                            ". The peer keeps serving reads and tries each new write again");
  }
  if (announced_write_failure_ && !writes.failing) {
    announced_write_failure_ = false;
    log::info("store", "writes succeed again (" + std::to_string(writes.failed_commits) +
                           " commits failed since start)");
  }
  snapshot.writes_failing_since_ms = writes.failing ? writes_failing_since_ms_ : 0;
}

void MembershipChangeLog::log_changes(const std::map<gossip::PeerId, gossip::Member>& members) {
  for (const auto& [id, member] : members) {
    const std::string state = status_name(member.status);
    std::string& known = logged_states_[id.value];
    if (known == state) continue;
    log::info("membership", "peer " + hex_id(id.value) + " at " + member.endpoint.to_string() + " is " + state +
                                (known.empty() ? "" : " (was " + known + ")"));
    known = state;
  }
}

}  // namespace cairn::node
