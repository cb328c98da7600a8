// The partition count in the store's meta, and the upgrade of a store of format 1 (before partitions):
// src/store/environment.cpp, docs/partitions.md "Upgrade".
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "cairn/defaults.h"
#include "src/codec/codec.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::drain;
using test::open_store;
using test::TempDir;

// The meta record as stored, read through the replication face.
codec::StoreMeta stored_meta(store::Replica& replica) {
  auto meta = store::read_raw_result(replica, [](const store::Txn& txn, const store::Databases& databases) {
    return [&]() -> Result<codec::StoreMeta> {
      auto bytes = txn.read(databases.meta, store::kMetaIdentityKey);
      if (!bytes) return tl::unexpected(bytes.error());
      if (!bytes->has_value()) return fail(ErrorCode::kNotFound, "no meta");
      return codec::decode_meta(**bytes);
    }();
  });
  REQUIRE(meta.has_value());
  return *meta;
}

// A copy of the checked-in store written by format 1 (tests/store/fixtures/format1/README.md).
void copy_format1_fixture(const std::string& to) {
  const std::filesystem::path fixture =
      std::filesystem::path(CAIRN_SOURCE_DIR) / "tests/store/fixtures/format1/data.mdb";
  std::filesystem::copy_file(fixture, std::filesystem::path(to) / "data.mdb");
}

// What the fixture's writer wrote, read back.
void check_format1_records(Store& store) {
  CHECK(store.get("key/0")->value == "overwritten");
  CHECK(store.get("key/1").error().code() == ErrorCode::kNotFound);
  for (int i = 2; i < 40; ++i) CHECK(store.get("key/" + std::to_string(i))->value == "value-" + std::to_string(i));
  CHECK(drain(**store.smembers("set")) == std::vector<std::string>{"a", "c"});
  CHECK(*store.counter("counter") == 3);
  CHECK(store.counter("gone-counter").error().code() == ErrorCode::kNotFound);
  CHECK(drain(*store.scan("")).size() == 41);  // 39 registers, the set, the counter.
}

TEST_CASE("partition count: a new store records the default, or the count asked for") {
  TempDir plain;
  auto first = open_store(plain.str());
  CHECK(first->partition_count() == kDefaultPartitionCount);
  CHECK(stored_meta(*first).partition_count == kDefaultPartitionCount);
  CHECK(stored_meta(*first).format_version == store::kStoreFormatVersion);

  TempDir asked;
  StoreOptions sixty_four;
  sixty_four.partition_count = 64;
  CHECK(open_store(asked.str(), sixty_four)->partition_count() == 64);
  // Reopened with no count asked for, or the same one: it keeps its own.
  CHECK(open_store(asked.str())->partition_count() == 64);
  CHECK(open_store(asked.str(), sixty_four)->partition_count() == 64);
}

TEST_CASE("partition count: opening with another count fails, naming both, and changes nothing") {
  TempDir dir;
  { REQUIRE(open_store(dir.str())->put("k", "v")); }
  StoreOptions other;
  other.partition_count = 64;
  auto refused = Store::open(dir.str(), other);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(refused.error().message().find("created with 256 partitions and cannot change to 64") != std::string::npos);
  other.read_only = true;
  CHECK(Store::open(dir.str(), other).error().code() == ErrorCode::kInvalidArgument);
  auto reopened = open_store(dir.str());
  CHECK(reopened->partition_count() == kDefaultPartitionCount);
  CHECK(reopened->get("k")->value == "v");
}

TEST_CASE("partition count: a count that is not a power of two is refused before a store is created") {
  TempDir dir;
  StoreOptions bad;
  bad.partition_count = 100;
  auto refused = Store::open(dir.str() + "/new", bad);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == ErrorCode::kInvalidArgument);
  CHECK(refused.error().message().find("power of two") != std::string::npos);
}

TEST_CASE("partition count: a store of format 1 opens, gets the default count recorded and keeps every record") {
  TempDir dir;
  copy_format1_fixture(dir.str());
  {
    // Read-only first: it reads the default count and writes nothing.
    StoreOptions read_only;
    read_only.read_only = true;
    auto opened = store::open_replica(dir.str(), store::ReplicaOptions{read_only, nullptr});
    REQUIRE(opened.has_value());
    CHECK((*opened)->partition_count() == kDefaultPartitionCount);
    CHECK(stored_meta(**opened).format_version == 1);
    CHECK(stored_meta(**opened).partition_count == 0);
    check_format1_records(**opened);
  }
  {
    auto upgraded = open_store(dir.str());
    CHECK(upgraded->partition_count() == kDefaultPartitionCount);
    const codec::StoreMeta meta = stored_meta(*upgraded);
    CHECK(meta.format_version == store::kStoreFormatVersion);
    CHECK(meta.partition_count == kDefaultPartitionCount);
    check_format1_records(*upgraded);
    // The context still covers the deletes: the old dots of key/1 stay removed, and new writes work.
    REQUIRE(upgraded->put("key/40", "new"));
  }
  auto again = open_store(dir.str());
  CHECK(again->partition_count() == kDefaultPartitionCount);
  CHECK(again->get("key/40")->value == "new");
  CHECK(again->get("key/1").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("partition count: a store of format 1 opened with a count asked for records that count") {
  TempDir dir;
  copy_format1_fixture(dir.str());
  StoreOptions sixteen;
  sixteen.partition_count = 16;
  {
    auto upgraded = open_store(dir.str(), sixteen);
    CHECK(upgraded->partition_count() == 16);
    check_format1_records(*upgraded);
  }
  CHECK(open_store(dir.str())->partition_count() == 16);
}

}  // namespace
}  // namespace cairn
