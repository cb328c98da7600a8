// The raw-LMDB baselines store_bench compares the store against: the same keys, values, batching and
// durability, written straight to one LMDB database with no CRDT metadata, delta log or causal context.
// Any LMDB failure ends the program with a message (a benchmark has no one to hand an error to).
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn_bench {

struct RawOptions {
  bool no_sync = false;  // MDB_NOSYNC, as the store's Durability::kNoSync.
  bool no_tls = false;   // MDB_NOTLS, as the store opens its environment (for the read-path breakdown).
  bool read_only = false;
  std::uint64_t map_size_bytes = 4ull << 30;
};

class RawLmdb {
 public:
  RawLmdb(const std::string& dir, const RawOptions& options);
  ~RawLmdb();
  RawLmdb(const RawLmdb&) = delete;
  RawLmdb& operator=(const RawLmdb&) = delete;

  // Puts keys[i] for each i of `indices`, in that order (value of key i: values[i % values.size()]),
  // from one thread in exactly `commits` write transactions of (as near as possible) equal size, each
  // committed with the environment's durability.
  void put_batched(const std::vector<std::string>& keys, const std::vector<std::string>& values,
                   const std::vector<std::size_t>& indices, std::size_t commits);

  // One get in its own read transaction; copies the value into `out`. False when the key is absent.
  bool get(std::string_view key, std::string& out) const;

  // Walks the whole database in one read transaction, copying every key; returns how many there were.
  std::size_t scan_all() const;

  // The id of the last committed write transaction (mdb_env_info's me_last_txnid).
  std::uint64_t last_txnid() const;

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

// me_last_txnid of the LMDB environment in `dir`, read through a read-only environment opened and
// closed here. Must not be called while anything else in this process has `dir` open.
std::uint64_t last_txnid_of(const std::string& dir);

// Ends the program when `rc` is an LMDB error.
void check_lmdb(int rc, const char* what);

}  // namespace cairn_bench
