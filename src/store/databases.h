// The LMDB environment of a store and its named databases.
#pragma once

#include <lmdb.h>

#include <cstdint>

namespace cairn::store {

struct Databases {
  MDB_env* env = nullptr;
  MDB_dbi meta = 0;    // "meta": format version, replica id, delta sequence, the causal context.
  MDB_dbi values = 0;  // "values": one record per register or counter, one per set member.
  MDB_dbi deltas = 0;  // "deltas": big-endian sequence -> encoded delta-group.
  MDB_dbi peers = 0;   // "peers": membership (filled by the gossip layer).
  MDB_dbi tree = 0;       // "tree": the hash tree's leaf buckets (see hash_tree.h).
  MDB_dbi tree_keys = 0;  // "tree_keys": bucket + record key -> record hash (see hash_tree.h).
  // "resets": record key -> empty, for every counter record holding at least one reset entry (the
  // records compact_counter_resets looks at); kept by write_record in the record's transaction.
  MDB_dbi resets = 0;
  // "unconfirmed_chains": counter record key -> the store's own contributions that record held when its
  // dots became unconfirmed (a counter ValueRecord), written by the first local write to touch it
  // while they are; what a conflict re-issues is measured from them (src/store/identity.h).
  MDB_dbi unconfirmed_chains = 0;
  // "changes": the change feed's log, big-endian sequence -> ChangeRecord (src/store/change_log.h).
  MDB_dbi changes = 0;
};

// The store's own on-disk format (StoreMeta::format_version), apart from the codec's record format
// (codec::kFormatVersion). 1: before partitions; 2: the meta record holds the partition count. A store
// of format 1 is upgraded on its first writable open (docs/partitions.md "Upgrade"); a store of a
// format above this is refused with kUnsupported.
inline constexpr std::uint32_t kStoreFormatVersion = 2;

// Keys inside the meta database.
inline constexpr char kMetaIdentityKey[] = "identity";
inline constexpr char kMetaContextKey[] = "context";
// Present once the hash tree covers every record; its value names the tree's scheme, so a store
// whose tree was built differently (or not at all) is rebuilt on open.
inline constexpr char kMetaTreeKey[] = "tree";
inline constexpr char kTreeScheme[] = "xxh3-64/16-bit-buckets/v1";
// Present once the `resets` index lists every counter record holding a reset; a store written before
// the index (or under another scheme) gets it built on open.
inline constexpr char kMetaResetIndexKey[] = "reset_index";
inline constexpr char kResetIndexScheme[] = "counter-records-with-resets/v1";

}  // namespace cairn::store
