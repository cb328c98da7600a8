#include "src/store/change_log.h"

#include <charconv>
#include <cstdio>
#include <random>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/environment.h"
#include "src/store/local_ops.h"

namespace cairn::store {
namespace {

constexpr std::string_view kTokenPrefix = "c1:";

Error expired(std::string message) {
  return Error(ErrorCode::kPositionExpired, std::move(message) + "; start over from a snapshot (docs/watch.md)");
}

Result<std::uint64_t> parse_number(std::string_view text, int base) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return fail(ErrorCode::kInvalidArgument, "not a change-feed position");
  }
  return value;
}

std::string counter_text(const crdt::PnCounter::Store& store) {
  if (auto value = crdt::PnCounter::value_of(store)) return std::to_string(*value);
  return "out of range";  // The exact total does not fit an int64; counter() reports it (store.h).
}

struct Stats {
  std::uint64_t entries = 0;  // Changes, the header left out.
  std::uint64_t bytes = 0;
};

Result<Stats> stats_of(const Txn& txn, MDB_dbi dbi) {
  MDB_stat stat{};
  if (int rc = mdb_stat(txn.get(), dbi, &stat); rc != 0) return tl::unexpected(lmdb_error(rc, "stat the change log"));
  const std::uint64_t pages = stat.ms_branch_pages + stat.ms_leaf_pages + stat.ms_overflow_pages;
  return Stats{stat.ms_entries > 0 ? stat.ms_entries - 1 : 0, pages * stat.ms_psize};
}

}  // namespace

std::uint64_t random_log_id() {
  std::random_device device;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{device()} << 32) | device();
  return id;
}

std::string encode_change_position(ChangePosition position) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%016llx:%llu", static_cast<unsigned long long>(position.log_id),
                static_cast<unsigned long long>(position.sequence));
  return std::string(kTokenPrefix) + buffer;
}

Result<ChangePosition> decode_change_position(std::string_view token) {
  const auto malformed = [&] {
    return fail(ErrorCode::kInvalidArgument, "'" + std::string(token.substr(0, 64)) +
                                                 "' is not a change-feed position this cairn can read");
  };
  if (!token.starts_with(kTokenPrefix)) return malformed();
  token.remove_prefix(kTokenPrefix.size());
  const std::size_t colon = token.find(':');
  if (colon == std::string_view::npos || colon != 16) return malformed();
  auto log_id = parse_number(token.substr(0, colon), 16);
  auto sequence = parse_number(token.substr(colon + 1), 10);
  if (!log_id || !sequence || *log_id == 0) return malformed();
  return ChangePosition{*log_id, *sequence};
}

Status describe_change(const Txn& txn, const Databases& databases, const codec::RecordKey& record, Change& change) {
  auto value = read_record(txn, databases.values, record);
  if (!value) return tl::unexpected(value.error());
  change.member = record.member;
  switch (record.type) {
    case codec::ValueType::kRegister: {
      const auto& store = std::get<crdt::LwwRegister::Store>(*value);
      change.op = store.empty() ? ChangeOp::kDel : ChangeOp::kPut;
      if (!store.empty()) change.value = crdt::LwwRegister::versions(store).front().entry->value;
      break;
    }
    case codec::ValueType::kSetMember:
      change.op = std::get<crdt::DotSet>(*value).empty() ? ChangeOp::kSrem : ChangeOp::kSadd;
      break;
    case codec::ValueType::kCounter: {
      const auto& store = std::get<crdt::PnCounter::Store>(*value);
      change.op = crdt::PnCounter::present(store) ? ChangeOp::kCounter : ChangeOp::kDel;
      if (change.op == ChangeOp::kCounter) change.value = counter_text(store);
      break;
    }
  }
  auto kinds = kinds_at(txn, databases.values, record.key);
  if (!kinds) return tl::unexpected(kinds.error());
  change.deleted = !kinds->any();
  return ok();
}

Status ChangeLog::open(Txn& txn, MDB_dbi dbi, std::uint64_t replica, std::uint64_t new_log_id, bool writable) {
  dbi_ = dbi;
  if (dbi == 0) return ok();  // A read-only open of a store from before the change feed.
  auto stored = txn.read(dbi, encode_sequence(0));
  if (!stored) return tl::unexpected(stored.error());
  if (*stored) {
    auto header = codec::decode_change_log_header(**stored);
    if (!header) return tl::unexpected(header.error());
    if (header->replica == replica || !writable) {
      log_id_.store(header->log_id, std::memory_order_release);
      return ok();
    }
  }
  if (!writable) return ok();
  // A new store, one from before the change feed, or one now under another id (a copy or a restore):
  // a new log. Its old entries described another history than the one this copy goes on to write.
  if (int rc = mdb_drop(txn.get(), dbi, 0); rc != 0) return tl::unexpected(lmdb_error(rc, "empty the change log"));
  if (auto written = txn.write(dbi, encode_sequence(0), codec::encode_change_log_header({new_log_id, replica}));
      !written) {
    return written;
  }
  log_id_.store(new_log_id, std::memory_order_release);
  return ok();
}

Result<std::uint64_t> ChangeLog::last_sequence(const Txn& txn) const {
  auto cursor = LmdbCursor::open(txn, dbi_);
  if (!cursor) return tl::unexpected(cursor.error());
  auto last = cursor->last();
  if (!last) return tl::unexpected(last.error());
  return last->has_value() ? decode_sequence((*last)->key) : 0;
}

Status ChangeLog::append(Txn& txn, std::vector<Change>& changes, std::uint64_t now_ms, std::uint64_t replica) {
  if (changes.empty() || !enabled()) return ok();
  // Taking a new identity empties every database but meta and peers (identity.h), this log too: what
  // follows is a new history, so a new log (old tokens are then refused, never misread).
  auto header = txn.read(dbi_, encode_sequence(0));
  if (!header) return tl::unexpected(header.error());
  if (!*header) {
    if (auto started = open(txn, dbi_, replica, random_log_id(), true); !started) return started;
  }
  auto last = last_sequence(txn);
  if (!last) return tl::unexpected(last.error());
  std::uint64_t sequence = *last;
  const std::uint64_t log_id = log_id_.load(std::memory_order_relaxed);
  for (Change& change : changes) {
    ++sequence;
    if (auto written = txn.write(dbi_, encode_sequence(sequence), codec::encode_change_record(change, now_ms));
        !written) {
      return written;
    }
    change.position = encode_change_position({log_id, sequence});
  }
  return trim(txn, changes.size() + 16, now_ms);
}

Status ChangeLog::trim(Txn& txn, std::size_t budget, std::uint64_t now_ms) {
  for (; budget > 0; --budget) {
    auto stats = stats_of(txn, dbi_);
    if (!stats) return tl::unexpected(stats.error());
    if (stats->entries <= 1) return ok();  // The newest change is always kept.
    std::string oldest_key;
    bool too_old = false;
    {
      auto cursor = LmdbCursor::open(txn, dbi_);
      if (!cursor) return tl::unexpected(cursor.error());
      auto oldest = cursor->seek(encode_sequence(1));
      if (!oldest) return tl::unexpected(oldest.error());
      if (!oldest->has_value()) return ok();
      oldest_key = std::string((*oldest)->key);
      if (retention_.max_age_ms != 0) {
        auto record = codec::decode_change_record((*oldest)->value);
        // An entry that does not decode cannot be served either: trimming it is the only way on.
        too_old = !record || record->time_ms + retention_.max_age_ms < now_ms;
      }
    }
    const bool over = (retention_.max_changes != 0 && stats->entries > retention_.max_changes) ||
                      (retention_.max_bytes != 0 && stats->bytes > retention_.max_bytes) || too_old;
    if (!over) return ok();
    if (auto erased = txn.erase(dbi_, oldest_key); !erased) return erased;
  }
  return ok();
}

Result<std::string> ChangeLog::newest(const Txn& txn) const {
  if (!enabled()) return fail(ErrorCode::kUnavailable, "this store keeps no change feed (opened read-only)");
  auto last = last_sequence(txn);
  if (!last) return tl::unexpected(last.error());
  return encode_change_position({log_id_.load(std::memory_order_acquire), *last});
}

Result<ChangeBatch> ChangeLog::read_after(const Txn& txn, std::string_view prefix, std::string_view token,
                                          std::size_t max_changes) const {
  if (!enabled()) return fail(ErrorCode::kUnavailable, "this store keeps no change feed (opened read-only)");
  if (max_changes == 0 || max_changes > kMaxChangeBatch) {
    return fail(ErrorCode::kInvalidArgument, "a change batch holds 1 to " + std::to_string(kMaxChangeBatch) + " changes");
  }
  const std::uint64_t log_id = log_id_.load(std::memory_order_acquire);
  ChangePosition from{log_id, 0};
  auto newest_sequence = last_sequence(txn);
  if (!newest_sequence) return tl::unexpected(newest_sequence.error());
  auto cursor = LmdbCursor::open(txn, dbi_);
  if (!cursor) return tl::unexpected(cursor.error());
  auto entry = cursor->seek(encode_sequence(1));
  if (!entry) return tl::unexpected(entry.error());
  if (!token.empty()) {
    auto decoded = decode_change_position(token);
    if (!decoded) return tl::unexpected(decoded.error());
    from = *decoded;
    if (from.log_id != log_id) {
      return tl::unexpected(expired("position " + std::string(token) +
                                    " is from another store's change feed (a restored or copied store starts a "
                                    "new feed)"));
    }
    if (from.sequence > *newest_sequence) {
      return tl::unexpected(expired("position " + std::string(token) + " is ahead of this feed's newest change " +
                                    std::to_string(*newest_sequence) + " (changes lost in a crash under nosync?)"));
    }
    const std::uint64_t oldest = entry->has_value() ? decode_sequence((**entry).key) : *newest_sequence + 1;
    if (from.sequence + 1 < oldest) {
      return tl::unexpected(expired("position " + std::string(token) + " is too old: the feed keeps changes from " +
                                    std::to_string(oldest) + " on (its retention trimmed those in between)"));
    }
    entry = cursor->seek(encode_sequence(from.sequence + 1));
    if (!entry) return tl::unexpected(entry.error());
  }
  ChangeBatch batch;
  std::uint64_t at = from.sequence;
  std::size_t bytes = 0;
  // Examines a bounded number of entries, so a rare prefix does not make one call read the whole log.
  const std::size_t max_examined = max_changes * 8;
  for (std::size_t examined = 0; entry->has_value() && examined < max_examined; ++examined) {
    if (batch.changes.size() >= max_changes) break;
    const auto& [key, value] = **entry;
    auto record = codec::decode_change_record(value);
    if (!record) return fail(record.error().code(), "change log entry: " + record.error().message());
    if (record->change.key.starts_with(prefix)) {
      const std::size_t size = record->change.key.size() + record->change.member.size() + record->change.value.size();
      if (!batch.changes.empty() && bytes + size > kMaxChangeBatchBytes) break;  // The next read starts with it.
      bytes += size;
      record->change.position = encode_change_position({log_id, decode_sequence(key)});
      batch.changes.push_back(std::move(record->change));
    }
    at = decode_sequence(key);
    entry = cursor->next();
    if (!entry) return tl::unexpected(entry.error());
  }
  batch.caught_up = !entry->has_value();
  batch.position = encode_change_position({log_id, at});
  return batch;
}

}  // namespace cairn::store

namespace cairn {

const char* to_string(ChangeOp op) {
  switch (op) {
    case ChangeOp::kPut: return "put";
    case ChangeOp::kDel: return "del";
    case ChangeOp::kSadd: return "sadd";
    case ChangeOp::kSrem: return "srem";
    case ChangeOp::kCounter: return "counter";
  }
  return "unknown";
}

}  // namespace cairn
