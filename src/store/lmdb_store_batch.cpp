// LmdbStore::write: a batch of operations in one nested transaction of the group commit, logged as one
// delta-group (contract: include/cairn/store.h; atomicity: docs/store.md, "Batch writes").
#include <utility>

#include "src/store/batch_write.h"
#include "src/store/input_checks.h"
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

namespace {

// A batch of one operation and no condition is exactly that operation's own call (counted as it,
// logged as it: a del of a huge set may take several groups), so a server can send every single write
// through write_async and change nothing about it.
bool is_single_call(const WriteBatch& batch) {
  return batch.ops().size() == 1 && batch.conditions().empty() && batch.ops().front().kind != BatchOp::Kind::kDeleteAll;
}

}  // namespace

std::atomic<std::uint64_t>& LmdbStore::counter_of(const WriteBatch& batch) {
  if (!is_single_call(batch)) return operations_.write;
  switch (batch.ops().front().kind) {
    case BatchOp::Kind::kPut: return operations_.put;
    case BatchOp::Kind::kDel: return operations_.del;
    case BatchOp::Kind::kSadd: return operations_.sadd;
    case BatchOp::Kind::kSrem: return operations_.srem;
    case BatchOp::Kind::kIncr: return operations_.incr;
    case BatchOp::Kind::kDecr: return operations_.decr;
    case BatchOp::Kind::kDeleteAll: break;
  }
  return operations_.write;
}

Status LmdbStore::batch_admissible(const WriteBatch& batch) {
  count(counter_of(batch));
  if (is_single_call(batch)) {
    // The operation's own limits, not a batch's caps (an SADD may carry more than kMaxBatchBytes).
    const BatchOp& op = batch.ops().front();
    if (auto valid = check_key(op.key); !valid) return valid;
    if (auto valid = check_value(op.value); !valid) return valid;
    if (auto valid = check_members(op.members); !valid) return valid;
  } else if (auto valid = check_batch(batch); !valid) {
    return valid;
  }
  return writable();
}

Result<bool> LmdbStore::write(const WriteBatch& batch) {
  if (auto admissible = batch_admissible(batch); !admissible) return tl::unexpected(admissible.error());
  if (batch.empty() && batch.conditions().empty()) return true;
  bool held = false;
  auto written = run_write([&](Txn& txn) { return apply_batch(txn, batch, held); });
  if (!written) return tl::unexpected(written.error());
  return held;
}

void LmdbStore::write_async(WriteBatch batch, std::function<void(Result<bool>)> done) {
  if (auto admissible = batch_admissible(batch); !admissible) return done(tl::unexpected(admissible.error()));
  if (batch.empty() && batch.conditions().empty()) return done(true);
  struct InFlight {
    WriteBatch batch;
    bool held = false;
  };
  auto state = std::make_shared<InFlight>(InFlight{std::move(batch), false});
  queue_->submit_async([this, state](Txn& txn) { return apply_batch(txn, state->batch, state->held); },
                       [this, state, done = std::move(done)](Status status) {
                         status = counted(std::move(status));
                         if (!status) return done(tl::unexpected(status.error()));
                         done(state->held);
                       });
}

Status LmdbStore::apply_batch(Txn& txn, const WriteBatch& batch, bool& held) {
  auto conditions = conditions_hold(txn, databases().values, batch.conditions());
  if (!conditions) return tl::unexpected(conditions.error());
  held = *conditions;
  if (!held) return ok();
  if (is_single_call(batch)) {
    const BatchOp& op = batch.ops().front();
    return apply_local(txn, op.key, batch_op_kind(op), batch_op_build(op, op.key));
  }
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
      return fail(ErrorCode::kLimitExceeded,
                  "batch: its delta touches more than " + std::to_string(kMaxBatchRecords) + " records");
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
}

}  // namespace cairn::store
