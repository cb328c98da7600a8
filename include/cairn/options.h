// Options for opening a cairn store.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn {

// When a write is acknowledged relative to the disk.
enum class Durability {
  // Every write is its own LMDB commit, fsynced before the call returns. Slowest; simplest to reason about.
  kSync,
  // Default. Writers that arrive together share one LMDB commit and one fsync; each call returns only
  // after the commit that holds its write is on disk. As durable as kSync, far faster under concurrency.
  kGroup,
  // Commits are not fsynced (LMDB's MDB_NOSYNC): the operating system writes them back later. A process
  // crash loses nothing, but a power loss or kernel crash can lose the most recent acknowledged writes
  // (never corrupt the store). Choose it only when the data can be re-derived or re-synced from peers.
  kNoSync,
};

// The change feed's retention (StoreOptions::change_retention); 0 in a field means no limit of that kind.
struct ChangeRetention {
  std::uint64_t max_changes = 100'000;
  std::uint64_t max_age_ms = 24ull * 3600 * 1000;
  std::uint64_t max_bytes = 256ull << 20;
};

struct StoreOptions {
  Durability durability = Durability::kGroup;
  // Create the directory and an empty store when none exists.
  bool create_if_missing = true;
  // Open without writing anything (cairn dump uses this; safe beside a running peer).
  bool read_only = false;
  // Initial size of the LMDB memory map. The file grows as needed up to this size.
  std::uint64_t map_size_bytes = 256ull << 20;
  // When the map is full, double it (up to max_map_size_bytes) and retry, instead of failing the write.
  bool grow_map_automatically = true;
  std::uint64_t max_map_size_bytes = 64ull << 30;
  // How many queued writes one group commit may hold (kGroup and kNoSync).
  std::uint32_t max_writes_per_commit = 1024;
  // The replica id a NEW store gets; 0 (the default) draws a random one. Only for the simulator and
  // tests, which must reproduce a run from its seed; two stores with one id would corrupt each other's
  // causal history. Ignored when the store already exists.
  std::uint64_t replica_id_for_new_store = 0;
  // The cluster's partition count (docs/partitions.md), recorded when the store is created and fixed
  // from then on. 0: a new store takes kDefaultPartitionCount and an existing one keeps its own. Any
  // other value must be a power of two up to kMaxPartitionCount (both in cairn/defaults.h), and opening
  // a store that recorded another count fails with kInvalidArgument naming both (it cannot change).
  std::uint32_t partition_count = 0;
  // How much of the change feed (docs/watch.md) the store keeps for watchers that resume: the newest
  // changes, at most this many, this old and this many bytes of log; the oldest go first, a few per
  // commit. A watcher further behind than that is told its position expired. The newest change is
  // always kept.
  ChangeRetention change_retention = {};
};

// Documented limits. Keys and members must fit LMDB's 511-byte record keys with room for encoding.
inline constexpr std::size_t kMaxKeyBytes = 250;
inline constexpr std::size_t kMaxMemberBytes = 250;
inline constexpr std::size_t kMaxValueBytes = 16u << 20;

}  // namespace cairn
