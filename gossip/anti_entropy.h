// Anti-entropy: reconciles this peer's store with one other peer's by comparing hash tree buckets
// top-down and exchanging the records of only the buckets that differ (docs/anti-entropy.md).
//
// A round has an initiator (this machine, for rounds it starts) and a responder (any peer: it keeps no
// state per round and answers each message from its store as it is then). The initiator:
//   1. sends its level-1 hashes and causal context; the responder answers with its own. Equal: both
//      sides join the other's context (each under a check that its tree still matches), done.
//   2. otherwise asks, level by level, for the children of the nodes that differ, at most
//      kMaxTreeParents parents per message, down to the leaf buckets;
//   3. for a slice of the differing leaf buckets, sends the digest of each record in them (key hash,
//      record hash); the responder answers with its records that differ or the initiator lacks, its
//      whole context, the keys it lacks and the records it wants; the initiator merges that and sends
//      the wanted records (and its version of any it received that the merge left different);
//   4. starts again at 1 to verify, up to max_passes; a round that never finds everything equal
//      (writes keep landing) still ends after that many passes, having repaired what it found.
// A round left unanswered for round_timeout_ms is abandoned and may be asked for again. A peer whose
// newest own dots wait for confirmation (a restarted peer, until its members' contexts confirm that no
// other copy of it minted them: docs/store.md "Identity") starts no round and declines others' with a
// busy reply; the initiator asks again after retry_after_ms.
//
// Every message does bounded work (a bounded number of hashes or buckets), so a large difference is
// repaired in many small steps and the peer keeps serving meanwhile. Sans-I/O: no sockets, no clock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "src/store/replica.h"
#include "gossip/messages.h"
#include "gossip/outgoing.h"
#include "src/util/rng.h"

namespace cairn::gossip {

struct AntiEntropyOptions {
  std::uint64_t periodic_interval_ms = 30'000;    // A background round with a random neighbour; 0: never.
  std::uint64_t round_timeout_ms = 10'000;        // No answer this long: the round is abandoned.
  std::uint64_t retry_after_ms = 2'000;           // After a failed round, wait before another with that peer.
  std::size_t max_concurrent_rounds = 2;          // Rounds this peer initiates at once.
  std::size_t max_buckets_per_exchange = 64;      // Leaf buckets per digest; at most kMaxExchangeBuckets.
  std::size_t max_digest_records = 16'384;        // Records per digest (one bucket always goes).
  std::size_t max_bytes_per_exchange = 4u << 20;  // Record bytes per message (one record always goes).
  int max_passes = 3;
};

struct AntiEntropyStats {
  std::uint64_t rounds_started = 0, rounds_completed = 0, rounds_failed = 0;
  std::uint64_t rounds_in_sync = 0;     // Completed with every bucket found equal (contexts joined).
  std::uint64_t rounds_declined = 0;    // Ended because the responder was not ready (TreeLevel::busy).
  std::uint64_t buckets_compared = 0;   // Tree nodes compared, at every level.
  std::uint64_t buckets_exchanged = 0;  // Leaf buckets whose record digests were compared.
  std::uint64_t records_sent = 0, records_received = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0;  // Whole frames of anti-entropy messages.
  std::uint64_t messages_ignored = 0;                // Replies to rounds that are not (or no longer) ours.
  std::uint64_t messages_rejected = 0;               // Records that failed to merge (corrupt, out of bucket).
  std::uint64_t store_errors = 0;
};

class AntiEntropy {
 public:
  // `store` is borrowed and must outlive this object.
  AntiEntropy(PeerId self, Endpoint self_endpoint, std::uint64_t cluster_id, store::Replica& store,
              AntiEntropyOptions options, std::uint64_t random_seed);

  // Asks for a round with `peer`. Ignored while a round with it is running or queued, or within
  // retry_after_ms of a failed one.
  void request_round(PeerId peer, const Endpoint& endpoint, std::uint64_t now_ms);

  // Starts queued rounds (up to max_concurrent_rounds), the periodic round with a random one of
  // `neighbours`, and abandons rounds past their timeout.
  struct Neighbour {
    PeerId id;
    Endpoint endpoint;
  };
  Outbox tick(std::uint64_t now_ms, const std::vector<Neighbour>& neighbours);

  // Handles TreeLevel, BucketDigest and BucketDelta; other bodies are ignored.
  Outbox on_message(const Envelope& envelope, std::uint64_t now_ms);

  // Rounds this peer initiated that completed since the last call: the peer, and the last sequence of
  // our delta log when the round started (everything logged up to it has reached that peer).
  std::vector<std::pair<PeerId, std::uint64_t>> take_completed();

  // The driver counts the frames of anti-entropy messages it sends and receives.
  void count_bytes_sent(std::uint64_t bytes) { stats_.bytes_sent += bytes; }
  void count_bytes_received(std::uint64_t bytes) { stats_.bytes_received += bytes; }

  bool round_running_with(PeerId peer) const;
  const AntiEntropyStats& stats() const { return stats_; }

 private:
  struct Round {
    PeerId peer;
    Endpoint endpoint;
    std::uint64_t log_last_at_start = 0;
    std::uint64_t last_activity_ms = 0;
    int pass = 0;
    std::deque<std::pair<std::uint8_t, std::vector<std::uint32_t>>> descents;  // (level, parents) to ask.
    std::deque<std::uint32_t> buckets;                          // Differing leaf buckets not yet exchanged.
    std::vector<std::uint32_t> in_exchange;                     // Buckets of the digest awaiting its reply.
    std::pair<std::uint8_t, std::vector<std::uint32_t>> asked;  // The tree request awaiting its reply.
    std::string peer_context;  // The responder's causal context, from this pass's level-1 reply.
  };

  Envelope envelope(Body body) const;
  // True while the store's newest own dots wait for confirmation (Replica::identity()): this peer then
  // starts no round and declines others' (docs/store.md "Identity"), so none of its state leaves it.
  bool holding_own_dots() const { return store_.identity().unconfirmed_from != 0; }
  void start_round(PeerId peer, const Endpoint& endpoint, std::uint64_t now_ms, Outbox& out);
  // Sends the round's next message, or finishes it.
  void advance(std::uint64_t id, Round& round, Outbox& out);
  bool start_pass(std::uint64_t id, Round& round, Outbox& out);
  void finish(std::uint64_t id, bool in_sync);
  void fail_round(std::uint64_t id, std::uint64_t now_ms);
  void on_tree_reply(std::uint64_t id, Round& round, const TreeLevel& reply, Outbox& out);
  void on_delta_reply(std::uint64_t id, Round& round, const BucketDelta& reply, Outbox& out);
  Outbox answer_tree(const Envelope& message, const TreeLevel& request, std::uint64_t now_ms);
  Outbox answer_digest(const Envelope& message, const BucketDigest& digest);
  std::optional<BucketMerge> merge(PeerId from, const std::vector<std::uint32_t>& buckets,
                                   const std::string& records, const std::vector<std::uint64_t>& absent,
                                   const std::string& context);
  // Records of `buckets` with these key hashes, as a BucketDelta body's records (counted as sent).
  std::optional<std::string> records_of(const std::vector<std::uint32_t>& buckets,
                                        const std::vector<std::uint64_t>& key_hashes);

  PeerId self_;
  Endpoint self_endpoint_;
  std::uint64_t cluster_id_;
  store::Replica& store_;
  AntiEntropyOptions options_;
  Rng rng_;
  std::map<std::uint64_t, Round> rounds_;  // By round id.
  // As a responder: each initiator's causal context from its latest level-1 request, by round id, for
  // merging the records it sends later in the pass (contexts travel once per pass, not per slice).
  struct InitiatorContext {
    PeerId peer;
    std::string context;
    std::uint64_t expires_ms = 0;
  };
  static constexpr std::size_t kMaxInitiatorContexts = 64;
  std::map<std::uint64_t, InitiatorContext> initiator_contexts_;
  std::deque<std::pair<PeerId, Endpoint>> queued_;
  std::map<PeerId, std::uint64_t> retry_not_before_ms_;
  std::uint64_t next_periodic_ms_ = 0;
  std::vector<std::pair<PeerId, std::uint64_t>> completed_;
  AntiEntropyStats stats_;
};

}  // namespace cairn::gossip
