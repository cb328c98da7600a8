// The partition function and the count rule (src/store/partition.h). The mapping is part of the format:
// these figures must never change.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cairn/defaults.h"
#include "src/store/partition.h"

namespace cairn {
namespace {

using store::partition_hash;
using store::partition_of;

TEST_CASE("partitions: the hash is xxh3-64 with seed 0 (its published value for empty input)") {
  CHECK(partition_hash("") == 0x2D06800538D394C2ull);
}

TEST_CASE("partitions: known keys map to known partitions, for good") {
  struct Pinned {
    const char* key;
    std::uint32_t of_256;
    std::uint32_t of_4096;
  };
  // Computed once by this implementation (the empty key agrees with xxh3-64's published value: 0x2D..
  // is partition 45 of 256); a change here is a format change (docs/partitions.md).
  const std::vector<Pinned> pinned = {
      {"", 45, 720},          {"a", 230, 3692},      {"greeting", 31, 508}, {"user:42", 159, 2556},
      {"device/sensors", 98, 1573}, {"key/0", 84, 1358}, {"photo", 184, 2951}, {"counter", 74, 1197},
  };
  for (const Pinned& entry : pinned) {
    INFO("key '" << entry.key << "'");
    CHECK(partition_of(entry.key, 256) == entry.of_256);
    CHECK(partition_of(entry.key, 4096) == entry.of_4096);
    CHECK(partition_of(entry.key, 1) == 0);
  }
}

TEST_CASE("partitions: a partition of count c splits into partitions 2p and 2p+1 of 2c") {
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key-" + std::to_string(i);
    for (std::uint32_t count = 1; count < kMaxPartitionCount; count *= 2) {
      CHECK(partition_of(key, 2 * count) / 2 == partition_of(key, count));
    }
  }
}

TEST_CASE("partitions: keys spread evenly over the default count") {
  const std::uint32_t count = kDefaultPartitionCount;
  std::vector<int> per_partition(count, 0);
  const int keys = 256'000;
  for (int i = 0; i < keys; ++i) ++per_partition[partition_of("user:" + std::to_string(i), count)];
  const auto [low, high] = std::minmax_element(per_partition.begin(), per_partition.end());
  // 1,000 keys per partition on average: a fair hash stays within about 4 standard deviations (~32).
  CHECK(*low > 850);
  CHECK(*high < 1150);
}

TEST_CASE("partitions: the count is a power of two from 1 to the maximum") {
  CHECK(store::check_partition_count(1));
  CHECK(store::check_partition_count(kDefaultPartitionCount));
  CHECK(store::check_partition_count(kMaxPartitionCount));
  for (std::uint64_t bad : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{100}, std::uint64_t{kMaxPartitionCount} * 2}) {
    INFO(bad);
    auto checked = store::check_partition_count(bad);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code() == ErrorCode::kInvalidArgument);
    CHECK(checked.error().message().find("power of two") != std::string::npos);
  }
}

TEST_CASE("partitions: a new store takes the requested count or the default, a stored one is kept") {
  CHECK(*store::resolve_partition_count(0, 0) == kDefaultPartitionCount);
  CHECK(*store::resolve_partition_count(0, 64) == 64);
  CHECK(*store::resolve_partition_count(64, 0) == 64);
  CHECK(*store::resolve_partition_count(64, 64) == 64);
  auto differs = store::resolve_partition_count(64, 128);
  REQUIRE_FALSE(differs);
  CHECK(differs.error().code() == ErrorCode::kInvalidArgument);
  CHECK(differs.error().message().find("created with 64 partitions and cannot change to 128") != std::string::npos);
  CHECK(store::resolve_partition_count(0, 100).error().code() == ErrorCode::kInvalidArgument);
  CHECK(store::resolve_partition_count(100, 0).error().code() == ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace cairn
