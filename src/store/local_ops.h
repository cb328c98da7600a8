// The deltas of local writes, computed from the records they touch and the store's causal context.
//
// Each function reads what it needs in `txn` and returns the delta-group; it writes nothing. The caller
// applies the group with apply_delta_group (the same path as a peer's delta) and logs it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "crdt/dot_context.h"
#include "crdt/hlc.h"
#include "src/codec/records.h"
#include "src/store/lmdb.h"

namespace cairn::store {

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

Result<codec::DeltaGroup> put_delta(const LocalWrite& write, std::string_view key, std::string_view value,
                                    crdt::HlcTimestamp timestamp);
// Removes every record of `key`, of every kind.
Result<codec::DeltaGroup> del_delta(const LocalWrite& write, std::string_view key);
Result<codec::DeltaGroup> sadd_delta(const LocalWrite& write, std::string_view key,
                                     const std::vector<std::string>& members);
Result<codec::DeltaGroup> srem_delta(const LocalWrite& write, std::string_view key,
                                     const std::vector<std::string>& members);
Result<codec::DeltaGroup> counter_delta(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                        std::uint64_t decrements);

}  // namespace cairn::store
