// Placeholder until retiring replicas lands (docs/metadata-gc.md).
#include "src/store/lmdb_store.h"

namespace cairn::store {

Status LmdbStore::retire_replica(std::uint64_t, std::uint64_t) {
  return tl::unexpected(Error(ErrorCode::kUnsupported, "retire_replica: not built yet"));
}
Result<std::vector<Retirement>> LmdbStore::retirements() { return std::vector<Retirement>{}; }
Result<Reincarnation> LmdbStore::reincarnate(std::uint64_t) {
  return tl::unexpected(Error(ErrorCode::kUnsupported, "reincarnate: not built yet"));
}
Result<std::size_t> LmdbStore::reissue_retired_writes() { return std::size_t{0}; }
Result<bool> LmdbStore::has_retired_writes() { return false; }

}  // namespace cairn::store
