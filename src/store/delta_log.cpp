#include "src/store/delta_log.h"

#include <algorithm>
#include <string>

#include "src/codec/codec.h"
#include "src/store/environment.h"

namespace cairn::store::delta_log {
namespace {

Result<codec::DeltaGroup> decode_entry(std::string_view bytes) {
  auto group = codec::decode_delta_group(bytes);
  if (!group) return fail(group.error().code(), "delta log entry: " + group.error().message());
  return group;
}

}  // namespace

Status append(Txn& txn, const Databases& databases, std::uint64_t sequence, const codec::DeltaGroup& group) {
  return txn.write(databases.deltas, encode_sequence(sequence), codec::encode_delta_group(group));
}

Result<std::vector<LoggedDelta>> read_after(const Txn& txn, const Databases& databases, std::uint64_t after_sequence,
                                            std::size_t max_count) {
  std::vector<LoggedDelta> deltas;
  auto cursor = LmdbCursor::open(txn, databases.deltas);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek(encode_sequence(after_sequence + 1)); deltas.size() < max_count;
       entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) break;
    // Decoded only for its origin; the bytes are shipped as stored.
    auto group = decode_entry((*entry)->value);
    if (!group) return tl::unexpected(group.error());
    deltas.push_back(LoggedDelta{decode_sequence((*entry)->key), group->origin.value, std::string((*entry)->value)});
  }
  return deltas;
}

Status for_each_group(const Txn& txn, const Databases& databases, std::uint64_t first_sequence,
                      const std::function<Status(std::uint64_t, const codec::DeltaGroup&)>& visit) {
  auto cursor = LmdbCursor::open(txn, databases.deltas);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek(encode_sequence(first_sequence));; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) return ok();
    auto group = decode_entry((*entry)->value);
    if (!group) return tl::unexpected(group.error());
    if (auto visited = visit(decode_sequence((*entry)->key), *group); !visited) return visited;
  }
}

Result<DeltaLogBounds> bounds(const Txn& txn, const Databases& databases, std::uint64_t last_logged) {
  auto cursor = LmdbCursor::open(txn, databases.deltas);
  if (!cursor) return tl::unexpected(cursor.error());
  auto first = cursor->seek("");
  if (!first) return tl::unexpected(first.error());
  auto last = cursor->last();
  if (!last) return tl::unexpected(last.error());
  // While the log holds entries, its bounds are read under the transaction's snapshot rather than from
  // the writer's counter, so they agree with what read_after returns in the same snapshot.
  DeltaLogBounds result;
  if (last->has_value()) {
    result.first = decode_sequence((*first)->key);
    result.last = decode_sequence((*last)->key);
  } else {
    result.last = last_logged;
    result.first = last_logged + 1;
  }
  return result;
}

Result<std::size_t> trim_through(Txn& txn, const Databases& databases, std::uint64_t through_sequence) {
  std::vector<std::string> doomed;
  {
    // Collected first, erased after: the cursor must be closed before the transaction writes on.
    auto cursor = LmdbCursor::open(txn, databases.deltas);
    if (!cursor) return tl::unexpected(cursor.error());
    for (auto entry = cursor->seek("");; entry = cursor->next()) {
      if (!entry) return tl::unexpected(entry.error());
      if (!entry->has_value() || decode_sequence((*entry)->key) > through_sequence) break;
      doomed.emplace_back((*entry)->key);
    }
  }
  for (const std::string& key : doomed) {
    if (auto erased = txn.erase(databases.deltas, key); !erased) return tl::unexpected(erased.error());
  }
  return doomed.size();
}

Result<std::uint64_t> next_sequence(const Txn& txn, const Databases& databases, std::uint64_t recorded_next) {
  // The cursor must be closed before the caller commits: LMDB frees a write transaction's cursors with it.
  auto cursor = LmdbCursor::open(txn, databases.deltas);
  if (!cursor) return tl::unexpected(cursor.error());
  auto last = cursor->last();
  if (!last) return tl::unexpected(last.error());
  return std::max<std::uint64_t>(recorded_next, last->has_value() ? decode_sequence((*last)->key) + 1 : 1);
}

Result<std::uint64_t> entry_count(const Txn& txn, const Databases& databases) {
  MDB_stat stat{};
  if (int rc = mdb_stat(txn.get(), databases.deltas, &stat); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "stat of the delta log"));
  }
  return static_cast<std::uint64_t>(stat.ms_entries);
}

}  // namespace cairn::store::delta_log
