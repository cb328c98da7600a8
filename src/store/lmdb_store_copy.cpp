// LmdbStore::copy_compacted: the snapshot a backup is made of (docs/operations.md, "Backup").
#include <lmdb.h>

#include <shared_mutex>

#include "src/store/lmdb.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {

Status LmdbStore::copy_compacted(int fd) {
  // LMDB's copy runs one read transaction of this process: the map must not be resized meanwhile.
  std::shared_lock lock(resize_mutex_);
  if (int rc = mdb_env_copyfd2(databases().env, fd, MDB_CP_COMPACT); rc != 0) {
    Error error = lmdb_error(rc, "copy the store (compacting)");
    return fail(ErrorCode::kIo, error.message());
  }
  return ok();
}

}  // namespace cairn::store
