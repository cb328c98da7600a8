// Opening a store's directory: the exclusive-writer lock, the LMDB environment and its databases, and
// the persistent identity (replica id, format version) and causal context kept in `meta`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cairn/options.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "src/store/replica_types.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// A random replica id, never 0: what a new store takes (and a reincarnated one, see retirement.cpp).
std::uint64_t random_replica_id();

// Owns the open environment and the directory lock; closes both on destruction.
class Environment {
 public:
  // Opens `path` as StoreOptions say. Fails with kUnavailable if another process holds the directory
  // for writing, kNotFound if it holds no store and create_if_missing is off, kUnsupported for a store
  // written by a newer format, kCorrupt if its meta records do not decode, kInvalidArgument when
  // options.partition_count is invalid or differs from the count the store recorded.
  static Result<std::unique_ptr<Environment>> open(const std::string& path, const StoreOptions& options);

  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  const Databases& databases() const { return databases_; }
  const codec::StoreMeta& meta() const { return meta_; }
  const crdt::DotContext& initial_context() const { return initial_context_; }
  // Set when this open took a new replica id (the data file is not where its id was minted), or
  // created the store: either way no other copy can hold the id.
  const std::optional<IdentityChange>& identity_change() const { return identity_change_; }
  bool identity_minted() const { return identity_minted_; }
  // The sequence the next logged delta-group gets.
  std::uint64_t next_delta_sequence() const { return next_delta_sequence_; }

 private:
  Environment() = default;
  Status open_databases(bool read_only);
  Status load_or_create_meta(const StoreOptions& options, const std::string& path);
  // The steps of load_or_create_meta, in its transaction: the meta record read (or a new identity
  // minted, unless read-only), the causal context and next delta sequence read, and the indexes a
  // store written by an older build lacks (the hash tree, the reset index) built.
  Status read_or_mint_identity(const Txn& txn, const StoreOptions& options);
  Status read_context_and_sequence(const Txn& txn);
  Status build_missing_indexes(Txn& txn);
  // Settles meta_.partition_count from the stored count and the requested one (partition.h); on a
  // writable open records it, and the current store format, when the store lacked them (format 1).
  Status settle_partition_count(Txn& txn, const StoreOptions& options);
  // On a writable open: records the fingerprint of a store that has none, or takes a new id when it
  // differs from the one recorded (src/store/identity.h). Writes meta_ in `txn` when it changed.
  Status check_fingerprint(Txn& txn, const std::string& path);

  int lock_fd_ = -1;
  Databases databases_;
  codec::StoreMeta meta_;
  crdt::DotContext initial_context_;
  std::uint64_t next_delta_sequence_ = 1;
  std::optional<IdentityChange> identity_change_;
  bool identity_minted_ = false;
};

// Delta log keys: the sequence as 8 big-endian bytes, so LMDB's byte order is numeric order.
std::string encode_sequence(std::uint64_t sequence);
std::uint64_t decode_sequence(std::string_view bytes);

}  // namespace cairn::store
