// The deltas of local writes, computed from the records they touch and the store's causal context.
//
// Each function reads what it needs in `txn` and returns the delta as one or more delta-groups; it writes
// nothing. The caller applies each group with apply_delta_group (the same path as a peer's delta) and
// logs it. A write touching many records (deleting a huge set, adding many members) is split into
// groups of at most kMaxFragmentsPerGroup records, so every logged group stays within the codec's
// list and message limits; each group is a valid delta on its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "crdt/dot_context.h"
#include "crdt/hlc.h"
#include "crdt/pn_counter.h"
#include "src/codec/records.h"
#include "src/store/lmdb.h"

namespace cairn::store {

inline constexpr std::size_t kMaxFragmentsPerGroup = 10'000;

using LocalDelta = std::vector<codec::DeltaGroup>;

struct LocalWrite {
  const Txn& txn;
  MDB_dbi values;
  const crdt::DotContext& context;
  crdt::ReplicaId replica;
};

// Which kinds of value are live at `key` (more than one only after concurrent writes of different
// kinds by peers that had not seen each other).
struct KindsAtKey {
  bool register_value = false;
  bool set = false;
  bool counter = false;

  bool any() const { return register_value || set || counter; }
};
Result<KindsAtKey> kinds_at(const Txn& txn, MDB_dbi values, std::string_view key);

// Fail with kWrongType when `key` holds a live value of another kind than `kind`.
Status check_kind(const KindsAtKey& kinds, ValueKind kind, std::string_view key);

Result<LocalDelta> put_delta(const LocalWrite& write, std::string_view key, std::string_view value,
                                    crdt::HlcTimestamp timestamp);
// Removes every record of `key`, of every kind.
Result<LocalDelta> del_delta(const LocalWrite& write, std::string_view key);
// Members must already be validated against kMaxMemberBytes (the Store API does it before queueing).
Result<LocalDelta> sadd_delta(const LocalWrite& write, std::string_view key,
                                     const std::vector<std::string>& members);
Result<LocalDelta> srem_delta(const LocalWrite& write, std::string_view key,
                                     const std::vector<std::string>& members);
// Adds to the counter at `key` as write.replica. kOutOfRange when this replica's running totals of the
// counter would pass 2^64 - 1 (nothing is written; they would wrap). Used as is to re-issue a retired
// replica's increments, which must not be refused for the value's range.
Result<LocalDelta> counter_delta(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                        std::uint64_t decrements);
// An incr or decr asked for on this store: counter_delta, also refused with kOutOfRange ("increment or
// decrement would overflow: ...") when the value this store would then read leaves the int64 range
// (Store::incr documents the rule).
Result<LocalDelta> local_counter_delta(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                       std::uint64_t decrements);

// The error of reading counter `key` whose exact value `total` does not fit an int64.
Error counter_out_of_range(std::string_view key, crdt::CounterTotal total);

}  // namespace cairn::store
