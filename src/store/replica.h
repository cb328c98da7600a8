// store::Replica: the store's replication face, for the node, gossip/, anti-entropy, metadata
// compaction and retirement. include/cairn/store.h is what an application embedding a store sees;
// this interface adds what a peer needs to replicate it: the delta log, the peer table, the hash tree
// and bucket exchange, counter-reset compaction, retiring replicas and replica identity.
//
// A Replica is a Store: open_replica() opens one (Store::open is open_replica seen through the public
// face), so the node opens its store here and hands the same object to the application as a Store&.
// Nothing ever casts a Store down to a Replica. Every method is synchronous and thread-safe, as the
// Store's are, and fails with kUnavailable on a read-only store when it writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/options.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "src/store/replica_types.h"

namespace cairn::crdt {
class WallClock;
}

namespace cairn::store {

class Txn;         // src/store/lmdb.h
struct Databases;  // src/store/databases.h

// How to open a replica: the public StoreOptions plus the outside world the store reads, which only
// this internal face can replace (as leveldb's Env): today the wall clock.
struct ReplicaOptions {
  StoreOptions store;
  // The wall clock the store's hybrid logical clock reads for register timestamps; null: the system
  // clock. Shared, so a test or the simulator can keep a handle to move or skew it while the store
  // runs; the store calls it from its writer thread, so it must be thread-safe.
  std::shared_ptr<crdt::WallClock> wall_clock;
  // Internal, for the simulator: writes commit on the calling thread inside the call (no writer
  // thread), so thousands of simulated stores cost no thread each. Only for stores whose every call
  // comes from one thread (the simulator's); WriteQueue says why.
  bool inline_writer = false;
};

class Replica : public Store {
 public:
  using DeltaLogBounds = cairn::DeltaLogBounds;

  // ---- Partitions (src/store/partition.h, docs/partitions.md). ----

  // The cluster's partition count, fixed when the store was created (or recorded when a store of
  // format 1 was first opened for writing). Constant for the store's life; any thread. Peers with
  // another count are refused (gossip::Peer::open_frame).
  virtual std::uint32_t partition_count() const = 0;

  // ---- The delta log (src/store/delta_log.h) and the peer table. ----

  // Applies an encoded delta-group from another replica (`origin`), idempotently, and appends its new
  // part to the delta log. Malformed bytes fail with kCorrupt and change nothing.
  virtual Result<MergeOutcome> merge_delta(std::string_view delta_bytes, std::uint64_t origin) = 0;

  // Applies several delta-groups (a received push) in one write transaction, in order, each as
  // merge_delta would: idempotently, each new part logged as its own delta-group. A delta that cannot
  // merge on its own account (malformed bytes or a failed record check: kCorrupt; over a limit:
  // kLimitExceeded) gets that error in its place and changes nothing, and the others merge still.
  // Any other failure (I/O, map full beyond its limit) fails the call and merges none of them.
  virtual Result<std::vector<Result<MergeOutcome>>> merge_deltas(const std::vector<DeltaToMerge>& deltas) = 0;

  // Waits until every write queued before this call has completed and its completion (write_async's
  // callback) has run. The node calls it before its event loop goes, since those callbacks post to it.
  virtual Status wait_for_queued_writes() = 0;

  // Up to `max_count` delta-groups with sequence > `after_sequence`, oldest first.
  virtual Result<std::vector<LoggedDelta>> deltas_since(std::uint64_t after_sequence, std::size_t max_count) = 0;

  // See DeltaLogBounds.
  virtual Result<DeltaLogBounds> delta_log_bounds() = 0;

  // The cluster members remembered from earlier runs, and saving changes to them (insert or replace by id).
  virtual Result<std::vector<PeerRecord>> load_peers() = 0;
  virtual Status save_peers(const std::vector<PeerRecord>& peers) = 0;

  // Drops every delta-group with sequence <= `through_sequence` (gossip calls it once every neighbour
  // has acknowledged them). Returns once the trim is committed.
  virtual Status trim_delta_log(std::uint64_t through_sequence) = 0;

  // ---- Records as stored, for diagnostics and tests. ----

  // Runs `read` in one read transaction over the store's LMDB databases and returns its status: for
  // tests and offline diagnostics that look at records as stored (read them with src/store/
  // delta_apply.h's read_record and the codec). The transaction ends when `read` returns; views into
  // it must not outlive the call. Fails when LMDB cannot begin a read transaction.
  virtual Status read_raw(const std::function<Status(const Txn&, const Databases&)>& read) = 0;

  // ---- Backups (docs/operations.md). ----

  // Writes a compacted copy of the store's LMDB file to `fd` (a file or a pipe), one consistent
  // snapshot: LMDB's mdb_env_copyfd2 with MDB_CP_COMPACT, under one read transaction, so writers go on
  // meanwhile (what they commit after the copy began is not in it). Works on a read-only store too.
  // While it runs the map cannot grow (a write that needs it waits); a slow `fd` makes it slow.
  // kIo when the copy or a write to `fd` fails (EPIPE when a pipe's reader went away).
  virtual Status copy_compacted(int fd) = 0;

  // ---- Anti-entropy: the hash tree over the records (docs/anti-entropy.md). ----
  // The gossip layer uses these to reconcile two replicas by exchanging bucket hashes top-down and
  // then the records of the differing buckets; an application needs none of them. The tree has
  // levels 0 (the root) to kTreeLeafLevel (kTreeLeafBuckets leaf buckets); node n at level L has the
  // children 16n .. 16n+15 at level L+1. All of them fail with kUnavailable on a read-only store.

  // The hashes of `nodes` at `level` (0 for an empty subtree), in the order given; with
  // `with_context`, also the encoded causal context, read in the same snapshot as the hashes.
  // kInvalidArgument for a level or node out of range.
  virtual Result<TreeHashes> tree_hashes(unsigned level, const std::vector<std::uint32_t>& nodes,
                                         bool with_context) = 0;

  // The digest of every record in leaf `buckets` (in the order given): per record, the hash of its
  // key (whose top 16 bits are its bucket) and the hash it adds to the tree. Stops after the bucket
  // that takes the count past `max_records` (at least one bucket is always covered).
  virtual Result<BucketDigests> bucket_digests(const std::vector<std::uint32_t>& buckets,
                                               std::size_t max_records) = 0;

  // The records of `buckets` whose key hashes are listed, read in one snapshot and encoded as one
  // delta-group (with an empty context: merge_buckets takes the sender's context apart, so a round
  // ships it once, not with every slice). Stops once the records pass `max_bytes` (at least one record
  // goes); what is left out is found again by the next comparison.
  virtual Result<BucketRecords> bucket_records(const std::vector<std::uint32_t>& buckets,
                                               const std::vector<std::uint64_t>& key_hashes,
                                               std::size_t max_bytes) = 0;

  // Joins another replica's bucket_records() into this store under that replica's encoded causal
  // context `sender_context` (from tree_hashes; it may be older than the records, which only makes
  // removals more cautious), and treats each record of ours whose key hash is in `absent_key_hashes`
  // as absent there:
  // joined with nothing under that context, it is removed when the context covers its dots. Each
  // record is joined under both causal contexts, but only the dots of the records involved join this
  // store's context (the rest of the sender's context speaks of other records). The change is logged
  // as a delta from `origin`, so gossip carries it on. kCorrupt for bytes that do not decode or a
  // record or key hash outside `buckets`; nothing changes then.
  virtual Result<BucketMerge> merge_buckets(const std::vector<std::uint32_t>& buckets,
                                            std::string_view group_bytes,
                                            const std::vector<std::uint64_t>& absent_key_hashes,
                                            std::string_view sender_context, std::uint64_t origin) = 0;

  // When this store's level-1 hashes equal `level1_hashes` (all records equal another replica's),
  // joins that replica's encoded causal context (read in the same snapshot as those hashes) into
  // this store's, in one transaction, and returns true; otherwise changes nothing and returns false.
  virtual Result<bool> join_context_if_tree_equals(const std::vector<std::uint64_t>& level1_hashes,
                                                   std::string_view context_bytes) = 0;

  // ---- Metadata compaction and retiring replicas (docs/metadata-gc.md). ----
  // The gossip layer drives these from what other replicas report of their causal contexts; an
  // application needs none of them.

  // The version vector part of this store's committed causal context (replica -> every counter up to
  // this one seen), ascending by replica, without retired replicas this store has seen all of; an
  // entry's beyond_gap names the highest dot of that replica seen past a gap, if any.
  virtual Result<std::vector<VersionVectorEntry>> context_vector() = 0;

  // Drops counter reset entries that no replica can need any more, examining at most `max_records`
  // counter records that hold resets, continuing where the previous call stopped (wrapping around).
  // A reset of contributor C's chain goes when this store holds no contribution of that chain and C's
  // report in `reports` shows C had seen the reset while this store has seen every dot C had minted by
  // then (so no contribution the reset must cancel can still arrive). Nothing else changes; the change
  // is not logged (every replica compacts for itself; anti-entropy carries the removal, which is safe).
  virtual Result<CompactionPass> compact_counter_resets(const std::vector<ReplicaReport>& reports,
                                                        std::size_t max_records) = 0;

  // Records that `replica` is retired with its dots 1..`through` (a replicated decision of the gossip
  // layer): its dots beyond `through` are dropped wherever they arrive from, and once this store has
  // seen 1..`through` its entry leaves the stored and shipped causal context (the retirement stands in
  // for it). Idempotent. kInvalidArgument for this store's own replica id (see reincarnate()).
  virtual Status retire_replica(std::uint64_t replica, std::uint64_t through) = 0;
  // Every retirement this store knows, ascending by replica.
  virtual Result<std::vector<Retirement>> retirements() = 0;

  // This store's own replica was retired through `through`: sets aside every write of its own beyond
  // `through` (they reached no other replica), empties the store, and takes a new random replica id, in
  // one transaction. The gossip layer then fills the store from a peer (anti-entropy) and calls
  // reissue_retired_writes(). Survives a crash at any point (the set-aside writes are durable).
  virtual Result<Reincarnation> reincarnate(std::uint64_t through) = 0;
  // Re-issues the writes reincarnate() set aside as new local writes under the new replica id, and
  // forgets them: register values that would still win, set adds, and counter increments and
  // decrements beyond what the retired replica's entries held here. Returns how many writes it
  // issued; 0 when nothing was pending, or while the store has not yet seen every dot 1..through of
  // the old id (the writes then stay set aside: call again after the next anti-entropy round).
  virtual Result<std::size_t> reissue_retired_writes() = 0;
  // True while writes set aside by reincarnate() wait for reissue_retired_writes().
  virtual Result<bool> has_retired_writes() = 0;

  // ---- Replica identity (docs/store.md, "Identity"). ----
  // One replica id is minted by one copy of a store only. A writable open that finds the data file
  // away from where its id was minted (another inode, filesystem or machine: a copy) takes a new id
  // at once, keeping every record; the gossip layer catches what that cannot see (a file rolled back
  // in place) with the methods below. Any thread may call them.

  // The id, the ids the data had before, and which own dots wait for confirmation.
  virtual StoreIdentity identity() = 0;
  // The gossip layer calls it before it ships anything: own dots minted from now on (and their delta
  // log entries) stay unconfirmed, not to be shipped, until confirm_identity(). Unconfirmed writes are
  // remembered across a restart. A no-op for an id minted since the store was opened (no other copy
  // can hold it) or while dots are unconfirmed already.
  virtual Status start_identity_check() = 0;
  // Peers' contexts show no dot of this id from unconfirmed_from on: those dots are this copy's alone
  // and may be shipped. Idempotent.
  virtual Status confirm_identity() = 0;
  // A peer's context holds dots of this store's id up to `highest`. When that shows another copy of
  // the store minted under the id (a dot beyond any minted here, or while unconfirmed one from
  // unconfirmed_from on, which this store never shipped), the store takes a new id at once and
  // returns the change, else nullopt. The new id keeps every record when no unconfirmed dot was
  // minted; otherwise the unconfirmed writes are set aside and the store emptied (IdentityChange).
  virtual Result<std::optional<IdentityChange>> observe_own_dots(std::uint64_t highest) = 0;
  // Takes a new random id now, keeping every record and the causal context (the old id's dots stay,
  // as received ones do), and records the old id as a predecessor: the one step to run after
  // restoring a backup into the same file. The old id is not retired: its dots stay in every version
  // vector until it is (`cairn retire`, or the dead-member horizon: docs/metadata-gc.md).
  virtual Result<IdentityChange> adopt_new_identity() = 0;
};

// Opens (or creates) the store in `path` as Store::open does (same errors), with its replication face.
Result<std::unique_ptr<Replica>> open_replica(const std::string& path, const ReplicaOptions& options);

// read_raw with a result: `read(txn, databases)` returns Result<T>, and so does this.
template <typename Read>
auto read_raw_result(Replica& replica, Read&& read)
    -> decltype(read(std::declval<const Txn&>(), std::declval<const Databases&>())) {
  using Out = decltype(read(std::declval<const Txn&>(), std::declval<const Databases&>()));
  std::optional<Out> out;
  auto status = replica.read_raw([&](const Txn& txn, const Databases& databases) -> Status {
    out.emplace(read(txn, databases));
    return ok();
  });
  if (!status) return tl::unexpected(status.error());
  return std::move(*out);
}

}  // namespace cairn::store
