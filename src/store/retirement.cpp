// LmdbStore's retirement entry points: retiring other replicas, and reincarnating this one when it was
// retired itself (include/cairn/store.h, retirement.h, docs/metadata-gc.md).
//
// Retiring X through n: X's dots beyond n are dropped wherever they arrive (merge_delta, merge_buckets,
// join_context_if_tree_equals), the records of a straggler that already holds some are purged, and the
// persisted and shipped context leave X out once they cover (X,1..n) (retirement.h says why that is
// safe). Retiring X again with another `through` keeps the smaller one and succeeds: the decision is
// replicated, so two values can only meet transiently, and the smaller one never accepts a dot the
// decision did not.
//
// Reincarnating (this store's own replica retired through n), in one write transaction: every write of
// its own beyond n is set aside durably (meta "retired-writes"), every database but `meta` and `peers`
// is emptied, the context is reset, the old id is recorded as retired through n and a new random id is
// taken. reissue_retired_writes() later re-issues the set-aside writes under the new id, in one write
// transaction that also forgets them, so a crash can neither lose nor repeat them.
#include <algorithm>
#include <optional>
#include <utility>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/environment.h"
#include "src/store/identity.h"
#include "src/store/lmdb_store.h"
#include "src/store/retirement.h"
#include "src/store/retirement_writes.h"

namespace cairn::store {
namespace {

// A random id that is neither the current one nor a retired one.
crdt::ReplicaId fresh_replica_id(crdt::ReplicaId current, const RetiredMap& retired) {
  for (;;) {
    const crdt::ReplicaId id{random_replica_id()};
    if (id != current && !retired.contains(id)) return id;
  }
}

}  // namespace

Status LmdbStore::load_retirements() {
  // Before the store is shared (no write runs yet): the committed state is what is loaded.
  auto loaded = with_read_txn([&](const Txn& txn) -> Status {
    auto retired = read_retirements(txn, databases().meta);
    if (!retired) return tl::unexpected(retired.error());
    working_.retired = std::move(*retired);
    auto stored = txn.read(databases().meta, kMetaContextKey);
    if (!stored) return tl::unexpected(stored.error());
    if (!stored->has_value()) return ok();
    auto decoded = codec::decode_stored_context(**stored);
    if (!decoded) return fail(decoded.error().code(), "causal context: " + decoded.error().message());
    // The same transaction wrote the table and the context, so the digests agree and this restores
    // exactly the omitted replicas.
    working_.whole().context = restored_context(*decoded, working_.retired);
    return ok();
  });
  committed_ = working_;
  return loaded;
}

std::string LmdbStore::encode_persisted_context() const {
  return codec::encode_stored_context(stored_context(working_.whole().context, working_.retired));
}

Status LmdbStore::retire_replica(std::uint64_t replica, std::uint64_t through) {
  if (replica == 0) return fail(ErrorCode::kInvalidArgument, "replica id 0 names no replica");
  if (auto ok_to_write = writable(); !ok_to_write) return ok_to_write;
  return run_write([&](Txn& txn) -> Status {
    const crdt::ReplicaId id{replica};
    if (id == working_.replica) {
      return fail(ErrorCode::kInvalidArgument,
                  "replica " + std::to_string(replica) + " is this store's own: it reincarnates instead");
    }
    auto known = working_.retired.find(id);
    if (known != working_.retired.end() && known->second <= through) return ok();  // The smaller one stands.
    RetiredMap retired = working_.retired;
    retired[id] = through;
    if (auto written = write_retirements(txn, databases().meta, retired); !written) return written;
    crdt::DotContext context = without_dots_beyond(working_.whole().context, retired);
    // Fast path: only a straggler (a peer X reached after the decision's cut) holds dots beyond it.
    if (context != working_.whole().context) {
      if (auto purged = purge_dots_beyond(txn, databases(), retired); !purged) return purged;
    }
    working_.retired = std::move(retired);
    working_.whole().context = std::move(context);
    working_.context_dirty = true;  // The persisted context may now leave the retired replicas out.
    return ok();
  });
}

Result<std::vector<Retirement>> LmdbStore::retirements() {
  return with_read_txn([&](const Txn& txn) -> Result<std::vector<Retirement>> {
    auto retired = read_retirements(txn, databases().meta);
    if (!retired) return tl::unexpected(retired.error());
    std::vector<Retirement> out;
    for (const auto& [replica, through] : *retired) out.push_back(Retirement{replica.value, through});
    return out;
  });
}

Result<Reincarnation> LmdbStore::reincarnate(std::uint64_t through) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  Reincarnation result;
  auto done = run_write([&](Txn& txn) -> Status {
    auto pending = txn.read(databases().meta, kMetaRetiredWritesKey);
    if (!pending) return tl::unexpected(pending.error());
    if (pending->has_value()) {
      return fail(ErrorCode::kInvalidArgument,
                  "writes set aside by an earlier reincarnation still wait for reissue_retired_writes()");
    }
    auto writes = collect_retired_writes(txn, databases(), working_.replica, through);
    if (!writes) return tl::unexpected(writes.error());
    if (auto cleared = clear_databases_except(txn, {"meta", "peers"}); !cleared) return cleared;
    RetiredMap retired = working_.retired;
    retired[working_.replica] = through;
    const crdt::ReplicaId new_replica = fresh_replica_id(working_.replica, retired);
    codec::StoreMeta meta = working_.meta;
    move_to_new_id(meta, new_replica);
    meta.next_delta_sequence = working_.whole().next_sequence;  // The log is empty now; its sequence keeps increasing.
    if (auto written = txn.write(databases().meta, kMetaIdentityKey, codec::encode_meta(meta)); !written) {
      return written;
    }
    if (auto written = write_retirements(txn, databases().meta, retired); !written) return written;
    result = Reincarnation{working_.replica.value, new_replica.value,
                           writes->registers.size() + writes->members.size() + writes->counters.size() +
                               writes->resets.size()};
    // As many messages as the writes need (each within the codec's limits), read back as one.
    const std::vector<codec::RetiredWrites> chunks = split_into_messages(std::move(*writes));
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      if (auto written = txn.write(databases().meta, retired_writes_key(i), codec::encode_retired_writes(chunks[i]));
          !written) {
        return written;
      }
    }
    if (auto forgotten = forget_unconfirmed_chains(txn, databases()); !forgotten) return forgotten;
    working_.retired = std::move(retired);
    working_.replica = new_replica;
    working_.meta = std::move(meta);
    working_.id_minted_this_session = true;
    working_.last_change = IdentityChange{result.old_replica, result.new_replica, IdentityChangeReason::kRetired, true,
                                  result.writes_set_aside, "the cluster retired it through dot " + std::to_string(through)};
    working_.whole().context = crdt::DotContext{};
    working_.context_dirty = true;  // before_commit persists the empty context in this commit.
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return result;
}

Result<bool> LmdbStore::has_retired_writes() {
  return with_read_txn([&](const Txn& txn) -> Result<bool> {
    auto pending = txn.read(databases().meta, kMetaRetiredWritesKey);
    if (!pending) return tl::unexpected(pending.error());
    return pending->has_value();
  });
}

namespace {

// The writes reincarnate() set aside, read back as one (it wrote as many messages as they needed),
// and how many messages hold them. No writes: nothing is pending.
struct SetAsideWrites {
  std::optional<codec::RetiredWrites> writes;
  std::size_t messages = 0;
};

Result<SetAsideWrites> read_set_aside_writes(const Txn& txn, const Databases& databases) {
  SetAsideWrites set_aside;
  for (;; ++set_aside.messages) {
    auto bytes = txn.read(databases.meta, retired_writes_key(set_aside.messages));
    if (!bytes) return tl::unexpected(bytes.error());
    if (!bytes->has_value()) return set_aside;
    auto chunk = codec::decode_retired_writes(**bytes);
    if (!chunk) return fail(chunk.error().code(), "retired writes: " + chunk.error().message());
    if (!set_aside.writes) {
      set_aside.writes = std::move(*chunk);
    } else {
      append_chunk(*set_aside.writes, std::move(*chunk));
    }
  }
}

Status forget_set_aside_writes(Txn& txn, const Databases& databases, std::size_t messages) {
  for (std::size_t i = 0; i < messages; ++i) {
    if (auto erased = txn.erase(databases.meta, retired_writes_key(i)); !erased) return erased;
  }
  return ok();
}

// The reset of an offline counter delete, re-minted under the new id: one delta-group holding it.
Result<LocalDelta> reset_delta(const LocalWrite& local, const codec::RetiredCounterReset& retired) {
  codec::DeltaGroup group;
  const crdt::Dot dot = crdt::DotMinter(local.context, local.replica).mint();
  crdt::PnCounter::Store::Entries entries;
  entries.emplace(dot, retired.reset);
  group.records.push_back(codec::RecordFragment{codec::RecordKey{retired.key, codec::ValueType::kCounter, {}},
                                                crdt::PnCounter::Store(std::move(entries))});
  group.context.insert(dot);
  return LocalDelta{std::move(group)};
}

}  // namespace

// One re-issue of set-aside writes inside a writer-thread transaction: each step commits its groups
// into `staged`, which the store adopts only once every step succeeded (WriteQueue's rule).
struct LmdbStore::Reissue {
  LmdbStore& store;
  Txn& txn;
  Staged staged;
  std::size_t issued = 0;

  // The steps, in this order: see run().
  Status run(const codec::RetiredWrites& writes) {
    if (auto done = removals(writes); !done) return done;
    if (auto done = registers(writes); !done) return done;
    if (auto done = members(writes); !done) return done;
    if (auto done = counters(writes); !done) return done;
    return resets(writes);
  }

  // First the removals (offline deletes): they remove only the dots they had observed, if still here.
  // Before the counters, so a chain entry an offline increment replaced is gone when what this store
  // holds of the chain is measured.
  Status removals(const codec::RetiredWrites& writes) {
    for (const codec::RetiredRemoval& removal : writes.removals) {
      codec::DeltaGroup group = removal_group(removal);
      drop_dots_beyond(group, store.working_.retired);
      if (auto logged = store.commit_group(txn, group, /*local=*/true, staged); !logged) {
        return tl::unexpected(logged.error());
      }
    }
    return ok();
  }

  Status registers(const codec::RetiredWrites& writes) {
    for (const codec::RetiredRegisterWrite& write : writes.registers) {
      auto current = read_record(txn, store.databases().values,
                                 codec::RecordKey{write.key, codec::ValueType::kRegister, {}});
      if (!current) return tl::unexpected(current.error());
      // A value that no longer beats what the key holds lost anyway: nothing to re-issue.
      if (!still_wins(write, std::get<crdt::LwwRegister::Store>(*current))) continue;
      store.clock_.observe(write.timestamp);  // The new write orders after the one it stands for.
      auto one = issue(write.key, ValueKind::kRegister, [&](const LocalWrite& local) {
        return put_delta(local, write.key, write.value, store.clock_.now());
      });
      if (auto counted = count(std::move(one)); !counted) return counted;
    }
    return ok();
  }

  Status members(const codec::RetiredWrites& writes) {
    for (const codec::RetiredMemberAdd& add : writes.members) {
      auto one = issue(add.key, ValueKind::kSet,
                       [&](const LocalWrite& local) { return sadd_delta(local, add.key, {add.member}); });
      if (auto counted = count(std::move(one)); !counted) return counted;
    }
    return ok();
  }

  Status counters(const codec::RetiredWrites& writes) {
    for (const codec::RetiredCounterTotals& totals : writes.counters) {
      auto current = read_record(txn, store.databases().values,
                                 codec::RecordKey{totals.key, codec::ValueType::kCounter, {}});
      if (!current) return tl::unexpected(current.error());
      // Not a structured binding: lambdas capture those only from C++20 compilers newer than clang 14.
      // An abandoned (not retired) id set aside the amounts it minted after `through` (identity.h):
      // the chain here is the other copy's, which never saw them, so nothing of them is accounted for.
      const std::pair<std::uint64_t, std::uint64_t> amounts =
          writes.old_replica_kept
              ? std::pair{totals.increments, totals.decrements}
              : counter_reissue(totals, std::get<crdt::PnCounter::Store>(*current), writes.old_replica);
      const std::uint64_t increments = amounts.first, decrements = amounts.second;
      if (increments == 0 && decrements == 0) continue;  // Everything of the chain arrived here already.
      auto one = issue(totals.key, ValueKind::kCounter, [&](const LocalWrite& local) {
        return counter_delta(local, totals.key, increments, decrements);
      });
      if (auto counted = count(std::move(one)); !counted) return counted;
    }
    return ok();
  }

  // Last, so the counter amounts above were measured without them: the resets of offline counter
  // deletes, re-minted under the new id. Each cancels what its delete had observed of a contributor's
  // chain, also in contributions the delete had not seen (the removals alone cannot).
  Status resets(const codec::RetiredWrites& writes) {
    for (const codec::RetiredCounterReset& retired : writes.resets) {
      auto one = issue(retired.key, ValueKind::kCounter,
                       [&](const LocalWrite& local) { return reset_delta(local, retired); });
      if (auto counted = count(std::move(one)); !counted) return counted;
    }
    return ok();
  }

  // One re-issued write at `key`, unless the key now holds another kind. Returns whether it was issued.
  Result<bool> issue(const std::string& key, ValueKind kind, const BuildDelta& build) {
    auto kinds = kinds_at(txn, store.databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (!check_kind(*kinds, kind, key)) return false;
    auto groups = build(LocalWrite{txn, store.databases().values, staged.context, store.working_.replica});
    if (!groups) return tl::unexpected(groups.error());
    for (const codec::DeltaGroup& group : *groups) {
      if (auto logged = store.commit_group(txn, group, /*local=*/true, staged); !logged) {
        return tl::unexpected(logged.error());
      }
    }
    return true;
  }

  Status count(Result<bool> one) {
    if (!one) return tl::unexpected(one.error());
    issued += *one ? 1 : 0;
    return ok();
  }
};

bool LmdbStore::holds_every_kept_dot_of(const codec::RetiredWrites& writes) const {
  // The re-issue arithmetic (what a counter chain already counts here, whether a value still wins)
  // assumes the store holds every kept write of the old id: not before the refill has brought all of
  // 1..through (a neighbour that is itself behind may have found us "in sync"). Later, then.
  // (A decision learned later with a smaller n lowers what can ever be seen of the old id: compare
  // with the smaller, or the writes would wait for good.)
  std::uint64_t kept = writes.through;
  if (auto lowered = working_.retired.find(writes.old_replica); lowered != working_.retired.end()) {
    kept = std::min(kept, lowered->second);
  }
  return working_.whole().context.vector().get(writes.old_replica) >= kept;
}

Result<std::size_t> LmdbStore::reissue_retired_writes() {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  std::size_t issued = 0;
  auto done = run_write([&](Txn& txn) -> Status {
    issued = 0;  // A batch retried after the map grew runs this again from scratch.
    auto set_aside = read_set_aside_writes(txn, databases());
    if (!set_aside) return tl::unexpected(set_aside.error());
    if (!set_aside->writes || !holds_every_kept_dot_of(*set_aside->writes)) return ok();
    Reissue pass{*this, txn, stage()};
    if (auto reissued = pass.run(*set_aside->writes); !reissued) return reissued;
    if (auto forgotten = forget_set_aside_writes(txn, databases(), set_aside->messages); !forgotten) return forgotten;
    issued = pass.issued;
    adopt(std::move(pass.staged));
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return issued;
}

}  // namespace cairn::store
