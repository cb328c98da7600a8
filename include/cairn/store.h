// cairn::Store: a durable CRDT key-value store an application embeds and uses with no network at all.
//
// Every key holds one kind of value: an LWW-register (put/get/del), an OR-set (sadd/srem/...) or a
// PN-counter (incr/decr). All calls are synchronous and thread-safe: any thread may call any method
// at any time. Reads run in parallel in LMDB read transactions. A write returns once it is committed
// with the durability of StoreOptions::durability. Every write also produces a delta, appended to the
// store's delta log (deltas_since) for a peer to ship; merge_delta applies a delta from elsewhere.
// Expected failures come back as cairn::Error values (see status.h); nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/options.h"
#include "cairn/status.h"

namespace cairn {

enum class ValueKind { kRegister, kSet, kCounter };

// What get() returns: the winning value, and the values of concurrent writes that lost the tie-break
// (empty unless two peers wrote the key without seeing each other's write).
struct RegisterValue {
  std::string value;
  std::vector<std::string> concurrent;
};

// One delta-group of the delta log.
struct LoggedDelta {
  std::uint64_t sequence = 0;
  std::uint64_t origin = 0;  // The replica it was received from; 0 for a local write.
  std::string bytes;         // Encoded delta-group, ready for merge_delta on another store.
};

// What merge_delta did.
struct MergeOutcome {
  bool changed = false;            // Something in the delta was new here.
  std::uint64_t logged_sequence = 0;  // Where its new part was appended to the delta log (0 if nothing new).
};

// A cluster member as a peer remembers it across restarts (the gossip layer's membership table).
struct PeerRecord {
  std::uint64_t id = 0;
  std::string host;
  std::uint16_t port = 0;
  std::uint8_t status = 0;  // 0 alive, 1 suspect, 2 dead, 3 left.
  std::uint64_t incarnation = 0;
};

// ---- Anti-entropy types (see the Store methods of the same block). ----
inline constexpr unsigned kTreeLeafLevel = 4;
inline constexpr std::uint32_t kTreeFanout = 16;
inline constexpr std::uint32_t kTreeLeafBuckets = 65536;

struct TreeHashes {
  std::vector<std::uint64_t> hashes;  // One per requested node, in request order.
  std::string context;                // Encoded causal context, when asked for.
};

// One record as anti-entropy compares it: which record, and what it holds.
struct RecordDigest {
  std::uint64_t key_hash = 0;     // Of its record key; the top 16 bits are its leaf bucket.
  std::uint64_t record_hash = 0;  // What it adds to its bucket's hash.
  friend bool operator==(const RecordDigest&, const RecordDigest&) = default;
};

struct BucketDigests {
  std::vector<std::uint32_t> buckets;  // The buckets covered: a prefix of those asked for.
  std::vector<RecordDigest> records;   // Every record in them.
};

struct BucketRecords {
  std::string group;        // The records, as a delta-group with an empty context.
  std::size_t records = 0;  // How many records it holds.
};

struct BucketMerge {
  std::size_t keys_changed = 0;            // Keys whose value changed here (removals included).
  std::uint64_t logged_sequence = 0;       // Where the change was logged (0: nothing new).
  std::vector<RecordDigest> received;      // The digests of the records received.
};

// ---- Metadata compaction and retirement types (see the Store methods of the same block). ----

struct VersionVectorEntry {
  std::uint64_t replica = 0;
  std::uint64_t counter = 0;  // Every dot 1..counter of `replica` seen.
  // The highest dot of `replica` seen past a gap (dots that arrived out of order, e.g. from a partial
  // anti-entropy repair); 0 when there is none. Such an entry may have counter 0.
  std::uint64_t beyond_gap = 0;
  friend bool operator==(const VersionVectorEntry&, const VersionVectorEntry&) = default;
};

// What one replica last reported of its causal context.
struct ReplicaReport {
  std::uint64_t replica = 0;
  std::vector<VersionVectorEntry> vector;  // Ascending by replica.
};

struct CompactionPass {
  std::size_t records_examined = 0;  // Counter records holding resets that were looked at.
  std::size_t resets_dropped = 0;
  std::size_t records_removed = 0;   // Records left with no entry at all, hence removed.
  bool wrapped = false;              // This call reached the end of the records holding resets.
};

// A replica retired by a replicated decision: its dots 1..through are all there will ever be.
struct Retirement {
  std::uint64_t replica = 0;
  std::uint64_t through = 0;
  friend bool operator==(const Retirement&, const Retirement&) = default;
};

struct Reincarnation {
  std::uint64_t old_replica = 0;
  std::uint64_t new_replica = 0;
  std::size_t writes_set_aside = 0;
};

// ---- Replica identity (Store::identity() and the methods of the same block; docs/store.md). ----

// Why a store took a new replica id.
enum class IdentityChangeReason : std::uint8_t {
  kCopied,     // Opened away from where its id was minted: a copied, restored or moved data file.
  kConflict,   // Another copy of the store minted dots under the same id.
  kRetired,    // The cluster retired the old id (reincarnate()).
  kRequested,  // adopt_new_identity() (e.g. after a backup was restored into the same file).
};

struct IdentityChange {
  std::uint64_t old_replica = 0;
  std::uint64_t new_replica = 0;
  IdentityChangeReason reason = IdentityChangeReason::kCopied;
  // True when the writes made under the old id since it was last confirmed were set aside and the
  // store emptied, to be refilled by anti-entropy before they are re-issued under the new id
  // (reissue_retired_writes()); false when it kept every record.
  bool emptied = false;
  std::size_t writes_set_aside = 0;
  std::string detail;  // What showed it, for the log (e.g. "the data file's inode differs").
};

struct StoreIdentity {
  std::uint64_t replica = 0;
  // Own dots from this counter on were minted since start_identity_check() and no peer has confirmed
  // yet that no other copy of the id minted them too (confirm_identity()); 0: none are pending.
  std::uint64_t unconfirmed_from = 0;
  // While dots are unconfirmed: the first delta log sequence that must not be shipped yet (0: none).
  std::uint64_t held_from_sequence = 0;
  std::vector<std::uint64_t> predecessors;    // Ids this data was written under before, oldest first.
  std::optional<IdentityChange> last_change;  // The latest change since the store was opened.
};

// A change notification for subscribe().
struct Change {
  std::string key;
  ValueKind kind = ValueKind::kRegister;
  bool local = true;  // False when the change came from merge_delta.
};

// ---- Key inspection (Store::inspect): the CRDT metadata behind one key, for people debugging. ----

// Members of a set inspect() lists with their dots, and how many it counts at most (counting walks the
// member records; past this it stops and says the count is capped).
inline constexpr std::size_t kInspectMaxMembersListed = 100;
inline constexpr std::uint64_t kInspectMaxMembersCounted = 100'000;

// A dot: the `counter`-th event of replica `replica`.
struct InspectedDot {
  std::uint64_t replica = 0;
  std::uint64_t counter = 0;

  friend auto operator<=>(const InspectedDot&, const InspectedDot&) = default;
};

// One surviving write of a register: its dot, its hybrid-logical-clock timestamp and its value.
struct RegisterVersion {
  InspectedDot dot;
  std::uint64_t hlc_wall_ms = 0;
  std::uint32_t hlc_logical = 0;
  std::string value;
};

// One entry of a PN-counter's dot store (see crdt/pn_counter.h): a contributor's running totals, or a
// reset a delete recorded against one of them.
struct CounterPart {
  InspectedDot dot;
  bool reset = false;            // False: a contribution; true: a reset entry.
  std::uint64_t contributor = 0;  // The replica whose totals the entry is about.
  InspectedDot chain;            // The first dot of the contributor's chain of entries.
  std::uint64_t increments = 0;  // Running totals (a reset: the totals the delete observed).
  std::uint64_t decrements = 0;
  // A contribution: the totals of its chain that deletes had observed when it was written.
  std::uint64_t deleted_increments = 0;
  std::uint64_t deleted_decrements = 0;
  InspectedDot observed;  // A reset: the contribution it observed.
};

// One member of a set with the dots of the adds that survive.
struct InspectedMember {
  std::string member;
  std::vector<InspectedDot> dots;
};

// What inspect() returns. Sections for kinds the key does not hold stay empty. A key normally holds one
// kind; after concurrent writes of different kinds by peers that had not seen each other it may hold
// several, and every one present is filled in (`kinds` lists them; `kind` is the one kind() reports).
struct KeyInspection {
  std::string key;
  ValueKind kind = ValueKind::kRegister;
  std::vector<ValueKind> kinds;

  // Register: every surviving version, the winner (what get() returns) first, then the concurrent ones
  // a merge would discard, by descending (HLC, replica id). They stay until a write that saw them.
  std::vector<RegisterVersion> versions;
  // The replica that wrote the winning version (its dot's replica); 0 when the key holds no register.
  std::uint64_t writing_replica = 0;

  // Counter: the value counter() returns and every entry behind it. When the exact value does not
  // fit an int64 (counter() then fails with kOutOfRange), `counter_out_of_range` is true and
  // `counter_value` holds the nearest int64 (INT64_MAX above the range, INT64_MIN below it).
  std::int64_t counter_value = 0;
  bool counter_out_of_range = false;
  std::vector<CounterPart> counter_parts;

  // Set: how many members (counted up to kInspectMaxMembersCounted; `member_count_capped` says the
  // count stopped there) and the first kInspectMaxMembersListed members, in byte order, with dots.
  std::uint64_t member_count = 0;
  bool member_count_capped = false;
  std::vector<InspectedMember> members;

  // The key's causal context: what this peer has seen of the replicas that wrote the key's surviving
  // dots (the store-wide causal context restricted to them), as a version vector (replica -> every
  // counter up to this one seen) plus the dots seen beyond a gap. A seen dot the key does not hold was
  // overwritten or deleted.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> version_vector;
  std::vector<InspectedDot> dots_outside_vector;
};

// How many times each operation was called since the store was opened, successful or not (cursor
// calls count once, not per item). The `op` label values of the cairn_operations_total metric.
struct OperationCounts {
  std::uint64_t put = 0, get = 0, del = 0, sadd = 0, srem = 0, sismember = 0, smembers = 0, incr = 0,
                decr = 0, counter = 0, scan = 0, merge_delta = 0;

  // Every count with its operation's name ("put", ..., "merge_delta"), in the order declared above.
  std::vector<std::pair<std::string_view, std::uint64_t>> named() const {
    return {{"put", put},   {"get", get},   {"del", del},         {"sadd", sadd},
            {"srem", srem}, {"sismember", sismember}, {"smembers", smembers}, {"incr", incr},
            {"decr", decr}, {"counter", counter},     {"scan", scan},         {"merge_delta", merge_delta}};
  }
};

// Whether the store's commits succeed. Every write (local or merged) commits through one writer, so
// a failing commit means writes fail: the disk is full, the map is full with growth off or at its
// maximum, or the disk reports an I/O error. A failure episode is a run of failed commits; the next
// successful commit ends it (writes recover by themselves once space returns).
struct WriteHealth {
  bool failing = false;  // The last commit failed: writes fail now.
  // LMDB reported a fatal error (MDB_PANIC, e.g. its meta page could not be written): no write can
  // succeed until the store is closed and opened again (the process restarted).
  bool fatal = false;
  std::uint64_t failed_commits = 0;  // Since the store was opened.
  std::uint64_t episodes = 0;        // Failure episodes since the store was opened.
  std::string last_error;            // The message of the last failed commit ("" if none failed).
};

// How much of its LMDB map a store uses, and what it has been asked to do (see Store::usage()).
struct StoreUsage {
  std::uint64_t map_size_bytes = 0;  // The current LMDB map size (grows when the map fills, if allowed).
  // Pages in use up to the highest one ever written ((last page number + 1) x page size): the
  // high-water mark of the map, since LMDB reuses freed pages below it rather than shrinking.
  std::uint64_t used_bytes = 0;
  std::uint64_t file_bytes = 0;         // The size of data.mdb on disk.
  std::uint64_t delta_log_entries = 0;  // Delta-groups in the delta log (not yet trimmed).
  OperationCounts operations;
  WriteHealth writes;  // Whether commits succeed now.
};

// Iterates over a sequence (keys, members) without loading it all into memory: each next() call reads
// the following batch in a fresh read transaction, so a cursor may be held for any length of time and
// sees writes made after it started.
class Cursor {
 public:
  virtual ~Cursor() = default;
  // The next item, nullopt at the end, or an error (e.g. a corrupt record).
  virtual Result<std::optional<std::string>> next() = 0;
};

class Store {
 public:
  // Opens (or, with create_if_missing, creates) the store in directory `path`. Fails with
  // kUnavailable when another Store has it open for writing, kUnsupported when it was written by a
  // newer format, kNotFound when there is no store and create_if_missing is off, kIo for OS errors.
  // A directory may be open at most once per process (an LMDB rule); read-only opens from other
  // processes are safe beside the writer.
  static Result<std::unique_ptr<Store>> open(const std::string& path, const StoreOptions& options = {});

  virtual ~Store() = default;

  // This peer's replica id (random, chosen when the store was created, then persisted).
  virtual std::uint64_t replica_id() const = 0;

  // Registers. get fails with kNotFound for an absent key and kWrongType for a set or counter key.
  virtual Status put(std::string_view key, std::string_view value) = 0;
  virtual Result<RegisterValue> get(std::string_view key) = 0;
  // Deletes a key of any kind. Deleting an absent key succeeds (it is already gone).
  virtual Status del(std::string_view key) = 0;

  // Sets. Each member is its own record: cost does not grow with the set's size.
  virtual Status sadd(std::string_view key, const std::vector<std::string>& members) = 0;
  virtual Status srem(std::string_view key, const std::vector<std::string>& members) = 0;
  virtual Result<bool> sismember(std::string_view key, std::string_view member) = 0;
  // Members in byte order, streamed. An absent key yields no members.
  virtual Result<std::unique_ptr<Cursor>> smembers(std::string_view key) = 0;

  // Counters, whose value is a signed 64-bit integer. incr/decr fail with kOutOfRange ("increment or
  // decrement would overflow: ...") when the value this store would read afterwards leaves the int64
  // range, and write nothing; an add that brings a value already out of range (see counter()) back
  // toward it is accepted. They also fail with kOutOfRange once this replica's running total of a
  // counter's increments (or decrements) would pass 2^64 - 1; del() starts the counter over.
  // counter() fails with kNotFound for an absent key, and with kOutOfRange when concurrent writes of
  // several peers, merged, add up to a value outside the int64 range (the message says the exact
  // value): it is reported, never wrapped, until decrements (or increments) bring it back or a del.
  virtual Status incr(std::string_view key, std::uint64_t amount = 1) = 0;
  virtual Status decr(std::string_view key, std::uint64_t amount = 1) = 0;
  virtual Result<std::int64_t> counter(std::string_view key) = 0;

  // The kind of value at `key`, or kNotFound.
  virtual Result<ValueKind> kind(std::string_view key) = 0;

  // The CRDT metadata of `key` (see KeyInspection), read in one read transaction. kNotFound for an
  // absent key (or a counter holding only reset entries), kInvalidArgument/kLimitExceeded for a bad
  // key, kCorrupt when a record fails to decode.
  virtual Result<KeyInspection> inspect(std::string_view key) = 0;

  // Keys that start with `prefix`, in byte order, streamed.
  virtual std::unique_ptr<Cursor> scan(std::string_view prefix) = 0;

  // Calls `callback` for every change to a key starting with `prefix`, local or merged, after the
  // change is committed. Callbacks run on the store's writer thread, in commit order: they must return
  // quickly and must not call the store's write methods (that would deadlock); reads are fine.
  // Returns an id for unsubscribe.
  virtual std::uint64_t subscribe(std::string_view prefix, std::function<void(const Change&)> callback) = 0;
  virtual void unsubscribe(std::uint64_t subscription) = 0;

  // Applies an encoded delta-group from another replica (`origin`), idempotently, and appends its new
  // part to the delta log. Malformed bytes fail with kCorrupt and change nothing.
  virtual Result<MergeOutcome> merge_delta(std::string_view delta_bytes, std::uint64_t origin) = 0;

  // Up to `max_count` delta-groups with sequence > `after_sequence`, oldest first.
  virtual Result<std::vector<LoggedDelta>> deltas_since(std::uint64_t after_sequence, std::size_t max_count) = 0;

  // The sequences the delta log holds: [first, last]; first == last + 1 when it is empty. `last` is
  // the newest sequence ever logged (0 before the first write), also after trimming.
  struct DeltaLogBounds {
    std::uint64_t first = 1;
    std::uint64_t last = 0;
  };
  virtual Result<DeltaLogBounds> delta_log_bounds() = 0;

  // The cluster members remembered from earlier runs, and saving changes to them (insert or replace by id).
  virtual Result<std::vector<PeerRecord>> load_peers() = 0;
  virtual Status save_peers(const std::vector<PeerRecord>& peers) = 0;

  // Drops every delta-group with sequence <= `through_sequence` (gossip calls it once every neighbour
  // has acknowledged them). Returns once the trim is committed.
  virtual Status trim_delta_log(std::uint64_t through_sequence) = 0;

  // The store's map use, file size, delta log length and operation counts now: cheap (no scan), for
  // metrics. Thread-safe. Fails only when LMDB cannot begin a read transaction.
  virtual Result<StoreUsage> usage() = 0;

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

}  // namespace cairn
