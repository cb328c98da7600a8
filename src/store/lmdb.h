// A thin RAII layer over LMDB: the environment, transactions and cursors, with LMDB's error codes
// turned into cairn::Error at this edge. Nothing above src/store sees an MDB_* type.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::store {

// Turns an LMDB return code into an Error naming the operation; MDB_MAP_FULL becomes kMapFull.
Error lmdb_error(int rc, std::string_view operation);

inline MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};  // LMDB never writes through mv_data.
}
inline std::string_view to_view(const MDB_val& value) {
  return std::string_view(static_cast<const char*>(value.mv_data), value.mv_size);
}

// An open transaction; aborted on destruction unless committed.
class Txn {
 public:
  Txn() = default;
  explicit Txn(MDB_txn* txn) : txn_(txn) {}
  Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)) {}
  Txn& operator=(Txn&& other) noexcept {
    if (this != &other) {
      abort();
      txn_ = std::exchange(other.txn_, nullptr);
    }
    return *this;
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn() { abort(); }

  MDB_txn* get() const { return txn_; }

  // The value at `key`, nullopt when absent. The view is valid until the transaction ends or writes.
  Result<std::optional<std::string_view>> read(MDB_dbi dbi, std::string_view key) const;
  Status write(MDB_dbi dbi, std::string_view key, std::string_view value);
  // Deleting an absent key is not an error.
  Status erase(MDB_dbi dbi, std::string_view key);

  Status commit();
  void abort() {
    if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
  }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor positioned by seek(); closed on destruction, which must come before its transaction ends
// (LMDB frees a write transaction's cursors at commit, so closing one afterwards is a double free).
class LmdbCursor {
 public:
  static Result<LmdbCursor> open(const Txn& txn, MDB_dbi dbi);
  LmdbCursor(LmdbCursor&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  LmdbCursor(const LmdbCursor&) = delete;
  LmdbCursor& operator=(const LmdbCursor&) = delete;
  ~LmdbCursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }

  struct Entry {
    std::string_view key;
    std::string_view value;
  };
  // The first entry with key >= `key`, or nullopt.
  Result<std::optional<Entry>> seek(std::string_view key);
  // The entry after the current one, or nullopt.
  Result<std::optional<Entry>> next();
  // The last entry of the database, or nullopt when empty.
  Result<std::optional<Entry>> last();

 private:
  explicit LmdbCursor(MDB_cursor* cursor) : cursor_(cursor) {}
  Result<std::optional<Entry>> step(MDB_val* key, MDB_cursor_op op);

  MDB_cursor* cursor_ = nullptr;
};

}  // namespace cairn::store
