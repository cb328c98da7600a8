// The delta log, as leveldb keeps its log in db/log_writer.h: the `deltas` database, big-endian
// sequence -> encoded delta-group. Every local write appends the deltas it made; a merge appends the
// part of a remote delta-group that was new here, remembering the replica it came from. Gossip ships
// entries by sequence (Replica::deltas_since) and trims what every neighbour acknowledged.
//
// Sequences are never reused: neighbours acknowledge by sequence. While the log holds entries its last
// key tells the next sequence on open; a trim that empties it records the next sequence in the store's
// meta record (LmdbStore::trim_delta_log), and next_sequence() takes the larger of the two.
//
// Plain functions over a transaction: the store calls them inside its own read and write transactions,
// so an append commits atomically with the records it describes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "cairn/status.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"
#include "src/store/replica_types.h"

namespace cairn::store::delta_log {

// Appends `group`, encoded, at `sequence` (the caller's next sequence, which it then advances).
Status append(Txn& txn, const Databases& databases, std::uint64_t sequence, const codec::DeltaGroup& group);

// Up to `max_count` entries with sequence > `after_sequence`, oldest first, as stored. kCorrupt
// (naming the delta log) for an entry that does not decode.
Result<std::vector<LoggedDelta>> read_after(const Txn& txn, const Databases& databases, std::uint64_t after_sequence,
                                            std::size_t max_count);

// Calls `visit(sequence, group)` for every entry from `first_sequence` on, oldest first, decoded;
// stops at the first error `visit` returns. kCorrupt for an entry that does not decode.
Status for_each_group(const Txn& txn, const Databases& databases, std::uint64_t first_sequence,
                      const std::function<Status(std::uint64_t, const codec::DeltaGroup&)>& visit);

// The sequences the log holds in `txn`'s snapshot. `last_logged` is the newest sequence the writer has
// committed, reported as `last` when the log is empty (trimmed, or nothing logged yet).
Result<DeltaLogBounds> bounds(const Txn& txn, const Databases& databases, std::uint64_t last_logged);

// Erases every entry with sequence <= `through_sequence`; returns how many it erased.
Result<std::size_t> trim_through(Txn& txn, const Databases& databases, std::uint64_t through_sequence);

// The sequence the next entry gets, for a store being opened: after the log's last entry, and never
// below `recorded_next` (what the meta record remembers of a log trimmed empty).
Result<std::uint64_t> next_sequence(const Txn& txn, const Databases& databases, std::uint64_t recorded_next);

// How many entries the log holds (O(1): LMDB keeps the count in the database header).
Result<std::uint64_t> entry_count(const Txn& txn, const Databases& databases);

}  // namespace cairn::store::delta_log
