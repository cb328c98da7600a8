// The messages peers exchange, in memory. gossip/wire.h maps them to and from frames (a fixed clear
// header plus a Cap'n Proto payload, schema/wire.capnp); the state machines only ever see these.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "crdt/dot.h"

namespace cairn::gossip {

using PeerId = crdt::ReplicaId;

// Where a peer listens: its gossip port serves both UDP (membership) and TCP (deltas).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

// SWIM member states, in the order that wins at equal incarnation (a suspicion overrides "alive" of
// the same incarnation; only the member itself refutes it, with a higher incarnation).
enum class MemberStatus : std::uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };

// Alive or suspected: still probed, still a gossip target, still counted as present.
inline bool is_reachable(MemberStatus status) {
  return status == MemberStatus::kAlive || status == MemberStatus::kSuspect;
}

// One membership fact, piggybacked on pings and acks.
struct MemberUpdate {
  PeerId id;
  Endpoint endpoint;
  MemberStatus status = MemberStatus::kAlive;
  std::uint64_t incarnation = 0;
  // For a suspicion, the peer whose own probe raised it (0 when unknown or not a suspicion); relays
  // keep it, so a receiver counts distinct accusers as independent confirmations (Lifeguard).
  PeerId accuser{0};

  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

// ---- Membership, over UDP ----

// "Are you alive?" A ping to an endpoint whose peer id is not yet known (a seed) is how a peer joins.
struct Ping {
  std::uint64_t probe = 0;  // Echoed in the ack.
  std::vector<MemberUpdate> updates;
  friend bool operator==(const Ping&, const Ping&) = default;
};

struct PingAck {
  std::uint64_t probe = 0;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const PingAck&, const PingAck&) = default;
};

// "Ping `target` for me": the indirect probe of SWIM, sent to k other members when a direct ping
// went unanswered. The helper pings the target and relays its ack with the original probe number.
struct PingRequest {
  std::uint64_t probe = 0;
  PeerId target;
  Endpoint target_endpoint;
  std::vector<MemberUpdate> updates;
  friend bool operator==(const PingRequest&, const PingRequest&) = default;
};

// ---- Delta dissemination, over TCP ----

// A batch of the sender's delta log, oldest first. Sequences are the sender's.
struct DeltaPush {
  struct Entry {
    std::uint64_t sequence = 0;
    std::string delta_group;  // Encoded codec::DeltaGroup, as Replica::deltas_since returns it.
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::vector<Entry> entries;
  friend bool operator==(const DeltaPush&, const DeltaPush&) = default;
};

// "I have merged your log up to and including `sequence`."
struct DeltaAck {
  std::uint64_t sequence = 0;
  friend bool operator==(const DeltaAck&, const DeltaAck&) = default;
};

// ---- Anti-entropy, over TCP (gossip/anti_entropy.h) ----

// Hash tree hashes of one level. A request names the parents (nodes of level - 1) whose children it
// wants compared; at level 1 it also carries the sender's own hashes and causal context (one
// snapshot), so a responder whose records all match can join that context. The reply carries the
// responder's hashes of the same children, 16 per parent in order (and at level 1 its context).
struct TreeLevel {
  std::uint64_t round = 0;             // Chosen by the round's initiator; echoed in the reply.
  bool reply = false;
  std::uint8_t level = 1;              // 1 .. kTreeLeafLevel.
  std::vector<std::uint32_t> parents;  // Ascending; at level 1 exactly {0}, the root.
  std::vector<std::uint64_t> hashes;   // 16 per parent, or none (a request below level 1).
  std::string context;                 // Encoded causal context; at level 1 only.
  // A reply that declines the round: the responder's newest own dots are not confirmed yet (it ships
  // nothing of its state until they are; docs/store.md "Identity"). Carries no hashes.
  bool busy = false;
  friend bool operator==(const TreeLevel&, const TreeLevel&) = default;
};

// Step 1 of repairing some leaf buckets that differ: the initiator's digest of every record in them
// (key hash, record hash), so only records that differ need to travel.
struct BucketDigest {
  std::uint64_t round = 0;
  std::vector<std::uint32_t> buckets;        // Ascending leaf buckets the digests cover.
  std::vector<std::uint64_t> key_hashes;     // One per record...
  std::vector<std::uint64_t> record_hashes;  // ...and what it holds.
  friend bool operator==(const BucketDigest&, const BucketDigest&) = default;
};

// Steps 2 and 3: records that differ, with the sender's whole causal context (one encoded
// delta-group, Replica::bucket_records), and the key hashes of records the receiver holds and the
// sender does not (the receiver removes those whose dots the context covers). The responder's reply
// (step 2) also lists the records it wants; the initiator answers (step 3) with those, and with its
// version of the records the reply carried when the merge left it different.
struct BucketDelta {
  std::uint64_t round = 0;
  bool reply = false;                   // True for step 2 (responder to initiator).
  std::vector<std::uint32_t> buckets;   // Ascending leaf buckets it is about.
  std::string records;                  // Encoded codec::DeltaGroup.
  std::vector<std::uint64_t> absent;    // Key hashes the sender does not hold.
  std::vector<std::uint64_t> wanted;    // Key hashes whose records the sender asks for (step 2).
  friend bool operator==(const BucketDelta&, const BucketDelta&) = default;
};

// ---- Causal stability and retirement, over TCP (gossip/stability.h) ----

// A version vector entry: every dot 1..counter of `replica`.
struct VectorEntry {
  PeerId replica;
  std::uint64_t counter = 0;
  friend bool operator==(const VectorEntry&, const VectorEntry&) = default;
};

// A replica retired by a replicated decision: its dots 1..through are all it will ever have.
struct RetiredReplica {
  PeerId replica;
  std::uint64_t through = 0;
  friend bool operator==(const RetiredReplica&, const RetiredReplica&) = default;
};

// What the sender has seen (the version vector of its causal context, without retired replicas), sent
// to every member now and then, and every retirement it knows.
struct ContextReport {
  std::vector<VectorEntry> vector;           // Ascending by replica, counters above 0.
  std::vector<RetiredReplica> retirements;   // Ascending by replica.
  // Replicas of which the sender has seen dots past a gap in its vector, with the highest such dot
  // (ascending by replica). A retirement waits until no one has a gap in the retired replica's dots.
  std::vector<VectorEntry> gaps;
  // The sender asks for the receiver's report at once: a peer that just started waits for its
  // members' contexts before it ships its newest writes (docs/store.md "Identity").
  bool reply_wanted = false;
  friend bool operator==(const ContextReport&, const ContextReport&) = default;
};

// "You were retired": the answer to any frame from a retired replica.
struct RetiredNotice {
  PeerId replica;             // The retired replica: the receiver acts only if this is its own id.
  std::uint64_t through = 0;  // Its dots 1..through are the ones the cluster kept.
  friend bool operator==(const RetiredNotice&, const RetiredNotice&) = default;
};

using Body = std::variant<Ping, PingAck, PingRequest, DeltaPush, DeltaAck, TreeLevel, BucketDigest, BucketDelta,
                          ContextReport, RetiredNotice>;

// Every peer message: who sent it, from which cluster, and the body. Messages from another cluster
// (cluster_id differs) are dropped and counted.
struct Envelope {
  std::uint64_t cluster_id = 0;  // A hash of the cluster name.
  PeerId sender;
  Endpoint sender_endpoint;      // Where the sender listens (its source address may differ).
  Body body;
  // The sender's partition count; set by Peer::frames_of on every frame it sends, checked by
  // Peer::open_frame on every frame it receives (0: a build from before partitions).
  std::uint32_t partition_count = 0;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

}  // namespace cairn::gossip
