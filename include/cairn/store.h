// cairn::Store: a durable CRDT key-value store an application embeds and uses with no network at all.
//
// Every key holds one kind of value: an LWW-register (put/get/del), an OR-set (sadd/srem/...) or a
// PN-counter (incr/decr). All calls are synchronous and thread-safe: any thread may call any method
// at any time. Reads run in parallel in LMDB read transactions. A write returns once it is committed
// with the durability of StoreOptions::durability. Expected failures come back as cairn::Error values
// (see status.h); nothing throws.
//
// This is the application's face of the store. Every write also produces a delta, appended to the
// store's delta log for a peer to ship; replicating them (the delta log, the peer table, anti-entropy,
// metadata compaction, retirement, replica identity) is the store's internal face, src/store/replica.h,
// which cairn::Node drives. An application that wants its store replicated runs a Node (node.h).
#pragma once

#include <cstddef>
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

// "register", "set" or "counter": the kind's name wherever a user reads it (the CLI, RESP's CAIRN.*
// replies, exports).
constexpr const char* to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::kRegister: return "register";
    case ValueKind::kSet: return "set";
    case ValueKind::kCounter: return "counter";
  }
  return "unknown";
}

// What get() returns: the winning value, and the values of concurrent writes that lost the tie-break
// (empty unless two peers wrote the key without seeing each other's write).
struct RegisterValue {
  std::string value;
  std::vector<std::string> concurrent;
};

// What a change did (docs/watch.md). Read from the key's state right after the change, so a merged
// delta reports the same operation a local write of the same effect would.
enum class ChangeOp : std::uint8_t {
  kPut = 1,      // A register now holds `value` (its winning version).
  kDel = 2,      // The key's register or counter is gone (deleted here or by a peer).
  kSadd = 3,     // Set member `member` is now present.
  kSrem = 4,     // Set member `member` is now absent (removed, or its key deleted).
  kCounter = 5,  // A counter now reads `value`, in decimal (an incr, decr, or a merged contribution).
};

// "put", "del", "sadd", "srem", "counter".
const char* to_string(ChangeOp op);

// One change to one register, counter or set member, as subscribe() and the change feed report it.
// A write that touches several records (sadd of three members, a batch, a merged delta) yields one
// Change per record, in the order it applied them.
struct Change {
  std::string key;
  ValueKind kind = ValueKind::kRegister;
  bool local = true;  // False when the change came from another replica (merged by the node).
  ChangeOp op = ChangeOp::kPut;
  std::string member = {};  // kSadd, kSrem: the member.
  std::string value = {};   // kPut: the register's value now; kCounter: the counter's value, decimal.
  bool deleted = false;  // The key held no value of any kind right after the change.
  // The change's position in the store's change feed: an opaque token (docs/watch.md). Passing it to
  // subscribe_since() or changes_since() resumes right after this change. Empty in a store opened
  // read-only (it keeps no feed).
  std::string position = {};
};

// Up to `max_changes` changes read from the change feed after a position (Store::changes_since).
struct ChangeBatch {
  std::vector<Change> changes;  // Oldest first; only those whose key starts with the prefix asked for.
  // Where the next read resumes: after the last change examined (which may be past the last one
  // returned, when later ones did not match the prefix).
  std::string position;
  bool caught_up = false;  // No change after `position` was committed when the batch was read.
};

// The most changes one changes_since() call returns.
inline constexpr std::size_t kMaxChangeBatch = 10'000;

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
                decr = 0, counter = 0, scan = 0, merge_delta = 0, write = 0;

  // Every count with its operation's name ("put", ..., "write"), in the order declared above.
  std::vector<std::pair<std::string_view, std::uint64_t>> named() const {
    return {{"put", put},   {"get", get},   {"del", del},         {"sadd", sadd},
            {"srem", srem}, {"sismember", sismember}, {"smembers", smembers}, {"incr", incr},
            {"decr", decr}, {"counter", counter},     {"scan", scan},         {"merge_delta", merge_delta},
            {"write", write}};
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
  // Reads and writes refused since the store was opened because a record or the causal context failed
  // an invariant check at the LMDB boundary (each a kCorrupt error for that key; docs/store.md).
  std::uint64_t failed_record_checks = 0;
  // Successful commits since the store was opened, and the writes (single operations, batches, merges,
  // internal writes) they held: their ratio is the writes per commit the group commit achieves.
  std::uint64_t commits = 0;
  std::uint64_t committed_writes = 0;
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

// ---- Batch writes (Store::write): several operations in one transaction, all or none. ----

// A batch's size caps, checked before anything is queued (kLimitExceeded): operations, bytes of keys,
// values and members together, and records the batch's delta may touch (a del of a large set or a
// delete_all touches one record per member or key). Why: a batch is one delta-group on the delta path,
// which must fit in one peer frame (defaults.h kProtocolMaxFramePayloadBytes) and the codec's limits.
inline constexpr std::size_t kMaxBatchOps = 10'000;
inline constexpr std::size_t kMaxBatchBytes = std::size_t{17} << 20;  // One largest value, and room.
inline constexpr std::size_t kMaxBatchRecords = 10'000;

// One operation of a WriteBatch, with the meaning of the Store method of the same name.
struct BatchOp {
  enum class Kind {
    kPut,        // put(key, value)
    kDel,        // del(key)
    kSadd,       // sadd(key, members)
    kSrem,       // srem(key, members)
    kIncr,       // incr(key, amount)
    kDecr,       // decr(key, amount)
    kDeleteAll,  // del of every key the store holds when this op runs (key unused)
  };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
  std::vector<std::string> members;
  std::uint64_t amount = 0;

  friend bool operator==(const BatchOp&, const BatchOp&) = default;
};

// A condition a batch is applied under: in the commit that applies the batch, before its operations,
// `key` holds exactly the register versions and counter entries whose dots are `dots` (as inspect()
// lists them, in any order) and no set member. Empty `dots`: the key is absent (a counter holding only
// reset entries counts as absent, as inspect() reports it). This is how a read-modify-write stays
// atomic: read the key with inspect(), compute, and write under the condition that it is unchanged.
struct BatchCondition {
  std::string key;
  std::vector<InspectedDot> dots;

  friend bool operator==(const BatchCondition&, const BatchCondition&) = default;
};

// Operations applied in order by Store::write: a later operation sees the effect of earlier ones (a
// del then a put of a key that held a set leaves a register). A plain value: build it on any thread.
class WriteBatch {
 public:
  WriteBatch& put(std::string_view key, std::string_view value) {
    return add(BatchOp{BatchOp::Kind::kPut, std::string(key), std::string(value), {}, 0});
  }
  WriteBatch& del(std::string_view key) { return add(BatchOp{BatchOp::Kind::kDel, std::string(key), {}, {}, 0}); }
  WriteBatch& sadd(std::string_view key, std::vector<std::string> members) {
    return add(BatchOp{BatchOp::Kind::kSadd, std::string(key), {}, std::move(members), 0});
  }
  WriteBatch& srem(std::string_view key, std::vector<std::string> members) {
    return add(BatchOp{BatchOp::Kind::kSrem, std::string(key), {}, std::move(members), 0});
  }
  WriteBatch& incr(std::string_view key, std::uint64_t amount = 1) {
    return add(BatchOp{BatchOp::Kind::kIncr, std::string(key), {}, {}, amount});
  }
  WriteBatch& decr(std::string_view key, std::uint64_t amount = 1) {
    return add(BatchOp{BatchOp::Kind::kDecr, std::string(key), {}, {}, amount});
  }
  // Deletes every key the store holds when this operation runs (FLUSHDB), within kMaxBatchRecords.
  WriteBatch& delete_all() { return add(BatchOp{BatchOp::Kind::kDeleteAll, {}, {}, {}, 0}); }
  WriteBatch& add(BatchOp op) {
    ops_.push_back(std::move(op));
    return *this;
  }
  // Applies the batch only if `key` holds exactly `dots` (see BatchCondition).
  WriteBatch& expect(std::string_view key, std::vector<InspectedDot> dots) {
    conditions_.push_back(BatchCondition{std::string(key), std::move(dots)});
    return *this;
  }

  const std::vector<BatchOp>& ops() const { return ops_; }
  const std::vector<BatchCondition>& conditions() const { return conditions_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<BatchOp> ops_;
  std::vector<BatchCondition> conditions_;
};

// The name of an operation kind ("put", ..., "delete_all"), for messages and logs.
const char* to_string(BatchOp::Kind kind);

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

  // Applies `batch` atomically: its conditions are checked and its operations applied in order in one
  // transaction (nested inside the group commit), all or none, and acknowledged once that commit is
  // durable, as every write. Returns true when applied; false, writing nothing, when a condition did
  // not hold (the caller reads again and retries). Fails, writing nothing, with the error the failing
  // operation alone would give (kWrongType, kOutOfRange, kInvalidArgument, ...) or kLimitExceeded past a
  // cap (kMaxBatchOps, kMaxBatchBytes, kMaxBatchRecords). An empty batch with no condition is true.
  // Replicated as one delta-group, so a peer that merges it from the delta log applies all or none
  // (anti-entropy may carry its records separately: docs/store.md, "Batch writes"). A batch of one
  // operation other than delete_all, with no condition, is exactly that operation's own call (counted
  // and logged as it, not held to kMaxBatchRecords).
  virtual Result<bool> write(const WriteBatch& batch) = 0;

  // write() without waiting: queues `batch` and returns at once; `done` gets what write() would return.
  // `done` runs on the store's writer thread right after the commit holding the batch (or on the
  // calling thread, before this returns, when the batch is refused before queueing). It must return
  // quickly and must not wait for a store write (that would deadlock the writer); post the result to
  // your own thread instead. Every batch queued while a commit runs joins the next one, so a server can
  // keep any number of writes in flight without a thread per write.
  virtual void write_async(WriteBatch batch, std::function<void(Result<bool>)> done) = 0;

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

  // ---- The change feed (docs/watch.md) ----
  // Every change is also appended to the store's change log in the transaction that makes it, so a
  // crash never leaves a gap. The log keeps the newest changes within StoreOptions::change_retention;
  // a position is an opaque token naming this store's log and a place in it.

  // The position of the newest change committed (a snapshot read now holds everything up to it, so a
  // reader that takes it BEFORE reading a snapshot and then resumes from it misses nothing). Fails
  // with kUnavailable on a store opened read-only.
  virtual Result<std::string> change_position() = 0;

  // Changes after `position` ("" = from the oldest change kept) whose key starts with `prefix`, at most
  // `max_changes` (1 .. kMaxChangeBatch), read in one read transaction. kPositionExpired when changes
  // after `position` were already trimmed (or `position` belongs to another store or an older copy of
  // this one): start over from a snapshot (docs/watch.md). kInvalidArgument for a malformed token.
  virtual Result<ChangeBatch> changes_since(std::string_view prefix, std::string_view position,
                                            std::size_t max_changes) = 0;

  // subscribe(), resuming after `position`: `callback` first gets every kept change after it (on the
  // calling thread, before this returns), then every later one (on the writer thread, as subscribe()),
  // each exactly once, in commit order. Errors as changes_since, before any callback.
  virtual Result<std::uint64_t> subscribe_since(std::string_view prefix, std::string_view position,
                                                std::function<void(const Change&)> callback) = 0;

  // The store's map use, file size, delta log length and operation counts now: cheap (no scan), for
  // metrics. Thread-safe. Fails only when LMDB cannot begin a read transaction.
  virtual Result<StoreUsage> usage() = 0;
};

}  // namespace cairn
