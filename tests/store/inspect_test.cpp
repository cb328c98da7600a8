#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cairn/store.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::open_store;
using test::ship_deltas;
using test::TempDir;

StoreOptions with_replica(std::uint64_t replica) {
  StoreOptions options;
  options.durability = Durability::kNoSync;
  options.replica_id_for_new_store = replica;
  return options;
}

TEST_CASE("inspect: a register's versions, winner first, and the writing replica") {
  TempDir a_dir, b_dir;
  auto a = open_store(a_dir.str(), with_replica(100));
  auto b = open_store(b_dir.str(), with_replica(200));
  REQUIRE(a->put("k", "from a"));
  REQUIRE(b->put("k", "from b"));  // Concurrent: neither has seen the other's write.
  ship_deltas(*b, *a);

  auto inspection = a->inspect("k");
  REQUIRE(inspection);
  CHECK(inspection->kind == ValueKind::kRegister);
  CHECK(inspection->kinds == std::vector<ValueKind>{ValueKind::kRegister});
  REQUIRE(inspection->versions.size() == 2);
  const auto value = a->get("k");
  REQUIRE(value);
  CHECK(inspection->versions[0].value == value->value);  // The winner is what get() returns.
  CHECK(inspection->versions[1].value == value->concurrent.at(0));
  CHECK(inspection->writing_replica == inspection->versions[0].dot.replica);
  CHECK(inspection->versions[0].hlc_wall_ms > 0);
  CHECK(inspection->version_vector == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{100, 1}, {200, 1}});
  CHECK(inspection->dots_outside_vector.empty());

  // A write that saw both covers them: one version left.
  REQUIRE(a->put("k", "resolved"));
  inspection = a->inspect("k");
  REQUIRE(inspection);
  REQUIRE(inspection->versions.size() == 1);
  CHECK(inspection->versions[0].value == "resolved");
  CHECK(inspection->writing_replica == 100);
  // The key's context: what this peer saw of replica 100, the one writer of its surviving dot.
  CHECK(inspection->version_vector == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{100, 2}});
  CHECK(inspection->dots_outside_vector.empty());
}

TEST_CASE("inspect: a counter's value and contributions, with reset entries after a delete") {
  TempDir a_dir, b_dir;
  auto a = open_store(a_dir.str(), with_replica(1));
  auto b = open_store(b_dir.str(), with_replica(2));
  REQUIRE(a->incr("c", 5));
  ship_deltas(*a, *b);
  REQUIRE(b->del("c"));
  REQUIRE(a->incr("c", 2));  // Concurrent with the delete.
  ship_deltas(*b, *a);

  auto inspection = a->inspect("c");
  REQUIRE(inspection);
  CHECK(inspection->kind == ValueKind::kCounter);
  CHECK(inspection->counter_value == 2);
  CHECK(inspection->counter_value == a->counter("c").value());
  bool has_reset = false, has_contribution = false;
  for (const CounterPart& part : inspection->counter_parts) {
    has_reset = has_reset || part.reset;
    has_contribution = has_contribution || (!part.reset && part.contributor == 1 && part.increments == 7);
  }
  CHECK(has_reset);
  CHECK(has_contribution);
}

TEST_CASE("inspect: a set's member count and first members with their dots") {
  TempDir dir;
  auto store = open_store(dir.str(), with_replica(9));
  std::vector<std::string> members;
  for (int i = 0; i < 150; ++i) members.push_back("m" + std::to_string(1000 + i));
  REQUIRE(store->sadd("s", members));
  REQUIRE(store->srem("s", {"m1000"}));
  auto inspection = store->inspect("s");
  REQUIRE(inspection);
  CHECK(inspection->kind == ValueKind::kSet);
  CHECK(inspection->member_count == 149);
  CHECK_FALSE(inspection->member_count_capped);
  REQUIRE(inspection->members.size() == kInspectMaxMembersListed);
  CHECK(inspection->members[0].member == "m1001");
  REQUIRE(inspection->members[0].dots.size() == 1);
  CHECK(inspection->members[0].dots[0].replica == 9);
}

TEST_CASE("inspect: an absent key is not found, a bad key is refused") {
  TempDir dir;
  auto store = open_store(dir.str());
  CHECK(store->inspect("absent").error().code() == ErrorCode::kNotFound);
  CHECK(store->inspect("").error().code() == ErrorCode::kInvalidArgument);
  REQUIRE(store->put("k", "v"));
  REQUIRE(store->del("k"));
  CHECK(store->inspect("k").error().code() == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cairn
