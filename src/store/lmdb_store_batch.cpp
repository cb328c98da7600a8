// LmdbStore::write: a batch of operations in one nested transaction of the group commit, logged as one
// delta-group (contract: include/cairn/store.h; atomicity: docs/store.md, "Batch writes").
#include <utility>

#include "src/store/batch_write.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {

std::optional<ValueKind> LmdbStore::batch_op_kind(const BatchOp& op) const {
  switch (op.kind) {
    case BatchOp::Kind::kPut: return ValueKind::kRegister;
    case BatchOp::Kind::kSadd:
    case BatchOp::Kind::kSrem: return ValueKind::kSet;
    case BatchOp::Kind::kIncr:
    case BatchOp::Kind::kDecr: return ValueKind::kCounter;
    case BatchOp::Kind::kDel:
    case BatchOp::Kind::kDeleteAll: return std::nullopt;
  }
  return std::nullopt;
}

LmdbStore::BuildDelta LmdbStore::batch_op_build(const BatchOp& op, const std::string& key) {
  switch (op.kind) {
    case BatchOp::Kind::kPut:
      return [this, &op, &key](const LocalWrite& write) { return put_delta(write, key, op.value, clock_.now()); };
    case BatchOp::Kind::kSadd:
      return [&op, &key](const LocalWrite& write) { return sadd_delta(write, key, op.members); };
    case BatchOp::Kind::kSrem:
      return [&op, &key](const LocalWrite& write) { return srem_delta(write, key, op.members); };
    case BatchOp::Kind::kIncr:
      return [&op, &key](const LocalWrite& write) { return local_counter_delta(write, key, op.amount, 0); };
    case BatchOp::Kind::kDecr:
      return [&op, &key](const LocalWrite& write) { return local_counter_delta(write, key, 0, op.amount); };
    case BatchOp::Kind::kDel:
    case BatchOp::Kind::kDeleteAll: break;
  }
  return [&key](const LocalWrite& write) { return del_delta(write, key); };
}

Result<bool> LmdbStore::write(const WriteBatch& batch) {
  count(operations_.write);
  if (auto valid = check_batch(batch); !valid) return tl::unexpected(valid.error());
  if (auto can = writable(); !can) return tl::unexpected(can.error());
  if (batch.empty() && batch.conditions().empty()) return true;
  bool held = false;
  auto written = run_write([&](Txn& txn) -> Status {
    auto conditions = conditions_hold(txn, databases().values, batch.conditions());
    if (!conditions) return tl::unexpected(conditions.error());
    held = *conditions;
    if (!held) return ok();
    // Each op is applied to the records as it comes (a later op reads what earlier ones wrote) against
    // the staged context; their groups join into the one group the delta log holds for the batch.
    Staged staged = stage();
    GroupJoiner joined;
    const auto apply_op = [&](const BatchOp& op, const std::string& key) -> Status {
      auto groups = local_delta(txn, key, batch_op_kind(op), batch_op_build(op, key), staged.context);
      if (!groups) return tl::unexpected(groups.error());
      for (const codec::DeltaGroup& group : *groups) {
        auto applied = apply_group(txn, group, /*local=*/true, staged);
        if (!applied) return tl::unexpected(applied.error());
        joined.add(applied->new_part);
      }
      if (joined.record_count() > kMaxBatchRecords) {
        return fail(ErrorCode::kLimitExceeded, "batch: its delta touches more than " +
                                                   std::to_string(kMaxBatchRecords) + " records");
      }
      return ok();
    };
    for (const BatchOp& op : batch.ops()) {
      if (op.kind != BatchOp::Kind::kDeleteAll) {
        if (auto done = apply_op(op, op.key); !done) return done;
        continue;
      }
      auto keys = every_key(txn, databases().values, kMaxBatchRecords);
      if (!keys) return tl::unexpected(keys.error());
      for (const std::string& key : *keys) {
        if (auto done = apply_op(op, key); !done) return done;
      }
    }
    if (auto logged = log_group(txn, std::move(joined).finish(), staged); !logged) {
      return tl::unexpected(logged.error());
    }
    adopt(std::move(staged));
    return ok();
  });
  if (!written) return tl::unexpected(written.error());
  return held;
}

}  // namespace cairn::store
