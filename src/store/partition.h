// The partition function: which of the cluster's partitions a user key belongs to
// (docs/partitions.md).
//
// Part of the format: every peer of a cluster, of every release, must map a key to the same partition,
// so the hash and the mapping below never change (tests/store/partition_test.cpp pins known keys to
// known partitions). Every record of a key (a register, a counter, each member of a set) is in the
// key's partition: the hash is of the user key alone, never of a record key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::store {

// Checks a partition count against the format's rule: a power of two from 1 to kMaxPartitionCount
// (cairn/defaults.h). kInvalidArgument saying why otherwise.
Status check_partition_count(std::uint64_t count);

// The xxh3-64 (XXH3_64bits, seed 0) of the key's bytes: the partition hash.
std::uint64_t partition_hash(std::string_view key);

// The partition of `key` among `count` partitions, in [0, count): the top log2(count) bits of
// partition_hash(key) (0 when count is 1). So partition p of `count` is split into partitions 2p and
// 2p+1 of `2 * count`. `count` must pass
// check_partition_count (asserted).
std::uint32_t partition_of(std::string_view key, std::uint32_t count);

// The partition count for a store being opened: `stored` (0: the store recorded none: new, or written by
// format 1) and `requested` (StoreOptions::partition_count; 0: none requested). Returns the count to
// use and record, or kInvalidArgument when the two disagree or `requested` breaks the rule.
Result<std::uint32_t> resolve_partition_count(std::uint32_t stored, std::uint32_t requested);

}  // namespace cairn::store
