#include "src/store/partition.h"

#include <xxhash.h>

#include <bit>
#include <cassert>

#include "cairn/defaults.h"

namespace cairn::store {

Status check_partition_count(std::uint64_t count) {
  if (count == 0 || count > kMaxPartitionCount || !std::has_single_bit(count)) {
    return fail(ErrorCode::kInvalidArgument, "a partition count must be a power of two from 1 to " +
                                                 std::to_string(kMaxPartitionCount) + ", not " +
                                                 std::to_string(count));
  }
  return ok();
}

std::uint64_t partition_hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

std::uint32_t partition_of(std::string_view key, std::uint32_t count) {
  assert(check_partition_count(count) && "partition_of needs a valid partition count");
  // The top bits, not the low ones, so doubling the count splits each partition in two.
  if (count == 1) return 0;
  const int bits = std::countr_zero(count);  // log2(count): the count is a power of two.
  return static_cast<std::uint32_t>(partition_hash(key) >> (64 - bits));
}

Result<std::uint32_t> resolve_partition_count(std::uint32_t stored, std::uint32_t requested) {
  if (requested != 0) {
    if (auto checked = check_partition_count(requested); !checked) return tl::unexpected(checked.error());
  }
  if (stored == 0) return requested != 0 ? requested : kDefaultPartitionCount;
  if (auto checked = check_partition_count(stored); !checked) {
    return fail(ErrorCode::kCorrupt, "the store records an invalid partition count " + std::to_string(stored));
  }
  if (requested != 0 && requested != stored) {
    return fail(ErrorCode::kInvalidArgument,
                "the store was created with " + std::to_string(stored) + " partitions and cannot change to " +
                    std::to_string(requested) +
                    " (the partition count is fixed when a cluster is created; leave --partitions unset or set it "
                    "to " + std::to_string(stored) + ")");
  }
  return stored;
}

}  // namespace cairn::store
