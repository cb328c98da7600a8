// WriterState: everything the store's writer thread holds in memory about what it has written, as one
// value. LmdbStore keeps two copies: `committed` (as of the last LMDB commit) and `working` (what the
// writes of the batch being built have made of it). A batch changes only the working copy; a commit
// makes it the committed one and an abort puts the committed one back (WriteQueue's hooks), in one
// place, so no field can be forgotten when a batch rolls back.
//
// Keyed by partition: the causal context, the dot counter (the context's own entry) and the delta-log
// sequence belong to a partition, so that per-partition causal state (issue 18) adds entries here rather
// than rewriting the writer. Until partitions exist there is exactly one entry, kWholeStore.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "cairn/store.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/replica_types.h"

namespace cairn::store {

using PartitionId = std::uint32_t;
// The one partition of a store without partitions: every key is in it.
inline constexpr PartitionId kWholeStore = 0;

// What a partition's writes advance.
struct PartitionWriterState {
  // Every dot seen in the partition; its entry for this replica is the dot counter (next_dot()).
  crdt::DotContext context;
  // The sequence the next delta-group logged for the partition gets.
  std::uint64_t next_sequence = 1;
};

struct WriterState {
  std::map<PartitionId, PartitionWriterState> partitions;
  // The context changed since it was last persisted (before_commit writes it then).
  bool context_dirty = false;
  crdt::ReplicaId replica;
  // Every retirement this store knows: replica -> through.
  std::map<crdt::ReplicaId, std::uint64_t> retired;
  // The meta record as persisted (replica and next_delta_sequence are kept apart and written into it),
  // whether the current id was minted since the store was opened, and the latest identity change.
  codec::StoreMeta meta;
  bool id_minted_this_session = false;
  std::optional<IdentityChange> last_change;
  // Keys changed by the working copy's writes, for subscribers once they commit (empty when committed).
  std::vector<Change> changes;

  // The one partition until partitions exist.
  PartitionWriterState& whole() { return partitions[kWholeStore]; }
  const PartitionWriterState& whole() const { return partitions.at(kWholeStore); }
};

}  // namespace cairn::store
