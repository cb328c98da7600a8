#include "src/store/lmdb.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace cairn::store {
namespace {

// Below this many free bytes the filesystem counts as full. LMDB writes a commit's pages in chunks of
// at most 64 pages (256 KiB), so a commit that ran out of space leaves less than that free.
constexpr std::uint64_t kFilesystemFullBelowBytes = std::uint64_t{1} << 20;

// True when the filesystem holding `env`'s files has no room left for this process (root may use the
// blocks reserved for it, as the kernel allows).
bool filesystem_full(MDB_env* env) {
  const char* path = nullptr;
  if (env == nullptr || mdb_env_get_path(env, &path) != 0 || path == nullptr) return false;
  struct statvfs fs {};
  if (::statvfs(path, &fs) != 0) return false;
  const std::uint64_t free_blocks = ::geteuid() == 0 ? fs.f_bfree : fs.f_bavail;
  return static_cast<std::uint64_t>(free_blocks) * fs.f_frsize < kFilesystemFullBelowBytes;
}

// A commit that failed for want of space. LMDB reports a write that could not start as ENOSPC but a
// short write (the filesystem filled up in the middle of the commit) as EIO, "Input/output error";
// either way the operator must read "no space left on device", not a disk fault.
Error commit_error(int rc, MDB_env* env) {
  if ((rc == EIO || rc == ENOSPC) && (rc == ENOSPC || filesystem_full(env))) {
    const char* path = nullptr;
    std::string where = env != nullptr && mdb_env_get_path(env, &path) == 0 && path != nullptr ? path : "the store";
    return Error(ErrorCode::kIo, "commit: no space left on device (the filesystem holding " + where +
                                     " is full; writes succeed again once space is freed)");
  }
  return lmdb_error(rc, "commit");
}

}  // namespace

Error lmdb_error(int rc, std::string_view operation) {
  std::string message(operation);
  message += ": ";
  message += mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) return Error(ErrorCode::kMapFull, message);
  if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) return Error(ErrorCode::kCorrupt, message);
  if (rc == MDB_VERSION_MISMATCH) return Error(ErrorCode::kUnsupported, message);
  if (rc == MDB_BAD_VALSIZE) return Error(ErrorCode::kLimitExceeded, message);
  if (rc == EAGAIN || rc == EBUSY) return Error(ErrorCode::kUnavailable, message);
  return Error(ErrorCode::kIo, message);
}

Result<std::optional<std::string_view>> Txn::read(MDB_dbi dbi, std::string_view key) const {
  MDB_val k = to_val(key);
  MDB_val v;
  const int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return tl::unexpected(lmdb_error(rc, "read"));
  return std::optional<std::string_view>(to_view(v));
}

Status Txn::write(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = mdb_put(txn_, dbi, &k, &v, 0);
  if (rc != 0) return tl::unexpected(lmdb_error(rc, "write"));
  return ok();
}

Status Txn::erase(MDB_dbi dbi, std::string_view key) {
  MDB_val k = to_val(key);
  const int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc != 0 && rc != MDB_NOTFOUND) return tl::unexpected(lmdb_error(rc, "delete"));
  return ok();
}

Status Txn::commit() {
  MDB_txn* txn = std::exchange(txn_, nullptr);
  MDB_env* env = mdb_txn_env(txn);  // The commit frees `txn`, also when it fails.
  const int rc = mdb_txn_commit(txn);
  if (rc != 0) return tl::unexpected(commit_error(rc, env));
  return ok();
}

Result<LmdbCursor> LmdbCursor::open(const Txn& txn, MDB_dbi dbi) {
  MDB_cursor* cursor = nullptr;
  const int rc = mdb_cursor_open(txn.get(), dbi, &cursor);
  if (rc != 0) return tl::unexpected(lmdb_error(rc, "open cursor"));
  return LmdbCursor(cursor);
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::step(MDB_val* key, MDB_cursor_op op) {
  MDB_val value;
  const int rc = mdb_cursor_get(cursor_, key, &value, op);
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc != 0) return tl::unexpected(lmdb_error(rc, "cursor"));
  return std::optional<Entry>(Entry{to_view(*key), to_view(value)});
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::seek(std::string_view key) {
  MDB_val k = to_val(key);
  if (key.empty()) return step(&k, MDB_FIRST);  // LMDB refuses a zero-length key; every key is >= "".
  return step(&k, MDB_SET_RANGE);
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::next() {
  MDB_val k;
  return step(&k, MDB_NEXT);
}

Result<std::optional<LmdbCursor::Entry>> LmdbCursor::last() {
  MDB_val k;
  return step(&k, MDB_LAST);
}

}  // namespace cairn::store
