// Opening a store's directory: the exclusive-writer lock, the LMDB environment and its databases, and
// the persistent identity (replica id, format version) and causal context kept in `meta`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cairn/options.h"
#include "cairn/status.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/databases.h"

namespace cairn::store {

// A random replica id, never 0: what a new store takes (and a reincarnated one, see retirement.cpp).
std::uint64_t random_replica_id();

// Owns the open environment and the directory lock; closes both on destruction.
class Environment {
 public:
  // Opens `path` as StoreOptions say. Fails with kUnavailable if another process holds the directory
  // for writing, kNotFound if it holds no store and create_if_missing is off, kUnsupported for a store
  // written by a newer format, kCorrupt if its meta records do not decode.
  static Result<std::unique_ptr<Environment>> open(const std::string& path, const StoreOptions& options);

  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  const Databases& databases() const { return databases_; }
  const codec::StoreMeta& meta() const { return meta_; }
  const crdt::DotContext& initial_context() const { return initial_context_; }
  // The sequence the next logged delta-group gets.
  std::uint64_t next_delta_sequence() const { return next_delta_sequence_; }

 private:
  Environment() = default;
  Status open_databases(bool read_only);
  Status load_or_create_meta(const StoreOptions& options);

  int lock_fd_ = -1;
  Databases databases_;
  codec::StoreMeta meta_;
  crdt::DotContext initial_context_;
  std::uint64_t next_delta_sequence_ = 1;
};

// Delta log keys: the sequence as 8 big-endian bytes, so LMDB's byte order is numeric order.
std::string encode_sequence(std::uint64_t sequence);
std::uint64_t decode_sequence(std::string_view bytes);

}  // namespace cairn::store
