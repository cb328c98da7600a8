// LmdbStore's change feed (store.h, "The change feed"; the log itself is change_log.h).
#include <mutex>
#include <utility>

#include "src/store/change_log.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {

Status LmdbStore::open_change_log() {
  const std::uint64_t replica = working_.replica.value;
  if (options_.read_only) {
    return with_read_txn([&](const Txn& txn) -> Status {
      return change_log_.open(const_cast<Txn&>(txn), databases().changes, replica, 0, false);
    });
  }
  const std::uint64_t new_log_id = random_log_id();
  return run_write(
      [&](Txn& txn) { return change_log_.open(txn, databases().changes, replica, new_log_id, true); });
}

std::uint64_t LmdbStore::sequence_of(const Change& change) {
  auto position = decode_change_position(change.position);
  return position ? position->sequence : 0;
}

Result<std::string> LmdbStore::change_position() {
  return with_read_txn([&](const Txn& txn) { return change_log_.newest(txn); });
}

Result<ChangeBatch> LmdbStore::changes_since(std::string_view prefix, std::string_view position,
                                             std::size_t max_changes) {
  return with_read_txn(
      [&](const Txn& txn) { return change_log_.read_after(txn, prefix, position, max_changes); });
}

Result<std::uint64_t> LmdbStore::subscribe_since(std::string_view prefix, std::string_view position,
                                                 std::function<void(const Change&)> callback) {
  std::string at(position);
  // Replays one read of the log after `at` and moves `at` on; true once nothing newer was committed.
  const auto replay = [&]() -> Result<bool> {
    auto batch = changes_since(prefix, at, kMaxChangeBatch);
    if (!batch) return tl::unexpected(batch.error());
    for (const Change& change : batch->changes) callback(change);
    at = std::move(batch->position);
    return batch->caught_up;
  };
  // The backlog, without holding up the writer's notifications...
  for (;;) {
    auto caught_up = replay();
    if (!caught_up) return tl::unexpected(caught_up.error());
    if (*caught_up) break;
  }
  // ...then, with them held, what committed meanwhile. Every commit is in the log before it notifies,
  // so a change is either read here or notified after the subscriber is in (sequence_of skips the
  // ones read here whose notification was still pending): each exactly once, in order.
  std::lock_guard lock(subscribers_mutex_);
  for (;;) {
    auto caught_up = replay();
    if (!caught_up) return tl::unexpected(caught_up.error());
    if (*caught_up) break;
  }
  auto decoded = decode_change_position(at);
  if (!decoded) return tl::unexpected(decoded.error());
  const std::uint64_t id = next_subscription_++;
  // after = 0 would mean "deliver everything": a feed with no change yet has nothing to skip anyway.
  subscribers_.emplace(id, Subscriber{std::string(prefix), std::move(callback), decoded->sequence});
  return id;
}

}  // namespace cairn::store
