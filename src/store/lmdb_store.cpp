#include "src/store/lmdb_store.h"

#include <utility>

#include "src/codec/codec.h"
#include "src/store/change_log.h"
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
  if (auto opened = store->open_change_log(); !opened) return tl::unexpected(opened.error());
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
      wall_clock_(replica_options.wall_clock ? replica_options.wall_clock : std::make_shared<SystemWallClock>()),
      committed_next_sequence_(environment_->next_delta_sequence()),
      map_size_bytes_(options_.map_size_bytes),
      published_replica_(environment_->meta().replica.value) {
  working_.replica = environment_->meta().replica;
  working_.whole() = PartitionWriterState{environment_->initial_context(), environment_->next_delta_sequence()};
  working_.meta = environment_->meta();
  working_.id_minted_this_session = environment_->identity_minted();
  working_.last_change = environment_->identity_change();
  committed_ = working_;
  publish_identity();
  if (options_.read_only) return;  // No writer thread: every write fails with kUnavailable.
  WriteQueue::Hooks hooks;
  // A batch changes working_ only; its abort puts the committed state back, whatever it touched.
  hooks.restore_state = [this] { working_ = committed_; };
  hooks.before_commit = [this](Txn& txn) -> Status {
    // The change feed's entries commit with the changes they describe (change_log.h).
    if (auto logged = change_log_.append(txn, working_.changes, wall_clock_->now_ms(), working_.replica.value); !logged) {
      return logged;
    }
    if (!working_.context_dirty) return ok();
    return txn.write(databases().meta, kMetaContextKey, encode_persisted_context());
  };
  hooks.after_commit = [this] {
    working_.context_dirty = false;
    std::vector<Change> changes = std::exchange(working_.changes, {});
    committed_ = working_;
    committed_next_sequence_ = working_.whole().next_sequence;
    published_replica_.store(working_.replica.value, std::memory_order_release);
    publish_identity();
    notify_subscribers(changes);
  };
  hooks.grow_map = [this] { return grow_map(); };
  const std::uint32_t batch = options_.durability == Durability::kSync ? 1 : options_.max_writes_per_commit;
  queue_ = std::make_unique<WriteQueue>(databases().env, batch, std::move(hooks),
                                        replica_options.inline_writer ? WriteQueue::Mode::kInline
                                                                      : WriteQueue::Mode::kWriterThread);
}

LmdbStore::~LmdbStore() { queue_.reset(); }  // Serve every queued write before the environment closes.

Status LmdbStore::apply_local(Txn& txn, std::string_view key, std::optional<ValueKind> kind,
                              const BuildDelta& build) {
  auto groups = local_delta(txn, key, kind, build, working_.whole().context);
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
  if (working_.meta.unconfirmed_from != 0 && (!kind || *kind == ValueKind::kCounter)) {
    if (auto kept = remember_unconfirmed_chain(txn, databases(), key, working_.replica, working_.meta.unconfirmed_from); !kept) {
      return tl::unexpected(kept.error());
    }
  }
  return build(LocalWrite{txn, databases().values, context, working_.replica});
}

Result<AppliedDelta> LmdbStore::apply_group(Txn& txn, const codec::DeltaGroup& group, bool local, Staged& staged) {
  auto applied = apply_delta_group(txn, databases(), staged.context, group);
  if (!applied) return tl::unexpected(applied.error());
  for (const codec::RecordKey& key : applied->changed) {
    Change change;
    change.key = key.key;
    change.kind = kind_of(key.type);
    change.local = local;
    if (auto described = describe_change(txn, databases(), key, change); !described) {
      return tl::unexpected(described.error());
    }
    staged.changes.push_back(std::move(change));
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
  working_.context_dirty = working_.context_dirty || staged.next_sequence != working_.whole().next_sequence;
  working_.whole().context = std::move(staged.context);
  working_.whole().next_sequence = staged.next_sequence;
  working_.changes.insert(working_.changes.end(), std::make_move_iterator(staged.changes.begin()),
                              std::make_move_iterator(staged.changes.end()));
}

// The application's single writes are batches of one operation (one mapping from an operation to its
// delta, batch_op_build; counted as that operation, lmdb_store_batch.cpp).
Status LmdbStore::write_one(const WriteBatch& batch) {
  auto written = write(batch);
  if (!written) return tl::unexpected(written.error());
  return ok();
}

Status LmdbStore::put(std::string_view key, std::string_view value) { return write_one(WriteBatch().put(key, value)); }

Status LmdbStore::del(std::string_view key) { return write_one(WriteBatch().del(key)); }

Status LmdbStore::sadd(std::string_view key, const std::vector<std::string>& members) {
  return write_one(WriteBatch().sadd(key, members));
}

Status LmdbStore::srem(std::string_view key, const std::vector<std::string>& members) {
  return write_one(WriteBatch().srem(key, members));
}

Status LmdbStore::incr(std::string_view key, std::uint64_t amount) { return write_one(WriteBatch().incr(key, amount)); }

Status LmdbStore::decr(std::string_view key, std::uint64_t amount) { return write_one(WriteBatch().decr(key, amount)); }

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

void LmdbStore::notify_subscribers(const std::vector<Change>& changes) {
  if (changes.empty()) return;
  std::lock_guard lock(subscribers_mutex_);
  for (const Change& change : changes) {
    for (const auto& [id, subscriber] : subscribers_) {
      if (!change.key.starts_with(subscriber.prefix)) continue;
      // A subscriber that resumed already got the changes up to `after` from the log.
      if (subscriber.after != 0 && sequence_of(change) <= subscriber.after) continue;
      subscriber.callback(change);
    }
  }
}

Result<codec::DeltaGroup> LmdbStore::admit_delta(std::string_view delta_bytes, std::uint64_t origin) {
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
  return group;
}

Result<MergeOutcome> LmdbStore::merge_group(Txn& txn, codec::DeltaGroup& group) {
  drop_dots_beyond(group, working_.retired);  // Dots of retired replicas beyond their retirement never enter.
  Staged staged = stage();
  auto logged = commit_group(txn, group, /*local=*/false, staged);
  if (!logged) return tl::unexpected(logged.error());
  adopt(std::move(staged));
  observe_timestamps(group);
  return MergeOutcome{*logged != 0, *logged};
}

Result<MergeOutcome> LmdbStore::merge_delta(std::string_view delta_bytes, std::uint64_t origin) {
  auto group = admit_delta(delta_bytes, origin);
  if (!group) return tl::unexpected(group.error());
  MergeOutcome outcome;
  auto merged = run_write([&](Txn& txn) -> Status {
    auto done = merge_group(txn, *group);
    if (!done) return tl::unexpected(done.error());
    outcome = *done;
    return ok();
  });
  if (!merged) return tl::unexpected(merged.error());
  return outcome;
}

namespace {

// A delta refused on its own account: the others of its push still merge (Replica::merge_deltas).
bool refused_alone(const Error& error) {
  return error.code() == ErrorCode::kCorrupt || error.code() == ErrorCode::kLimitExceeded;
}

}  // namespace

Result<std::vector<Result<MergeOutcome>>> LmdbStore::merge_deltas(const std::vector<DeltaToMerge>& deltas) {
  std::vector<Result<MergeOutcome>> outcomes;
  std::vector<std::optional<codec::DeltaGroup>> groups(deltas.size());
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    auto group = admit_delta(deltas[i].bytes, deltas[i].origin);
    if (!group && !refused_alone(group.error())) return tl::unexpected(group.error());
    if (group) {
      groups[i] = std::move(*group);
      outcomes.emplace_back(MergeOutcome{});
    } else {
      outcomes.emplace_back(tl::unexpected(std::move(group.error())));
    }
  }
  auto merged = run_write([&](Txn& txn) -> Status {
    for (std::size_t i = 0; i < groups.size(); ++i) {
      if (!groups[i]) continue;
      // Its own nested transaction, so a delta failing a record check drops only its own changes
      // (merge_group adopts in-memory state only once it succeeded).
      MDB_txn* raw = nullptr;
      if (int rc = mdb_txn_begin(databases().env, txn.get(), 0, &raw); rc != 0) {
        return tl::unexpected(lmdb_error(rc, "begin nested merge"));
      }
      Txn nested(raw);
      auto done = merge_group(nested, *groups[i]);
      if (!done && !refused_alone(done.error())) return tl::unexpected(done.error());
      if (done) {
        if (auto committed = nested.commit(); !committed) return committed;
      }
      outcomes[i] = std::move(done);
    }
    return ok();
  });
  if (!merged) return tl::unexpected(merged.error());
  return outcomes;
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
    codec::StoreMeta meta = working_.meta;
    meta.replica = working_.replica;
    meta.next_delta_sequence = working_.whole().next_sequence;
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
