// The hash tree anti-entropy compares: a fixed-shape tree of XOR-combined record hashes, kept in
// LMDB and updated in the same write transaction as every record change.
//
// Shape: 16^4 = 65,536 leaf buckets; a record falls in the bucket named by the top 16 bits of the
// xxh3-64 of its LMDB record key, so a set's members spread over the buckets like any other records.
// A leaf's hash is the XOR of its records' hashes; a record's hash is xxh3-64 over its record key and
// its stored bytes (the codec's encoding of the record's dot store, a deterministic function of the
// CRDT state: dots, values, HLC timestamps, counter entries, nothing replica-local). XOR makes an
// update O(1) (leaf ^= old ^ new) and an inner node the XOR of the leaves below it, so inner levels
// (fanout 16: level 0 the root, level 4 the leaves) are combined on demand from a range of leaves
// instead of being rewritten on every write.
//
// Two LMDB databases hold it: `tree` (big-endian u16 bucket -> u64 leaf hash; absent when 0) and
// `tree_keys` (u16 bucket + record key -> u64 record hash), the index that lists a bucket's records
// and remembers each record's hash so an update never re-reads the old record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store::tree {

inline constexpr unsigned kFanoutBits = 4;
inline constexpr unsigned kLeafLevel = 4;
inline constexpr std::uint32_t kLeafBuckets = 1u << (kFanoutBits * kLeafLevel);

// The number of nodes at `level` (0 = root .. kLeafLevel = leaves).
constexpr std::uint32_t nodes_at(unsigned level) { return 1u << (kFanoutBits * level); }

// The hash of an LMDB record key, and its leaf bucket (the hash's top 16 bits).
std::uint64_t key_hash(std::string_view record_key);
std::uint32_t bucket_of(std::string_view record_key);
inline std::uint32_t bucket_of_key_hash(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 48); }

// The hash a record contributes to its bucket.
std::uint64_t record_hash(std::string_view record_key, std::string_view record_bytes);

// Records that the record at `record_key` now holds `bytes`, or was erased (nullopt). Call inside the
// write transaction that writes the record.
Status update(Txn& txn, const Databases& databases, std::string_view record_key,
              std::optional<std::string_view> bytes);

// The hashes of `nodes` at `level`, in the order given (nodes need not be sorted).
Result<std::vector<std::uint64_t>> node_hashes(const Txn& txn, const Databases& databases, unsigned level,
                                               const std::vector<std::uint32_t>& nodes);

// The records in leaf `bucket`, in key order: LMDB record key and the record's hash.
struct BucketEntry {
  std::string record_key;
  std::uint64_t record_hash = 0;
};
Result<std::vector<BucketEntry>> bucket_entries(const Txn& txn, const Databases& databases,
                                                std::uint32_t bucket);

// The leaf hashes (kLeafBuckets of them, 0 for an empty bucket) computed from every record in `values`,
// ignoring the stored tree: what the tree must hold. rebuild() writes them; tests compare them with the
// incrementally maintained tree (through Replica::read_raw).
Result<std::vector<std::uint64_t>> leaves_from_records(const Txn& txn, const Databases& databases);

// Drops the tree and builds it again from every record in `values` (a store written before the tree
// existed, or under another tree scheme).
Status rebuild(Txn& txn, const Databases& databases);

}  // namespace cairn::store::tree
