// Placeholder until metadata compaction lands (docs/metadata-gc.md).
#include "src/store/lmdb_store.h"

namespace cairn::store {

Result<std::vector<VersionVectorEntry>> LmdbStore::context_vector() {
  return tl::unexpected(Error(ErrorCode::kUnsupported, "context_vector: not built yet"));
}

Result<CompactionPass> LmdbStore::compact_counter_resets(const std::vector<ReplicaReport>&, std::size_t) {
  return tl::unexpected(Error(ErrorCode::kUnsupported, "compact_counter_resets: not built yet"));
}

}  // namespace cairn::store
