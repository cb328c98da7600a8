// Store::usage() (src/store/usage.cpp): operation counts, delta log length and map use on real LMDB.
#include <catch2/catch.hpp>

#include <string>

#include "tests/store/store_test_support.h"

namespace cairn::test {

TEST_CASE("usage counts every operation by kind, successful or not") {
  TempDir dir;
  auto store = open_store(dir.str());
  auto before = store->usage();
  REQUIRE(before);
  CHECK(before->operations.put == 0);
  CHECK(before->operations.merge_delta == 0);

  REQUIRE(store->put("a", "1"));
  REQUIRE(store->put("b", "2"));
  REQUIRE(store->get("a"));
  CHECK_FALSE(store->get("missing"));  // Fails, still counted.
  CHECK_FALSE(store->put("", "empty key"));
  REQUIRE(store->del("b"));
  REQUIRE(store->sadd("s", {"x", "y"}));
  REQUIRE(store->srem("s", {"x"}));
  REQUIRE(store->sismember("s", "y"));
  auto members = store->smembers("s");
  REQUIRE(members);
  CHECK(drain(**members) == std::vector<std::string>{"y"});  // Draining a cursor is one smembers.
  REQUIRE(store->incr("c", 5));
  REQUIRE(store->decr("c", 2));
  REQUIRE(store->counter("c"));
  REQUIRE(store->write(WriteBatch().put("a", "2").put("a", "3")));  // A batch of one op would count as that op.
  CHECK(drain(*store->scan("")).size() == 3);

  TempDir other_dir;
  auto other = open_store(other_dir.str());
  REQUIRE(other->put("remote", "v"));
  ship_deltas(*other, *store);

  auto usage = store->usage();
  REQUIRE(usage);
  const std::vector<std::pair<std::string_view, std::uint64_t>> expected = {
      {"put", 3},      {"get", 2},  {"del", 1},  {"sadd", 1},    {"srem", 1}, {"sismember", 1},
      {"smembers", 1}, {"incr", 1}, {"decr", 1}, {"counter", 1}, {"scan", 1}, {"merge_delta", 1}, {"write", 1}};
  CHECK(usage->operations.named() == expected);
  CHECK(usage->operations.put == 3);
  CHECK(usage->operations.merge_delta == 1);
}

TEST_CASE("usage reports the delta log length and map use, which grows with the data") {
  TempDir dir;
  StoreOptions options;
  options.durability = Durability::kNoSync;
  auto store = open_store(dir.str(), options);
  auto empty = store->usage();
  REQUIRE(empty);
  CHECK(empty->map_size_bytes == options.map_size_bytes);
  CHECK(empty->delta_log_entries == 0);
  CHECK(empty->used_bytes > 0);
  CHECK(empty->used_bytes <= empty->map_size_bytes);

  const std::string value(1000, 'v');
  for (int i = 0; i < 500; ++i) REQUIRE(store->put("key" + std::to_string(i), value));
  auto full = store->usage();
  REQUIRE(full);
  CHECK(full->delta_log_entries == 500);
  CHECK(full->used_bytes >= empty->used_bytes + 500 * 1000);  // Every value is on a page at least once.
  CHECK(full->file_bytes >= full->used_bytes);
  CHECK(full->map_size_bytes == options.map_size_bytes);

  auto bounds = store->delta_log_bounds();
  REQUIRE(bounds);
  REQUIRE(store->trim_delta_log(bounds->last - 100));
  auto trimmed = store->usage();
  REQUIRE(trimmed);
  CHECK(trimmed->delta_log_entries == 100);
}

TEST_CASE("usage works on a read-only store") {
  TempDir dir;
  { REQUIRE(open_store(dir.str())->put("k", "v")); }
  StoreOptions options;
  options.read_only = true;
  auto store = open_store(dir.str(), options);
  auto usage = store->usage();
  REQUIRE(usage);
  CHECK(usage->delta_log_entries == 1);
  CHECK(usage->file_bytes > 0);
}

}  // namespace cairn::test
