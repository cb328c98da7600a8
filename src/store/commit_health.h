// What the writer thread learns from its commits, for Store::usage() (WriteHealth): whether writes
// fail now, since how many failed commits, and why.
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <mutex>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::store {

class CommitHealth {
 public:
  // Writer thread: the final outcome of one batch (after any retry). A failure on `env` also probes
  // whether LMDB is broken for good (a fatal error: every write transaction then fails at once).
  void record(const Status& committed, MDB_env* env);

  // Any thread: a copy of what is known now. Never waits for the disk (the lock is only ever held to
  // copy a few fields).
  WriteHealth snapshot() const;

 private:
  std::size_t last_written_txn_ = 0;  // Writer thread only: the last transaction id a commit wrote.
  mutable std::mutex mutex_;
  WriteHealth health_;
};

// True when LMDB refuses every write transaction on `env` because of an earlier fatal error
// (MDB_PANIC). Call only on the writer thread: it begins (and aborts) a write transaction.
bool lmdb_environment_broken(MDB_env* env);

}  // namespace cairn::store
