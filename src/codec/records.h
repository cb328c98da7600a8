// The in-memory form of everything the store keeps per key, and of the delta-groups it ships.
//
// A register or a counter is one record; a set is one record per member, so updating one member of a
// huge set touches one small record. A record holds that value's dot store; the store-wide causal
// context lives apart, in the store's meta database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "crdt/dot_context.h"
#include "crdt/dot_set.h"
#include "crdt/lww_register.h"
#include "crdt/pn_counter.h"

namespace cairn::codec {

// Stable numbers: they are written to disk and sent on the wire.
enum class ValueType : std::uint8_t {
  kRegister = 1,   // An LWW-register: one record per key.
  kSetMember = 2,  // One member of an OR-set: one record per (key, member).
  kCounter = 3,    // A PN-counter: one record per key.
};

// Names one record: the user's key, the type of value, and for sets the member.
struct RecordKey {
  std::string key;
  ValueType type = ValueType::kRegister;
  std::string member;  // Empty unless type == kSetMember.

  friend auto operator<=>(const RecordKey&, const RecordKey&) = default;
};

// The dot store of one record; the alternative matches RecordKey::type.
using RecordValue = std::variant<crdt::LwwRegister::Store, crdt::DotSet, crdt::PnCounter::Store>;

struct RecordFragment {
  RecordKey key;
  RecordValue value;  // May be empty: a fragment that only removes dots its context covers.

  friend bool operator==(const RecordFragment&, const RecordFragment&) = default;
};

// A delta or a join of deltas: the record fragments it touches (listed even when empty, so a receiver
// knows which records the context may remove dots from) and the context fragment.
struct DeltaGroup {
  crdt::ReplicaId origin;  // The neighbour it was received from; 0 for a local mutation.
  std::vector<RecordFragment> records;
  crdt::DotContext context;

  friend bool operator==(const DeltaGroup&, const DeltaGroup&) = default;
};

// Where a store's identity lives (see StoreMeta::fingerprint).
struct StoreFingerprint {
  std::uint64_t inode = 0;       // Of the data file.
  std::uint64_t filesystem = 0;  // statfs f_fsid.
  std::uint64_t machine = 0;     // xxh3-64 of the machine id; 0 when there is none.

  friend bool operator==(const StoreFingerprint&, const StoreFingerprint&) = default;
};

// Persistent identity and state of a store, kept in the meta database.
struct StoreMeta {
  std::uint32_t format_version = 0;
  crdt::ReplicaId replica;
  std::uint64_t next_delta_sequence = 1;
  // Where the identity was minted; nullopt in a store written before fingerprints existed.
  std::optional<StoreFingerprint> fingerprint = std::nullopt;
  std::vector<crdt::ReplicaId> predecessors = {};  // Ids the data was written under before, oldest first.
  // Own dots from this counter on are not confirmed yet (0: all are), and the delta log sequence from
  // which local deltas wait for the confirmation (src/store/identity.h).
  std::uint64_t unconfirmed_from = 0;
  std::uint64_t unconfirmed_from_sequence = 0;
  // The cluster's partition count (src/store/partition.h), fixed when the store was created; 0 in a
  // store written by store format 1, which the first writable open records (docs/partitions.md).
  std::uint32_t partition_count = 0;

  friend bool operator==(const StoreMeta&, const StoreMeta&) = default;
};

// A cluster member as remembered in the `peers` database.
struct PeerRecord {
  std::uint64_t id = 0;
  std::string host;
  std::uint16_t port = 0;
  std::uint8_t status = 0;  // gossip::MemberStatus.
  std::uint64_t incarnation = 0;

  friend bool operator==(const PeerRecord&, const PeerRecord&) = default;
};

// ---- Retiring replicas (src/store/retirement.h, docs/metadata-gc.md). ----

// A replica retired by a replicated decision: its dots 1..through are all there will ever be.
struct RetiredReplica {
  crdt::ReplicaId replica;
  std::uint64_t through = 0;

  friend auto operator<=>(const RetiredReplica&, const RetiredReplica&) = default;
};

// A causal context as the store persists and ships it. When `omitted_retirements` holds a digest
// (retirement_digest), the writer had seen dots 1..through of every replica of the retirement table
// with that digest and left those replicas out of `context`.
struct StoredContext {
  crdt::DotContext context;
  std::optional<std::uint64_t> omitted_retirements;

  friend bool operator==(const StoredContext&, const StoredContext&) = default;
};

// The writes a retired replica had made beyond its retirement, set aside for re-issue under a new id.
struct RetiredRegisterWrite {
  std::string key;
  std::string value;
  crdt::HlcTimestamp timestamp;
  crdt::Dot dot;  // Under the old replica id.

  friend bool operator==(const RetiredRegisterWrite&, const RetiredRegisterWrite&) = default;
};

struct RetiredMemberAdd {
  std::string key;
  std::string member;

  friend bool operator==(const RetiredMemberAdd&, const RetiredMemberAdd&) = default;
};

// The running totals of one counter chain of the retired replica.
struct RetiredCounterTotals {
  std::string key;
  crdt::Dot chain;
  std::uint64_t increments = 0;
  std::uint64_t decrements = 0;
  // Of those totals, what deletes the replica had seen removed (the chain's absorbed offset).
  std::uint64_t deleted_increments = 0;
  std::uint64_t deleted_decrements = 0;

  friend bool operator==(const RetiredCounterTotals&, const RetiredCounterTotals&) = default;
};

// A reset entry an offline counter delete of the retired replica minted (its dot is not kept: it is
// re-minted under the new id).
struct RetiredCounterReset {
  std::string key;
  crdt::CounterEntry reset;  // kind == kReset.

  friend bool operator==(const RetiredCounterReset&, const RetiredCounterReset&) = default;
};

// What one logged local delta removed: the records it named and the dots it had observed there.
struct RetiredRemoval {
  std::vector<RecordKey> records;
  crdt::DotContext context;

  friend bool operator==(const RetiredRemoval&, const RetiredRemoval&) = default;
};

struct RetiredWrites {
  crdt::ReplicaId old_replica;
  std::uint64_t through = 0;
  std::vector<RetiredRegisterWrite> registers;
  std::vector<RetiredMemberAdd> members;
  std::vector<RetiredCounterTotals> counters;
  std::vector<RetiredRemoval> removals;
  std::vector<RetiredCounterReset> resets;
  // The old id was abandoned, not retired: counters hold amounts minted since `through` (see
  // schema/records.capnp, RetiredWrites.oldReplicaKept).
  bool old_replica_kept = false;

  friend bool operator==(const RetiredWrites&, const RetiredWrites&) = default;
};

}  // namespace cairn::codec
