// The change log behind the change feed (docs/watch.md), as etcd keeps revisions and CouchDB its
// by-sequence index: the `changes` database, big-endian sequence -> encoded ChangeRecord (key, kind,
// operation, new value or "deleted", local or merged), plus a header at sequence 0 naming the log.
//
// Why a log of its own: the delta log is trimmed as soon as gossip neighbours acknowledge, so it
// cannot tell a watcher what it missed while disconnected. Entries are appended in the same write
// transaction as the change they describe (LmdbStore's before_commit), so a crash can never leave a
// gap; they are trimmed by their own retention (StoreOptions::change_retention), a few per commit.
//
// A position is a token naming the log (its random id) and a sequence in it: "c1:<log id hex>:<seq>"
// today, opaque to users, so it can become a vector of sequences per partition later. A store opened
// under another replica id than the one its log was started under (a copy, a restored backup, a
// reincarnated id) starts a new log with a new id: tokens of the old one are refused, never misread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/options.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// A decoded position token.
struct ChangePosition {
  std::uint64_t log_id = 0;
  std::uint64_t sequence = 0;  // The change it names; 0: before the first.
};
std::string encode_change_position(ChangePosition position);
// kInvalidArgument for a token this build cannot read.
Result<ChangePosition> decode_change_position(std::string_view token);

// A random, non-zero log id.
std::uint64_t random_log_id();

// Writer thread, in the transaction of the change to `record` (right after it was applied): fills
// `change`'s op, member, value and deleted from what the key holds now.
Status describe_change(const Txn& txn, const Databases& databases, const codec::RecordKey& record, Change& change);

// Most bytes of keys, members and values one read returns (at least one change, whatever its size).
inline constexpr std::size_t kMaxChangeBatchBytes = std::size_t{4} << 20;

class ChangeLog {
 public:
  explicit ChangeLog(ChangeRetention retention) : retention_(retention) {}

  // Writer thread (or, read-only, any), once at open: reads the header, or writes a new one (with
  // `new_log_id`) into an empty log or one started under another replica id than `replica` (then
  // erasing its entries). `txn` may be read-only: then a missing log just has id 0 (no feed).
  Status open(Txn& txn, MDB_dbi dbi, std::uint64_t replica, std::uint64_t new_log_id, bool writable);

  // Writer thread, last thing before commit: appends `changes` after the newest entry, sets their
  // positions, then trims what the retention no longer keeps (at most changes.size() + 16 entries,
  // never the newest).
  // `replica`: the store's id now, for the header of a log that has to start over (see the .cpp).
  Status append(Txn& txn, std::vector<Change>& changes, std::uint64_t now_ms, std::uint64_t replica);

  // Any thread, in a read transaction: see Store::changes_since.
  Result<ChangeBatch> read_after(const Txn& txn, std::string_view prefix, std::string_view token,
                                 std::size_t max_changes) const;
  // Any thread: the position of the newest entry in `txn`'s snapshot.
  Result<std::string> newest(const Txn& txn) const;

  bool enabled() const { return log_id_.load(std::memory_order_acquire) != 0; }

 private:
  Result<std::uint64_t> last_sequence(const Txn& txn) const;
  // Trims up to `budget` of the oldest entries the retention does not keep.
  Status trim(Txn& txn, std::size_t budget, std::uint64_t now_ms);

  ChangeRetention retention_;
  MDB_dbi dbi_ = 0;
  std::atomic<std::uint64_t> log_id_{0};
};

}  // namespace cairn::store
