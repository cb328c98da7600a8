// The pieces of Store::write (a batch) that are not LmdbStore's own state: its size caps, its
// conditions, the keys a delete_all removes, and joining the delta-groups of its operations into the
// one group that the delta log holds for the batch (so a peer applies the batch all or none).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "src/codec/records.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// kLimitExceeded/kInvalidArgument when `batch` passes a cap of store.h (ops, bytes) or holds a key,
// value or member the single-operation calls would refuse. Checked before the batch is queued.
Status check_batch(const WriteBatch& batch);

// Whether every condition of `conditions` holds in `txn` (BatchCondition's rule).
Result<bool> conditions_hold(const Txn& txn, MDB_dbi values, const std::vector<BatchCondition>& conditions);

// Every key `values` holds records of, in byte order; kLimitExceeded past `max_keys`.
Result<std::vector<std::string>> every_key(const Txn& txn, MDB_dbi values, std::size_t max_keys);

// Joins the delta-groups of a batch's operations, each computed after the previous ones were applied,
// into one group: per record, the causal join of its fragments under the groups' contexts. That is
// exact because a local operation's context holds only dots of the records it carries (and the dots it
// mints), so a group never removes a dot of a record it does not carry.
class GroupJoiner {
 public:
  void add(const codec::DeltaGroup& group);
  std::size_t record_count() const { return records_.size(); }
  bool empty() const { return records_.empty() && context_.empty(); }
  codec::DeltaGroup finish() &&;

 private:
  std::map<codec::RecordKey, codec::RecordValue> records_;
  crdt::DotContext context_;
};

}  // namespace cairn::store
