// LmdbStore::usage(): the figures behind the "LMDB size and map use", "delta log length" and
// "operations by kind" metrics. Everything here is O(1): LMDB keeps the page counts and entry counts
// in its meta pages and database headers, so no scan is needed.
#include <sys/stat.h>

#include "src/store/delta_log.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {
namespace {

std::uint64_t load(const std::atomic<std::uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

}  // namespace

Result<StoreUsage> LmdbStore::usage() {
  StoreUsage usage;
  const OperationCounters& ops = operations_;
  usage.operations =
      OperationCounts{load(ops.put),  load(ops.get),       load(ops.del),      load(ops.sadd),
                      load(ops.srem), load(ops.sismember), load(ops.smembers), load(ops.incr),
                      load(ops.decr), load(ops.counter),   load(ops.scan),     load(ops.merge_delta), load(ops.write)};
  usage.failed_record_checks = load(failed_checks_);
  if (queue_) {  // A read-only store has no writer: its writes never fail and it commits nothing.
    usage.writes = queue_->health();
    const WriteQueue::CommitCounts counts = queue_->commit_counts();
    usage.commits = counts.commits;
    usage.committed_writes = counts.writes;
  }
  auto sized = with_read_txn([&](const Txn& txn) -> Status {
    // Inside a read transaction: the map cannot be resized under mdb_env_info.
    MDB_envinfo info{};
    MDB_stat env_stat{};
    if (int rc = mdb_env_info(databases().env, &info); rc != 0)
      return tl::unexpected(lmdb_error(rc, "env info"));
    if (int rc = mdb_env_stat(databases().env, &env_stat); rc != 0)
      return tl::unexpected(lmdb_error(rc, "env stat"));
    auto log_entries = delta_log::entry_count(txn, databases());
    if (!log_entries) return tl::unexpected(log_entries.error());
    usage.map_size_bytes = info.me_mapsize;
    usage.used_bytes = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * env_stat.ms_psize;
    usage.delta_log_entries = *log_entries;
    return ok();
  });
  if (!sized) return tl::unexpected(sized.error());
  mdb_filehandle_t fd{};
  struct stat file {};
  if (mdb_env_get_fd(databases().env, &fd) == 0 && ::fstat(fd, &file) == 0) {
    usage.file_bytes = static_cast<std::uint64_t>(file.st_size);
  }
  return usage;
}

}  // namespace cairn::store
