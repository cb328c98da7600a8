// Joins a delta-group into the records of a write transaction: the one way the store's state changes,
// for local writes and for deltas from peers alike.
#pragma once

#include <functional>
#include <variant>
#include <vector>

#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

struct AppliedDelta {
  // The group again (its duplicate keys joined) when any of it was new here; empty (no records, empty
  // context) when all of it was already known, so there is nothing to log or forward.
  codec::DeltaGroup new_part;
  // The records whose value changed.
  std::vector<codec::RecordKey> changed;
};

// Joins `group` into the records in `txn` (database `values`, keeping the hash tree in step) and into `context`, which must be the
// store's causal context as of the transaction's start and is updated in place. Fails with kCorrupt
// when a fragment's value type does not match its key or a stored record does not decode; in that case
// the caller must abort the transaction and restore `context`.
Result<AppliedDelta> apply_delta_group(Txn& txn, const Databases& databases, crdt::DotContext& context,
                                       const codec::DeltaGroup& group);

// The current value of one record, or the empty value of its type when the record does not exist.
Result<codec::RecordValue> read_record(const Txn& txn, MDB_dbi values, const codec::RecordKey& key);

// Writes a record, or deletes it when its value is empty, and updates its hash tree bucket.
Status write_record(Txn& txn, const Databases& databases, const codec::RecordKey& key,
                    const codec::RecordValue& value);

// Calls `visit(key, value)` for every record in `values`, in key order. Stops at the first error: a
// record that does not decode (named by its key) or an error `visit` returns. `visit` must not write
// to `values` (the walk holds a cursor on it).
Status for_each_record(const Txn& txn, MDB_dbi values,
                       const std::function<Status(const codec::RecordKey&, const codec::RecordValue&)>& visit);

// Calls `visit(dot)` for every dot a record value holds.
template <typename Visit>
void for_each_dot(const codec::RecordValue& value, Visit&& visit) {
  if (const auto* set = std::get_if<crdt::DotSet>(&value)) {
    for (const crdt::Dot& dot : set->dots()) visit(dot);
  } else if (const auto* reg = std::get_if<crdt::LwwRegister::Store>(&value)) {
    for (const auto& [dot, entry] : reg->entries()) visit(dot);
  } else {
    for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(value).entries()) visit(dot);
  }
}

// Joins two record values of the same alternative (the same record type) under the given contexts.
codec::RecordValue join_values(const codec::RecordValue& mine, const crdt::DotContext& my_context,
                               const codec::RecordValue& theirs, const crdt::DotContext& their_context);

// The empty value of a record type.
codec::RecordValue empty_record(codec::ValueType type);

// Whether every dot of `fragment` is already in `context`.
bool context_covers(const crdt::DotContext& context, const crdt::DotContext& fragment);

}  // namespace cairn::store
