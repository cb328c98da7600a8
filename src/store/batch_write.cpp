#include "src/store/batch_write.h"

#include <algorithm>
#include <utility>

#include "crdt/pn_counter.h"
#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/input_checks.h"
#include "src/store/local_ops.h"

namespace cairn {

const char* to_string(BatchOp::Kind kind) {
  switch (kind) {
    case BatchOp::Kind::kPut: return "put";
    case BatchOp::Kind::kDel: return "del";
    case BatchOp::Kind::kSadd: return "sadd";
    case BatchOp::Kind::kSrem: return "srem";
    case BatchOp::Kind::kIncr: return "incr";
    case BatchOp::Kind::kDecr: return "decr";
    case BatchOp::Kind::kDeleteAll: return "delete_all";
  }
  return "unknown";
}

namespace store {
namespace {

using codec::RecordKey;
using codec::ValueType;

Error limit(const std::string& what) { return Error(ErrorCode::kLimitExceeded, "batch: " + what); }

// The dots BatchCondition compares: the register's, and the counter's when it is present; a live set
// member is a dot no condition can list (the key then matches no condition).
Result<std::vector<InspectedDot>> condition_dots(const Txn& txn, MDB_dbi values, const std::string& key) {
  auto kinds = kinds_at(txn, values, key);
  if (!kinds) return tl::unexpected(kinds.error());
  std::vector<InspectedDot> dots;
  const auto add = [&](const crdt::Dot& dot) { dots.push_back(InspectedDot{dot.replica.value, dot.counter}); };
  if (kinds->register_value) {
    auto record = read_record(txn, values, RecordKey{key, ValueType::kRegister, {}});
    if (!record) return tl::unexpected(record.error());
    for_each_dot(*record, add);
  }
  if (kinds->counter) {
    auto record = read_record(txn, values, RecordKey{key, ValueType::kCounter, {}});
    if (!record) return tl::unexpected(record.error());
    for_each_dot(*record, add);
  }
  if (kinds->set) dots.push_back(InspectedDot{~0ull, ~0ull});
  std::sort(dots.begin(), dots.end());
  return dots;
}

}  // namespace

Status check_batch(const WriteBatch& batch) {
  if (batch.ops().size() > kMaxBatchOps) {
    return tl::unexpected(limit(std::to_string(batch.ops().size()) + " operations exceed the limit of " +
                                std::to_string(kMaxBatchOps)));
  }
  std::size_t bytes = 0;
  for (const BatchCondition& condition : batch.conditions()) {
    if (auto valid = check_key(condition.key); !valid) return valid;
  }
  for (const BatchOp& op : batch.ops()) {
    bytes += op.key.size() + op.value.size();
    for (const std::string& member : op.members) bytes += member.size();
    if (op.kind == BatchOp::Kind::kDeleteAll) continue;
    if (auto valid = check_key(op.key); !valid) return valid;
    if (auto valid = check_value(op.value); !valid) return valid;
    if (auto valid = check_members(op.members); !valid) return valid;
  }
  if (bytes > kMaxBatchBytes) {
    return tl::unexpected(limit(std::to_string(bytes) + " bytes of keys, values and members exceed the limit of " +
                                std::to_string(kMaxBatchBytes)));
  }
  return ok();
}

Result<bool> conditions_hold(const Txn& txn, MDB_dbi values, const std::vector<BatchCondition>& conditions) {
  for (const BatchCondition& condition : conditions) {
    auto held = condition_dots(txn, values, condition.key);
    if (!held) return tl::unexpected(held.error());
    std::vector<InspectedDot> expected = condition.dots;
    std::sort(expected.begin(), expected.end());
    if (*held != expected) return false;
  }
  return true;
}

Result<std::vector<std::string>> every_key(const Txn& txn, MDB_dbi values, std::size_t max_keys) {
  auto cursor = LmdbCursor::open(txn, values);
  if (!cursor) return tl::unexpected(cursor.error());
  std::vector<std::string> keys;
  for (auto entry = cursor->seek("");;) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) return keys;
    auto record_key = codec::decode_record_key((*entry)->key);
    if (!record_key) return tl::unexpected(record_key.error());
    if (keys.size() == max_keys) {
      return tl::unexpected(limit("deleting every key touches more than " + std::to_string(max_keys) + " keys"));
    }
    // Past every record of this key (its types and members) in one seek: type bytes are below 0xff.
    entry = cursor->seek(codec::encode_exact_key_prefix(record_key->key) + '\xff');
    keys.push_back(std::move(record_key->key));
  }
}

void GroupJoiner::add(const codec::DeltaGroup& group) {
  for (const codec::RecordFragment& fragment : group.records) {
    auto [it, inserted] = records_.try_emplace(fragment.key, fragment.value);
    if (!inserted) it->second = join_values(it->second, context_, fragment.value, group.context);
  }
  context_.join(group.context);
}

codec::DeltaGroup GroupJoiner::finish() && {
  codec::DeltaGroup group;
  group.context = std::move(context_);
  group.records.reserve(records_.size());
  for (auto& [key, value] : records_) group.records.push_back(codec::RecordFragment{key, std::move(value)});
  return group;
}

}  // namespace store
}  // namespace cairn
