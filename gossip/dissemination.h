// Delta dissemination: pushes new delta-groups from the store's delta log to the gossip neighbours,
// merges what neighbours push, and trims the log once every neighbour has acknowledged it.
//
// Each tick, every neighbour gets the log entries it has not acknowledged, in batches, over the stream
// channel; it merges them and acknowledges by the sender's sequence. A push that stays unacknowledged
// past `resend_after_ms` is sent again (merging is idempotent). An entry that came from a neighbour is
// never sent back to it, and the store logs only the part of a merged delta that was new, so only new
// information travels onward (BP+RR, Enes et al., "Efficient Synchronization of State-based CRDTs",
// ICDE 2019). A neighbour whose next entry was already trimmed is left to anti-entropy. Entries from
// the store's held_from_sequence on (own dots a restarted peer minted before its members confirmed
// that no other copy of it minted them: Replica::identity()) are not pushed until they are confirmed.
//
// Sans-I/O: no sockets, no clock. The store is called synchronously (a real peer calls this machine
// off its event loop thread, since the store may fsync).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "cairn/defaults.h"
#include "src/store/replica.h"
#include "gossip/messages.h"
#include "gossip/outgoing.h"

namespace cairn::gossip {

struct DisseminationOptions {
  std::size_t max_entries_per_push = kDefaultMaxDeltaBatchEntries;
  std::size_t max_bytes_per_push = kDefaultMaxDeltaBatchBytes;  // A single larger entry still goes, alone.
  std::uint64_t resend_after_ms = 2000;
};

struct DisseminationStats {
  std::uint64_t pushes_sent = 0, entries_sent = 0, bytes_sent = 0;
  std::uint64_t pushes_received = 0, entries_received = 0, entries_new = 0, bytes_received = 0;
  std::uint64_t entries_rejected = 0;  // Failed to merge (corrupt); counted, acknowledged, left to anti-entropy.
  std::uint64_t resends = 0, store_errors = 0;
  std::uint64_t neighbours_behind_trimmed_log = 0;
};

class Dissemination {
 public:
  // `store` is borrowed and must outlive this object.
  Dissemination(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store,
                DisseminationOptions options = {});

  struct Neighbour {
    PeerId id;
    Endpoint endpoint;
  };
  // Replaces the neighbour set. A new neighbour starts from sequence 0 (it is sent the whole retained
  // log); a departed one is forgotten.
  void set_neighbours(const std::vector<Neighbour>& neighbours);

  // Pushes unacknowledged entries to each neighbour and trims the acknowledged prefix of the log.
  Outbox tick(std::uint64_t now_ms);

  // Handles DeltaPush (merge, then acknowledge) and DeltaAck; other bodies are ignored.
  Outbox on_message(const Envelope& envelope, std::uint64_t now_ms);

  // Anti-entropy brought `neighbour` up to date with everything our log held through `through_sequence`:
  // pushes resume after it (and the neighbour no longer needs anti-entropy, unless it falls behind again).
  void caught_up(PeerId neighbour, std::uint64_t through_sequence);

  // Per neighbour: the highest sequence of ours it acknowledged (replication lag = log last - this).
  std::map<PeerId, std::uint64_t> acknowledged() const;
  // Neighbours the log can no longer catch up (their next entry was trimmed): anti-entropy's work.
  std::vector<PeerId> neighbours_needing_anti_entropy() const;
  const DisseminationStats& stats() const { return stats_; }

 private:
  struct NeighbourState {
    Endpoint endpoint;
    std::uint64_t acknowledged = 0;    // Everything <= this is merged there.
    std::uint64_t sent_through = 0;    // Everything <= this was sent (or skipped as its own).
    std::uint64_t push_last_entry = 0; // Last entry sequence of the newest unacknowledged push...
    std::uint64_t push_through = 0;    // ...and the sequence that push covers (skipped entries included).
    std::uint64_t last_push_ms = 0;
    bool behind_trimmed_log = false;
  };

  Envelope envelope(Body body) const;
  // Pushes to one neighbour what it lacks of the log up to `ship_through`.
  void push_to(PeerId id, NeighbourState& state, const DeltaLogBounds& bounds, std::uint64_t ship_through,
               std::uint64_t now_ms, Outbox& out);
  void trim_acknowledged(const DeltaLogBounds& bounds);

  PeerId self_;
  Endpoint self_endpoint_;
  std::uint64_t cluster_id_;
  store::Replica& store_;
  DisseminationOptions options_;
  std::map<PeerId, NeighbourState> neighbours_;
  std::map<PeerId, std::uint64_t> merged_through_;  // Per sender: highest of its sequences merged here.
  DisseminationStats stats_;
};

}  // namespace cairn::gossip
