#include "src/store/commit_health.h"

namespace cairn::store {

void CommitHealth::record(const Status& committed, MDB_env* env) {
  if (committed) {
    // Only a commit that wrote something proves writes work again: LMDB skips the disk entirely for a
    // transaction that changed nothing (and then does not advance the transaction id).
    MDB_envinfo info{};
    if (mdb_env_info(env, &info) != 0 || info.me_last_txnid == last_written_txn_) return;
    last_written_txn_ = info.me_last_txnid;
    std::lock_guard lock(mutex_);
    health_.failing = false;
    return;
  }
  const bool broken = lmdb_environment_broken(env);  // Outside the lock: it touches LMDB.
  std::lock_guard lock(mutex_);
  if (!health_.failing) ++health_.episodes;
  health_.failing = true;
  health_.fatal = health_.fatal || broken;
  ++health_.failed_commits;
  health_.last_error = committed.error().message();
}

WriteHealth CommitHealth::snapshot() const {
  std::lock_guard lock(mutex_);
  return health_;
}

bool lmdb_environment_broken(MDB_env* env) {
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env, nullptr, 0, &txn);
  if (rc == 0) mdb_txn_abort(txn);
  return rc == MDB_PANIC;
}

}  // namespace cairn::store
