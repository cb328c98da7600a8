#include "bench/raw_lmdb.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace cairn_bench {

void check_lmdb(int rc, const char* what) {
  if (rc == 0) return;
  std::fprintf(stderr, "raw LMDB: %s: %s\n", what, mdb_strerror(rc));
  std::exit(1);
}

namespace {

// Keeps the compiler from dropping work whose result is otherwise unused.
volatile unsigned char g_sink = 0;

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};  // LMDB never writes through mv_data.
}

}  // namespace

RawLmdb::RawLmdb(const std::string& dir, const RawOptions& options) {
  std::filesystem::create_directories(dir);
  check_lmdb(mdb_env_create(&env_), "env_create");
  // The same layout as the store: named databases in one environment (the store has four; the
  // baseline needs one, "values").
  check_lmdb(mdb_env_set_maxdbs(env_, 8), "set_maxdbs");
  check_lmdb(mdb_env_set_mapsize(env_, options.map_size_bytes), "set_mapsize");
  unsigned flags = 0;
  if (options.no_sync) flags |= MDB_NOSYNC;
  if (options.no_tls) flags |= MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  check_lmdb(mdb_env_open(env_, dir.c_str(), flags, 0644), "env_open");
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(env_, nullptr, options.read_only ? MDB_RDONLY : 0, &txn), "begin");
  check_lmdb(mdb_dbi_open(txn, "values", options.read_only ? 0 : MDB_CREATE, &dbi_), "dbi_open");
  check_lmdb(mdb_txn_commit(txn), "commit");
}

RawLmdb::~RawLmdb() { mdb_env_close(env_); }

void RawLmdb::put_batched(const std::vector<std::string>& keys, const std::vector<std::string>& values,
                          const std::vector<std::size_t>& indices, std::size_t commits) {
  const std::size_t count = indices.size();
  if (commits == 0) commits = 1;
  if (commits > count) commits = count;
  std::size_t done = 0;
  for (std::size_t c = 1; c <= commits; ++c) {
    // Commit c holds the puts up to floor(count * c / commits): equal-size batches, `commits` of them.
    const std::size_t until = count * c / commits;
    MDB_txn* txn = nullptr;
    check_lmdb(mdb_txn_begin(env_, nullptr, 0, &txn), "begin write");
    for (; done < until; ++done) {
      const std::size_t i = indices[done];
      MDB_val k = to_val(keys[i]);
      MDB_val v = to_val(values[i % values.size()]);
      check_lmdb(mdb_put(txn, dbi_, &k, &v, 0), "put");
    }
    check_lmdb(mdb_txn_commit(txn), "commit");
  }
}

bool RawLmdb::get(std::string_view key, std::string& out) const {
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin read");
  MDB_val k = to_val(key);
  MDB_val v;
  const int rc = mdb_get(txn, dbi_, &k, &v);
  if (rc != MDB_NOTFOUND) check_lmdb(rc, "get");
  const bool found = rc == 0;
  if (found) out.assign(static_cast<const char*>(v.mv_data), v.mv_size);
  mdb_txn_abort(txn);
  return found;
}

std::size_t RawLmdb::scan_all() const {
  MDB_txn* txn = nullptr;
  check_lmdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "begin read");
  MDB_cursor* cursor = nullptr;
  check_lmdb(mdb_cursor_open(txn, dbi_, &cursor), "cursor_open");
  std::size_t count = 0;
  std::string key;
  MDB_val k;
  MDB_val v;
  for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc != MDB_NOTFOUND;
       rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
    check_lmdb(rc, "cursor_get");
    key.assign(static_cast<const char*>(k.mv_data), k.mv_size);
    ++count;
  }
  if (!key.empty()) g_sink = static_cast<unsigned char>(key.back());
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  return count;
}

std::uint64_t RawLmdb::last_txnid() const {
  MDB_envinfo info;
  check_lmdb(mdb_env_info(env_, &info), "env_info");
  return info.me_last_txnid;
}

std::uint64_t last_txnid_of(const std::string& dir) {
  MDB_env* env = nullptr;
  check_lmdb(mdb_env_create(&env), "env_create");
  check_lmdb(mdb_env_set_maxdbs(env, 8), "set_maxdbs");
  check_lmdb(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644), "env_open (read-only, for me_last_txnid)");
  MDB_envinfo info;
  check_lmdb(mdb_env_info(env, &info), "env_info");
  mdb_env_close(env);
  return info.me_last_txnid;
}

}  // namespace cairn_bench
