// The LMDB environment of a store and its named databases.
#pragma once

#include <lmdb.h>

namespace cairn::store {

struct Databases {
  MDB_env* env = nullptr;
  MDB_dbi meta = 0;    // "meta": format version, replica id, delta sequence, the causal context.
  MDB_dbi values = 0;  // "values": one record per register or counter, one per set member.
  MDB_dbi deltas = 0;  // "deltas": big-endian sequence -> encoded delta-group.
  MDB_dbi peers = 0;   // "peers": membership (filled by the gossip layer).
};

// Keys inside the meta database.
inline constexpr char kMetaIdentityKey[] = "identity";
inline constexpr char kMetaContextKey[] = "context";

}  // namespace cairn::store
