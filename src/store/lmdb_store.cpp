#include "src/store/lmdb_store.h"

#include <utility>

#include "src/codec/codec.h"
#include "src/store/cursors.h"
#include "src/store/delta_apply.h"
#include "src/store/delta_log.h"
#include "src/store/identity.h"
#include "src/store/input_checks.h"
#include "src/store/retirement.h"

namespace cairn {

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
  auto replica = store::open_replica(path, store::ReplicaOptions{options, nullptr});
  if (!replica) return tl::unexpected(replica.error());
  return std::unique_ptr<Store>(std::move(*replica));
}

namespace store {

Result<std::unique_ptr<Replica>> open_replica(const std::string& path, const ReplicaOptions& options) {
  auto environment = Environment::open(path, options.store);
  if (!environment) return tl::unexpected(environment.error());
  auto store = std::make_unique<LmdbStore>(std::move(*environment), options);
  if (auto loaded = store->load_retirements(); !loaded) return tl::unexpected(loaded.error());
  return std::unique_ptr<Replica>(std::move(store));
}

}  // namespace store

namespace store {
namespace {

ValueKind kind_of(codec::ValueType type) {
  switch (type) {
    case codec::ValueType::kRegister: return ValueKind::kRegister;
    case codec::ValueType::kSetMember: return ValueKind::kSet;
    case codec::ValueType::kCounter: return ValueKind::kCounter;
  }
  return ValueKind::kRegister;
}

Error not_found(std::string_view key) { return Error(ErrorCode::kNotFound, "no key '" + std::string(key) + "'"); }

}  // namespace

LmdbStore::LmdbStore(std::unique_ptr<Environment> environment, const ReplicaOptions& replica_options)
    : environment_(std::move(environment)),
      options_(replica_options.store),
      replica_(environment_->meta().replica),
      context_(environment_->initial_context()),
      next_sequence_(environment_->next_delta_sequence()),
      wall_clock_(replica_options.wall_clock ? replica_options.wall_clock : std::make_shared<SystemWallClock>()),
      committed_next_sequence_(next_sequence_),
      map_size_bytes_(options_.map_size_bytes),
      published_replica_(replica_.value),
      meta_(environment_->meta()),
      id_minted_this_session_(environment_->identity_minted()),
      last_change_(environment_->identity_change()) {
  publish_identity();
  if (options_.read_only) return;  // No writer thread: every write fails with kUnavailable.
  WriteQueue::Hooks hooks;
  hooks.save_state = [this] {
    saved_ = Saved{context_, next_sequence_, context_dirty_, uncommitted_changes_.size()};
    saved_retirement_ = SavedRetirement{replica_, retired_};
    saved_identity_ = SavedIdentity{meta_, id_minted_this_session_, last_change_};
  };
  hooks.restore_state = [this] {
    replica_ = saved_retirement_.replica;
    retired_ = saved_retirement_.retired;
    meta_ = saved_identity_.meta;
    id_minted_this_session_ = saved_identity_.id_minted_this_session;
    last_change_ = saved_identity_.last_change;
    context_ = saved_.context;
    next_sequence_ = saved_.next_sequence;
    context_dirty_ = saved_.context_dirty;
    uncommitted_changes_.resize(saved_.change_count);
  };
  hooks.before_commit = [this](Txn& txn) -> Status {
    if (!context_dirty_) return ok();
    return txn.write(databases().meta, kMetaContextKey, encode_persisted_context());
  };
  hooks.after_commit = [this] {
    context_dirty_ = false;
    committed_next_sequence_ = next_sequence_;
    published_replica_.store(replica_.value, std::memory_order_release);
    publish_identity();
    notify_subscribers();
  };
  hooks.grow_map = [this] { return grow_map(); };
  const std::uint32_t batch = options_.durability == Durability::kSync ? 1 : options_.max_writes_per_commit;
  queue_ = std::make_unique<WriteQueue>(databases().env, batch, std::move(hooks),
                                        replica_options.inline_writer ? WriteQueue::Mode::kInline
                                                                      : WriteQueue::Mode::kWriterThread);
}

LmdbStore::~LmdbStore() { queue_.reset(); }  // Serve every queued write before the environment closes.

Status LmdbStore::write_local(std::string_view key, std::optional<ValueKind> kind, BuildDelta build) {
  if (auto valid = check_key(key); !valid) return valid;
  if (!queue_) return fail(ErrorCode::kUnavailable, "the store was opened read-only");
  return run_write([&](Txn& txn) { return apply_local(txn, key, kind, build); });
}

Status LmdbStore::apply_local(Txn& txn, std::string_view key, std::optional<ValueKind> kind,
                              const BuildDelta& build) {
  auto groups = local_delta(txn, key, kind, build, context_);
  if (!groups) return tl::unexpected(groups.error());
  Staged staged = stage();
  for (const codec::DeltaGroup& group : *groups) {
    auto logged = commit_group(txn, group, /*local=*/true, staged);
    if (!logged) return tl::unexpected(logged.error());
  }
  adopt(std::move(staged));
  return ok();
}

Result<LocalDelta> LmdbStore::local_delta(Txn& txn, std::string_view key, std::optional<ValueKind> kind,
                                          const BuildDelta& build, const crdt::DotContext& context) {
  if (kind) {
    auto kinds = kinds_at(txn, databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (auto same = check_kind(*kinds, *kind, key); !same) return tl::unexpected(same.error());
  }
  // While own dots are unconfirmed, what a counter held of ours before is what a conflict would
  // measure its re-issue from (identity.h). A del touches every kind, counters included.
  if (meta_.unconfirmed_from != 0 && (!kind || *kind == ValueKind::kCounter)) {
    if (auto kept = remember_unconfirmed_chain(txn, databases(), key, replica_, meta_.unconfirmed_from); !kept) {
      return tl::unexpected(kept.error());
    }
  }
  return build(LocalWrite{txn, databases().values, context, replica_});
}

Result<AppliedDelta> LmdbStore::apply_group(Txn& txn, const codec::DeltaGroup& group, bool local, Staged& staged) {
  auto applied = apply_delta_group(txn, databases(), staged.context, group);
  if (!applied) return tl::unexpected(applied.error());
  for (const codec::RecordKey& key : applied->changed) {
    if (!staged.changes.empty() && staged.changes.back().key == key.key) continue;
    staged.changes.push_back(Change{key.key, kind_of(key.type), local});
  }
  return applied;
}

Result<std::uint64_t> LmdbStore::log_group(Txn& txn, const codec::DeltaGroup& new_part, Staged& staged) {
  if (new_part.records.empty() && new_part.context.empty()) return 0;
  if (auto logged = delta_log::append(txn, databases(), staged.next_sequence, new_part); !logged) {
    return tl::unexpected(logged.error());
  }
  return staged.next_sequence++;
}

Result<std::uint64_t> LmdbStore::commit_group(Txn& txn, const codec::DeltaGroup& group, bool local,
                                              Staged& staged) {
  auto applied = apply_group(txn, group, local, staged);
  if (!applied) return tl::unexpected(applied.error());
  return log_group(txn, applied->new_part, staged);
}

void LmdbStore::adopt(Staged staged) {
  context_dirty_ = context_dirty_ || staged.next_sequence != next_sequence_;
  context_ = std::move(staged.context);
  next_sequence_ = staged.next_sequence;
  uncommitted_changes_.insert(uncommitted_changes_.end(), std::make_move_iterator(staged.changes.begin()),
                              std::make_move_iterator(staged.changes.end()));
}

Status LmdbStore::put(std::string_view key, std::string_view value) {
  count(operations_.put);
  if (auto valid = check_value(value); !valid) return valid;
  return write_local(key, ValueKind::kRegister, [&](const LocalWrite& write) {
    return put_delta(write, key, value, clock_.now());
  });
}

Status LmdbStore::del(std::string_view key) {
  count(operations_.del);
  return write_local(key, std::nullopt, [&](const LocalWrite& write) { return del_delta(write, key); });
}

Status LmdbStore::sadd(std::string_view key, const std::vector<std::string>& members) {
  count(operations_.sadd);
  if (auto valid = check_members(members); !valid) return valid;
  return write_local(key, ValueKind::kSet, [&](const LocalWrite& write) { return sadd_delta(write, key, members); });
}

Status LmdbStore::srem(std::string_view key, const std::vector<std::string>& members) {
  count(operations_.srem);
  if (auto valid = check_members(members); !valid) return valid;
  return write_local(key, ValueKind::kSet, [&](const LocalWrite& write) { return srem_delta(write, key, members); });
}

Status LmdbStore::incr(std::string_view key, std::uint64_t amount) {
  count(operations_.incr);
  return write_local(key, ValueKind::kCounter,
                     [&](const LocalWrite& write) { return local_counter_delta(write, key, amount, 0); });
}

Status LmdbStore::decr(std::string_view key, std::uint64_t amount) {
  count(operations_.decr);
  return write_local(key, ValueKind::kCounter,
                     [&](const LocalWrite& write) { return local_counter_delta(write, key, 0, amount); });
}

Result<RegisterValue> LmdbStore::get(std::string_view key) {
  count(operations_.get);
  if (auto valid = check_key(key); !valid) return tl::unexpected(valid.error());
  return with_read_txn([&](const Txn& txn) -> Result<RegisterValue> {
    // The register is read first; only when there is none does get() look at what else the key holds,
    // to tell "wrong type" from "not found".
    auto record = read_record(txn, databases().values, codec::RecordKey{std::string(key), codec::ValueType::kRegister, {}});
    if (!record) return tl::unexpected(record.error());
    const auto& store = std::get<crdt::LwwRegister::Store>(*record);
    if (store.empty()) {
      auto kinds = kinds_at(txn, databases().values, key);
      if (!kinds) return tl::unexpected(kinds.error());
      if (kinds->any()) return tl::unexpected(check_kind(*kinds, ValueKind::kRegister, key).error());
      return tl::unexpected(not_found(key));
    }
    const auto versions = crdt::LwwRegister::versions(store);
    RegisterValue result;
    result.value = versions.front().entry->value;
    for (std::size_t i = 1; i < versions.size(); ++i) result.concurrent.push_back(versions[i].entry->value);
    return result;
  });
}

Result<bool> LmdbStore::sismember(std::string_view key, std::string_view member) {
  count(operations_.sismember);
  if (auto valid = check_key(key); !valid) return tl::unexpected(valid.error());
  return with_read_txn([&](const Txn& txn) -> Result<bool> {
    auto record = read_record(txn, databases().values,
                              codec::RecordKey{std::string(key), codec::ValueType::kSetMember, std::string(member)});
    if (!record) return tl::unexpected(record.error());
    if (!std::get<crdt::DotSet>(*record).empty()) return true;
    auto kinds = kinds_at(txn, databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (!kinds->set && kinds->any()) return tl::unexpected(check_kind(*kinds, ValueKind::kSet, key).error());
    return false;
  });
}

Result<std::unique_ptr<Cursor>> LmdbStore::smembers(std::string_view key) {
  count(operations_.smembers);
  if (auto valid = check_key(key); !valid) return tl::unexpected(valid.error());
  auto kind_check = with_read_txn([&](const Txn& txn) -> Status {
    auto kinds = kinds_at(txn, databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (!kinds->set && kinds->any()) return check_kind(*kinds, ValueKind::kSet, key);
    return ok();
  });
  if (!kind_check) return tl::unexpected(kind_check.error());
  return make_member_cursor(*this, key);
}

Result<std::int64_t> LmdbStore::counter(std::string_view key) {
  count(operations_.counter);
  if (auto valid = check_key(key); !valid) return tl::unexpected(valid.error());
  return with_read_txn([&](const Txn& txn) -> Result<std::int64_t> {
    auto record = read_record(txn, databases().values, codec::RecordKey{std::string(key), codec::ValueType::kCounter, {}});
    if (!record) return tl::unexpected(record.error());
    const auto& store = std::get<crdt::PnCounter::Store>(*record);
    if (crdt::PnCounter::present(store)) {
      if (auto value = crdt::PnCounter::value_of(store)) return *value;
      return tl::unexpected(counter_out_of_range(key, crdt::PnCounter::total_of(store)));
    }
    auto kinds = kinds_at(txn, databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (kinds->any()) return tl::unexpected(check_kind(*kinds, ValueKind::kCounter, key).error());
    return tl::unexpected(not_found(key));
  });
}

Result<ValueKind> LmdbStore::kind(std::string_view key) {
  if (auto valid = check_key(key); !valid) return tl::unexpected(valid.error());
  return with_read_txn([&](const Txn& txn) -> Result<ValueKind> {
    auto kinds = kinds_at(txn, databases().values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (kinds->register_value) return ValueKind::kRegister;
    if (kinds->set) return ValueKind::kSet;
    if (kinds->counter) return ValueKind::kCounter;
    return tl::unexpected(not_found(key));
  });
}

std::unique_ptr<Cursor> LmdbStore::scan(std::string_view prefix) {
  count(operations_.scan);
  return make_key_cursor(*this, prefix);
}

std::uint64_t LmdbStore::subscribe(std::string_view prefix, std::function<void(const Change&)> callback) {
  std::lock_guard lock(subscribers_mutex_);
  const std::uint64_t id = next_subscription_++;
  subscribers_.emplace(id, Subscriber{std::string(prefix), std::move(callback)});
  return id;
}

void LmdbStore::unsubscribe(std::uint64_t subscription) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.erase(subscription);
}

void LmdbStore::notify_subscribers() {
  std::vector<Change> changes = std::exchange(uncommitted_changes_, {});
  if (changes.empty()) return;
  std::lock_guard lock(subscribers_mutex_);
  for (const Change& change : changes) {
    for (const auto& [id, subscriber] : subscribers_) {
      if (change.key.starts_with(subscriber.prefix)) subscriber.callback(change);
    }
  }
}

Result<MergeOutcome> LmdbStore::merge_delta(std::string_view delta_bytes, std::uint64_t origin) {
  count(operations_.merge_delta);
  auto group = codec::decode_delta_group(delta_bytes);
  if (!group) return tl::unexpected(group.error());
  group->origin = crdt::ReplicaId{origin};
  for (const codec::RecordFragment& fragment : group->records) {
    if (auto valid = check_key(fragment.key.key); !valid) return tl::unexpected(valid.error());
    if (fragment.key.member.size() > kMaxMemberBytes) {
      return fail(ErrorCode::kLimitExceeded, "delta holds a set member over the size limit");
    }
  }
  if (!queue_) return fail(ErrorCode::kUnavailable, "the store was opened read-only");
  // A dot of our own id beyond any minted here: another copy of this store minted it. Take a new id
  // before merging it (it then merges as any other replica's dot).
  const crdt::ReplicaId self{replica_id()};
  if (auto resolved = resolve_if_another_copy(self, highest_dot_of(*group, self), false, "a delta from a peer");
      !resolved) {
    return tl::unexpected(resolved.error());
  }
  MergeOutcome outcome;
  auto merged = run_write([&](Txn& txn) -> Status {
    drop_dots_beyond(*group, retired_);  // Dots of retired replicas beyond their retirement never enter.
    Staged staged = stage();
    auto logged = commit_group(txn, *group, /*local=*/false, staged);
    if (!logged) return tl::unexpected(logged.error());
    adopt(std::move(staged));
    outcome.logged_sequence = *logged;
    outcome.changed = *logged != 0;
    observe_timestamps(*group);
    return ok();
  });
  if (!merged) return tl::unexpected(merged.error());
  return outcome;
}

void LmdbStore::observe_timestamps(const codec::DeltaGroup& group) {
  // Later local writes must order after the remote ones they may overwrite.
  for (const codec::RecordFragment& fragment : group.records) {
    if (const auto* entries = std::get_if<crdt::LwwRegister::Store>(&fragment.value)) {
      for (const auto& [dot, entry] : entries->entries()) clock_.observe(entry.timestamp);
    }
  }
}

Result<std::vector<LoggedDelta>> LmdbStore::deltas_since(std::uint64_t after_sequence, std::size_t max_count) {
  return with_read_txn([&](const Txn& txn) { return delta_log::read_after(txn, databases(), after_sequence, max_count); });
}

Result<DeltaLogBounds> LmdbStore::delta_log_bounds() {
  return with_read_txn(
      [&](const Txn& txn) { return delta_log::bounds(txn, databases(), committed_next_sequence_.load() - 1); });
}

Status LmdbStore::trim_delta_log(std::uint64_t through_sequence) {
  if (!queue_) return fail(ErrorCode::kUnavailable, "the store was opened read-only");
  return run_write([&](Txn& txn) -> Status {
    auto trimmed = delta_log::trim_through(txn, databases(), through_sequence);
    if (!trimmed) return tl::unexpected(trimmed.error());
    if (*trimmed == 0) return ok();
    // Trimming may empty the log, whose last key tells the next sequence on reopen: the next sequence
    // is recorded in meta too (delta_log.h: a sequence is never reused).
    codec::StoreMeta meta = meta_;
    meta.replica = replica_;
    meta.next_delta_sequence = next_sequence_;
    return txn.write(databases().meta, kMetaIdentityKey, codec::encode_meta(meta));
  });
}

Result<std::vector<PeerRecord>> LmdbStore::load_peers() {
  return with_read_txn([&](const Txn& txn) -> Result<std::vector<PeerRecord>> {
    std::vector<PeerRecord> peers;
    auto cursor = LmdbCursor::open(txn, databases().peers);
    if (!cursor) return tl::unexpected(cursor.error());
    for (auto entry = cursor->seek(""); ; entry = cursor->next()) {
      if (!entry) return tl::unexpected(entry.error());
      if (!entry->has_value()) break;
      auto record = codec::decode_peer_record((*entry)->value);
      if (!record) continue;  // A damaged row loses one remembered member, which gossip re-learns.
      peers.push_back(PeerRecord{record->id, record->host, record->port, record->status, record->incarnation});
    }
    return peers;
  });
}

Status LmdbStore::save_peers(const std::vector<PeerRecord>& peers) {
  if (!queue_) return fail(ErrorCode::kUnavailable, "the store was opened read-only");
  return run_write([&](Txn& txn) -> Status {
    for (const PeerRecord& peer : peers) {
      const codec::PeerRecord record{peer.id, peer.host, peer.port, peer.status, peer.incarnation};
      if (auto written = txn.write(databases().peers, encode_sequence(peer.id), codec::encode_peer_record(record));
          !written) {
        return written;
      }
    }
    return ok();
  });
}

Status LmdbStore::read_raw(const std::function<Status(const Txn&, const Databases&)>& read) {
  return with_read_txn([&](const Txn& txn) { return read(txn, databases()); });
}

bool LmdbStore::grow_map() {
  if (!options_.grow_map_automatically || map_size_bytes_ >= options_.max_map_size_bytes) return false;
  std::unique_lock lock(resize_mutex_);  // Waits for every read transaction of this process to end.
  const std::uint64_t grown = std::min(map_size_bytes_ * 2, options_.max_map_size_bytes);
  if (mdb_env_set_mapsize(databases().env, grown) != 0) return false;
  map_size_bytes_ = grown;
  return true;
}

}  // namespace store
}  // namespace cairn
