// The Store and Replica implementation over LMDB (contracts: include/cairn/store.h for the
// application's face, src/store/replica.h for the replication face).
//
// LmdbStore's members are defined across several files, one per responsibility:
//   lmdb_store.cpp           opening (Store::open, open_replica), the writer-thread plumbing
//                            (commit_group, the queue's hooks), the application's reads and
//                            writes, merge_delta, subscriptions, the delta log and peer table methods
//                            (over delta_log.h), read_raw, map growth
//   lmdb_store_batch.cpp     write(): a batch in one nested transaction, one delta-group (over batch_write.h)
//   usage.cpp                usage(): map use, file size, delta log length, operation counts
//   inspect.cpp              inspect(): the CRDT metadata behind one key
//   lmdb_store_tree.cpp      anti-entropy: tree_hashes, bucket_digests, bucket_records, merge_buckets,
//                            join_context_if_tree_equals, committed_context (over hash_tree.h and
//                            bucket_exchange.h)
//   counter_gc.cpp           context_vector, compact_counter_resets
//   retirement.cpp           retire_replica, retirements, reincarnate, reissue_retired_writes,
//                            has_retired_writes, load_retirements, encode_persisted_context
//                            (over retirement.h, retirement_dots.cpp and retirement_writes.h)
//   lmdb_store_copy.cpp      copy_compacted (backups)
//   lmdb_store_identity.cpp  identity, start_identity_check, confirm_identity, observe_own_dots,
//                            adopt_new_identity, change_identity, resolve_if_another_copy (over identity.h)
// The free functions they build on live beside them: local_ops.h (a local write's deltas),
// delta_apply.h (joining a delta-group into the records), delta_log.h, write_queue.h (group commit),
// environment.h (opening the directory), cursors.h (scan and smembers).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/store/replica.h"
#include "crdt/hlc.h"
#include "src/store/change_log.h"
#include "src/store/delta_apply.h"
#include "src/store/environment.h"
#include "src/store/local_ops.h"
#include "src/store/record_checks.h"
#include "src/store/write_queue.h"
#include "src/store/writer_state.h"
#include "src/util/system_clock.h"

namespace cairn::store {

class LmdbStore final : public Replica {
 public:
  // `options.wall_clock` null: the system clock.
  LmdbStore(std::unique_ptr<Environment> environment, const ReplicaOptions& options);
  ~LmdbStore() override;

  // Any thread: the id as of the last commit (reincarnate() changes it; see published_replica_).
  std::uint64_t replica_id() const override { return published_replica_.load(std::memory_order_acquire); }
  // Any thread: set once by the environment's open, never changed.
  std::uint32_t partition_count() const override { return environment_->meta().partition_count; }

  Status put(std::string_view key, std::string_view value) override;
  Result<RegisterValue> get(std::string_view key) override;
  Status del(std::string_view key) override;
  Status sadd(std::string_view key, const std::vector<std::string>& members) override;
  Status srem(std::string_view key, const std::vector<std::string>& members) override;
  Result<bool> sismember(std::string_view key, std::string_view member) override;
  Result<std::unique_ptr<Cursor>> smembers(std::string_view key) override;
  Status incr(std::string_view key, std::uint64_t amount) override;
  Status decr(std::string_view key, std::uint64_t amount) override;
  Result<std::int64_t> counter(std::string_view key) override;
  Result<ValueKind> kind(std::string_view key) override;
  std::unique_ptr<Cursor> scan(std::string_view prefix) override;
  Result<KeyInspection> inspect(std::string_view key) override;  // In inspect.cpp.
  Result<bool> write(const WriteBatch& batch) override;            // In lmdb_store_batch.cpp.
  void write_async(WriteBatch batch, std::function<void(Result<bool>)> done) override;  // Likewise.
  std::uint64_t subscribe(std::string_view prefix, std::function<void(const Change&)> callback) override;
  void unsubscribe(std::uint64_t subscription) override;
  // The change feed (lmdb_store_changes.cpp, change_log.h).
  Result<std::string> change_position() override;
  Result<ChangeBatch> changes_since(std::string_view prefix, std::string_view position,
                                    std::size_t max_changes) override;
  Result<std::uint64_t> subscribe_since(std::string_view prefix, std::string_view position,
                                        std::function<void(const Change&)> callback) override;
  // Reads or starts the change log's header. Store::open calls it once, before the store is shared.
  Status open_change_log();
  Result<MergeOutcome> merge_delta(std::string_view delta_bytes, std::uint64_t origin) override;
  Result<std::vector<Result<MergeOutcome>>> merge_deltas(const std::vector<DeltaToMerge>& deltas) override;
  Status wait_for_queued_writes() override {
    if (!queue_) return ok();
    return queue_->submit([](Txn&) { return ok(); });
  }
  Result<std::vector<LoggedDelta>> deltas_since(std::uint64_t after_sequence, std::size_t max_count) override;
  Result<DeltaLogBounds> delta_log_bounds() override;
  Result<std::vector<PeerRecord>> load_peers() override;
  Status save_peers(const std::vector<PeerRecord>& peers) override;
  Status trim_delta_log(std::uint64_t through_sequence) override;
  Status read_raw(const std::function<Status(const Txn&, const Databases&)>& read) override;
  Status copy_compacted(int fd) override;  // lmdb_store_copy.cpp

  // Anti-entropy (lmdb_store_tree.cpp).
  Result<TreeHashes> tree_hashes(unsigned level, const std::vector<std::uint32_t>& nodes,
                                 bool with_context) override;
  Result<BucketDigests> bucket_digests(const std::vector<std::uint32_t>& buckets, std::size_t max_records) override;
  Result<BucketRecords> bucket_records(const std::vector<std::uint32_t>& buckets,
                                       const std::vector<std::uint64_t>& key_hashes, std::size_t max_bytes) override;
  Result<BucketMerge> merge_buckets(const std::vector<std::uint32_t>& buckets, std::string_view group_bytes,
                                    const std::vector<std::uint64_t>& absent_key_hashes,
                                    std::string_view sender_context, std::uint64_t origin) override;
  Result<bool> join_context_if_tree_equals(const std::vector<std::uint64_t>& level1_hashes,
                                           std::string_view context_bytes) override;
  // Metadata compaction (counter_gc.cpp).
  Result<std::vector<VersionVectorEntry>> context_vector() override;
  Result<CompactionPass> compact_counter_resets(const std::vector<ReplicaReport>& reports,
                                                std::size_t max_records) override;
  // Retiring replicas (retirement.cpp).
  Status retire_replica(std::uint64_t replica, std::uint64_t through) override;
  Result<std::vector<Retirement>> retirements() override;
  Result<Reincarnation> reincarnate(std::uint64_t through) override;
  Result<std::size_t> reissue_retired_writes() override;
  Result<bool> has_retired_writes() override;

  // Runs `read` in a fresh read transaction (and holds off map resizing while it runs).
  template <typename Read>
  auto with_read_txn(Read&& read) -> decltype(read(std::declval<const Txn&>()));

  const Databases& databases() const { return environment_->databases(); }

 private:
  using BuildDelta = std::function<Result<LocalDelta>(const LocalWrite&)>;

  // kUnavailable when the store was opened read-only (it then has no writer queue).
  Status writable() const {
    if (!queue_) return fail(ErrorCode::kUnavailable, "the store was opened read-only");
    return ok();
  }

  // write() of a batch of one operation, as the single-operation calls do.
  Status write_one(const WriteBatch& batch);
  // Writer thread, in `txn`: one local write (local_delta, then commit_group of each of its groups),
  // adopting the staged state once every step succeeded. A one-op batch runs it.
  Status apply_local(Txn& txn, std::string_view key, std::optional<ValueKind> kind, const BuildDelta& build);
  // What a write changes in memory, staged until all of its fallible steps are done (WriteQueue's rule).
  // The second level of rollback: a write's own nested transaction may fail and leave the batch going,
  // so a write works on a copy of its partition's state and adopts it only once it cannot fail.
  struct Staged {
    crdt::DotContext context;
    std::uint64_t next_sequence;
    std::vector<Change> changes;
  };
  Staged stage() const { return Staged{working_.whole().context, working_.whole().next_sequence, {}}; }
  void adopt(Staged staged);
  // Writer thread, in `txn`: the delta-groups of one local write of `kind` at `key` (nullopt: any kind,
  // a del), computed against `context`: checks the kind, keeps what identity.h needs, builds.
  Result<LocalDelta> local_delta(Txn& txn, std::string_view key, std::optional<ValueKind> kind,
                                 const BuildDelta& build, const crdt::DotContext& context);
  // Applies `group` inside a writer-thread transaction, updating `staged` (context and changes).
  Result<AppliedDelta> apply_group(Txn& txn, const codec::DeltaGroup& group, bool local, Staged& staged);
  // Appends `new_part` to the delta log unless it is empty; returns its sequence (0: nothing logged).
  Result<std::uint64_t> log_group(Txn& txn, const codec::DeltaGroup& new_part, Staged& staged);
  // apply_group, then log_group of what was new.
  Result<std::uint64_t> commit_group(Txn& txn, const codec::DeltaGroup& group, bool local, Staged& staged);
  // The operation count a batch bumps: its op's when it is one plain op, else `write`.
  std::atomic<std::uint64_t>& counter_of(const WriteBatch& batch);
  // Counts a batch and refuses one over a cap or on a read-only store.
  Status batch_admissible(const WriteBatch& batch);
  // Writer thread, in `txn`: checks the conditions (`held`) and, when they hold, applies every op.
  Status apply_batch(Txn& txn, const WriteBatch& batch, bool& held);
  // The kind a batch op writes (nullopt: any, a del) and how it builds its delta at `key`.
  std::optional<ValueKind> batch_op_kind(const BatchOp& op) const;
  BuildDelta batch_op_build(const BatchOp& op, const std::string& key);
  bool grow_map();
  // The committed causal context, as read in `txn`.
  Result<crdt::DotContext> committed_context(const Txn& txn) const;
  void observe_timestamps(const codec::DeltaGroup& group);
  // merge_delta's checks before its write: decodes, checks keys and members, resolves a copy of this
  // store's id the delta shows.
  Result<codec::DeltaGroup> admit_delta(std::string_view delta_bytes, std::uint64_t origin);
  // Writer thread, in `txn`: joins one received group (as merge_delta), adopting the state it changed.
  Result<MergeOutcome> merge_group(Txn& txn, codec::DeltaGroup& group);
  void notify_subscribers(const std::vector<Change>& changes);

  std::unique_ptr<Environment> environment_;
  StoreOptions options_;

  // Owned by the writer thread (touched only inside queued writes and the queue's hooks): the state
  // the writes of the batch being built advance, and the same as of the last commit (writer_state.h).
  // A commit copies working_ into committed_; an abort copies committed_ back (WriteQueue's hooks).
  WriterState working_;
  WriterState committed_;
  // The wall clock register timestamps come from (ReplicaOptions::wall_clock, else the system clock),
  // and the hybrid logical clock over it. Read on the writer thread only.
  std::shared_ptr<crdt::WallClock> wall_clock_;
  crdt::HybridClock clock_{*wall_clock_};

  // next_sequence_ as of the last commit, for readers on any thread.
  std::atomic<std::uint64_t> committed_next_sequence_{1};

  // Readers share it; growing the map takes it exclusively (LMDB requires no live transactions).
  std::shared_mutex resize_mutex_;
  std::uint64_t map_size_bytes_;

  std::mutex subscribers_mutex_;
  std::uint64_t next_subscription_ = 1;
  struct Subscriber {
    std::string prefix;
    std::function<void(const Change&)> callback;
    std::uint64_t after = 0;  // subscribe_since: changes up to this sequence were delivered from the log.
  };
  // The sequence in `change`'s position (0 when it has none).
  static std::uint64_t sequence_of(const Change& change);
  // The change feed's log; its writes run on the writer thread in before_commit.
  ChangeLog change_log_{options_.change_retention};
  std::map<std::uint64_t, Subscriber> subscribers_;

  // ---- Usage (src/store/usage.cpp): usage() and the operation counts it reports ----
 public:
  Result<StoreUsage> usage() override;

 private:
  // Bumped at the start of each counted call, successful or not. Relaxed: counts, not ordering.
  struct OperationCounters {
    std::atomic<std::uint64_t> put{0}, get{0}, del{0}, sadd{0}, srem{0}, sismember{0}, smembers{0}, incr{0},
        decr{0}, counter{0}, scan{0}, merge_delta{0}, write{0};
  };
  static void count(std::atomic<std::uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
  OperationCounters operations_;
  // Reads and writes that returned a failed invariant check (record_checks.h), for usage().
  std::atomic<std::uint64_t> failed_checks_{0};
  // Returns `result`, counting it when it is a failed invariant check.
  template <typename R>
  R counted(R result) {
    if (!result.has_value() && is_failed_check(result.error())) count(failed_checks_);
    return result;
  }
  // Every write transaction goes through here (never queue_->submit directly), so a failed check in
  // any of them (local writes, merges, anti-entropy, compaction, retirement, identity) is counted once.
  Status run_write(WriteQueue::Write write) { return counted(queue_->submit(std::move(write))); }

  // ---- Metadata compaction of counter resets (src/store/counter_gc.cpp) ----
  // The record key of the last counter record a compact_counter_resets pass examined (empty: none yet);
  // the next pass starts after it. In memory only: after a restart the passes start from the
  // beginning again. Owned by the writer thread.
  std::string counter_gc_resume_after_;
  // ---- End of metadata compaction ----

  // ---- Retiring replicas (src/store/retirement.cpp, retirement.h) ----
 public:
  // Loads the retirement table and adds back to the in-memory context the retired replicas the
  // persisted one leaves out. Store::open calls it once, before the store is shared.
  Status load_retirements();

 private:
  // The working context as persisted in meta: without the retired replicas once it covers all of them.
  std::string encode_persisted_context() const;
  // One pass of reissue_retired_writes() in a write transaction (retirement.cpp).
  struct Reissue;
  // Writer thread: whether the store has seen every dot of the old id the set-aside `writes` assume
  // here (1..through, or the smaller through of a later retirement decision).
  bool holds_every_kept_dot_of(const codec::RetiredWrites& writes) const;
  // The replica id as of the last commit, for replica_id() on any thread (working_.replica is written by the
  // writer thread when reincarnate() commits).
  std::atomic<std::uint64_t> published_replica_{0};
  // ---- End of retiring replicas ----

  // ---- Replica identity (src/store/lmdb_store_identity.cpp, identity.h) ----
 public:
  StoreIdentity identity() override;
  Status start_identity_check() override;
  Status confirm_identity() override;
  Result<std::optional<IdentityChange>> observe_own_dots(std::uint64_t highest) override;
  Result<IdentityChange> adopt_new_identity() override;

 private:
  // Writer thread: the highest own dot seen (every one minted here, unless another copy's arrived).
  std::uint64_t own_counter() const { return working_.whole().context.next_dot(working_.replica).counter - 1; }
  // Writer thread, in `txn`: takes a new random id. With `reason` kConflict and unconfirmed dots
  // minted, their writes are set aside and the store emptied first (identity.h). In-memory state
  // changes only once everything in `txn` succeeded.
  Result<IdentityChange> change_identity(Txn& txn, IdentityChangeReason reason, std::string detail);
  // Queues change_identity(kConflict) when a peer holding dots of `replica` (this store's id when the
  // caller looked) up to `highest` shows another copy of the id: beyond every dot minted here, or with
  // `count_unconfirmed` (only the gossip layer's reports may: it never ships unconfirmed dots, so
  // nobody can hold them legitimately) one of the unconfirmed ones. Any thread; a cheap check against
  // the last commit first, then the decision again on the writer thread against its exact state.
  Result<std::optional<IdentityChange>> resolve_if_another_copy(crdt::ReplicaId replica, std::uint64_t highest,
                                                                bool count_unconfirmed, std::string_view where);
  void publish_identity();
  // For identity() and the cheap pre-check of resolve_if_another_copy on any thread, as of the last commit.
  mutable std::mutex identity_mutex_;
  StoreIdentity published_identity_;
  std::uint64_t published_own_counter_ = 0;
  // ---- End of replica identity ----

  std::unique_ptr<WriteQueue> queue_;  // Last: its writer thread uses everything above.
};

template <typename Read>
auto LmdbStore::with_read_txn(Read&& read) -> decltype(read(std::declval<const Txn&>())) {
  std::shared_lock lock(resize_mutex_);
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(databases().env, nullptr, MDB_RDONLY, &raw); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "begin read"));
  }
  Txn txn(raw);
  return counted(read(static_cast<const Txn&>(txn)));
}

}  // namespace cairn::store
