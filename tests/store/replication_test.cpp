// Stores exchanging deltas through merge_delta/deltas_since, as peers will over the network.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "cairn/store.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::drain;
using test::open_store;
using test::ship_deltas;
using test::TempDir;

TEST_CASE("replication: a merged delta makes the write readable, and merging it again changes nothing") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->put("k", "v"));
  REQUIRE(a->sadd("s", {"x"}));
  REQUIRE(a->incr("c", 3));
  ship_deltas(*a, *b);
  CHECK(b->get("k")->value == "v");
  CHECK(*b->sismember("s", "x"));
  CHECK(*b->counter("c") == 3);

  const auto logged_before = b->deltas_since(0, 100)->size();
  auto deltas = a->deltas_since(0, 100);
  for (const LoggedDelta& delta : *deltas) {
    auto again = b->merge_delta(delta.bytes, a->replica_id());
    REQUIRE(again);
    CHECK_FALSE(again->changed);
    CHECK(again->logged_sequence == 0);
  }
  CHECK(b->deltas_since(0, 100)->size() == logged_before);
}

TEST_CASE("replication: merged deltas are logged with their origin, so they travel on to a third store") {
  TempDir dir_a, dir_b, dir_c;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  auto c = open_store(dir_c.str());
  REQUIRE(a->put("k", "from a"));
  ship_deltas(*a, *b);
  auto logged = b->deltas_since(0, 10);
  REQUIRE(logged->size() == 1);
  CHECK(logged->front().origin == a->replica_id());
  ship_deltas(*b, *c);
  CHECK(c->get("k")->value == "from a");
}

TEST_CASE("replication: concurrent puts converge to one winner with the loser listed as concurrent") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->put("k", "from a"));
  REQUIRE(b->put("k", "from b"));
  ship_deltas(*a, *b);
  ship_deltas(*b, *a);
  auto on_a = a->get("k");
  auto on_b = b->get("k");
  REQUIRE(on_a);
  REQUIRE(on_b);
  CHECK(on_a->value == on_b->value);
  REQUIRE(on_a->concurrent.size() == 1);
  CHECK(on_a->concurrent == on_b->concurrent);
  CHECK(on_a->value != on_a->concurrent.front());

  // A write that has seen both replaces both.
  REQUIRE(a->put("k", "resolved"));
  ship_deltas(*a, *b, 1);
  CHECK(b->get("k")->value == "resolved");
  CHECK(b->get("k")->concurrent.empty());
}

TEST_CASE("replication: a delete removes what it saw, a concurrent add survives") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->sadd("s", {"old"}));
  std::uint64_t a_shipped = ship_deltas(*a, *b);
  REQUIRE(b->del("s"));
  REQUIRE(a->sadd("s", {"new"}));
  a_shipped = ship_deltas(*a, *b, a_shipped);
  ship_deltas(*b, *a);
  CHECK(drain(**a->smembers("s")) == std::vector<std::string>{"new"});
  CHECK(drain(**b->smembers("s")) == std::vector<std::string>{"new"});
}

TEST_CASE("replication: a counter delete resets only the increments it saw") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->incr("c", 10));
  std::uint64_t a_shipped = ship_deltas(*a, *b);
  REQUIRE(b->del("c"));
  REQUIRE(a->incr("c", 1));
  a_shipped = ship_deltas(*a, *b, a_shipped);
  ship_deltas(*b, *a);
  CHECK(*a->counter("c") == 1);
  CHECK(*b->counter("c") == 1);
}

TEST_CASE("replication: malformed delta bytes fail with corrupt and change nothing") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->put("k", "v"));
  for (const std::string& garbage : {std::string(), std::string("not a delta"), std::string(64, '\xff')}) {
    auto merged = store->merge_delta(garbage, 42);
    REQUIRE_FALSE(merged);
    CHECK(merged.error().code() == ErrorCode::kCorrupt);
  }
  CHECK(store->get("k")->value == "v");
  CHECK(store->deltas_since(0, 10)->size() == 1);
}

// Random writes on three stores with random partial exchanges; after a full exchange every store
// lists the same keys with the same values.
TEST_CASE("replication: stores that exchanged all deltas read the same (property)") {
  test::for_each_history("store replicas converge", 25, [](Rng& rng) {
    TempDir dirs[3];
    std::unique_ptr<store::Replica> stores[3];
    StoreOptions fast;
    fast.durability = Durability::kNoSync;
    for (int i = 0; i < 3; ++i) stores[i] = open_store(dirs[i].str(), fast);
    const char* keys[] = {"r1", "r2", "s1", "s2", "c1"};
    for (int step = 0; step < 40; ++step) {
      store::Replica& store = *stores[rng.below(3)];
      const std::string key = keys[rng.below(5)];
      const std::string member(1, static_cast<char>('a' + rng.below(3)));
      switch (rng.below(5)) {
        case 0:
          if (key[0] == 'r') (void)store.put(key, member);
          if (key[0] == 's') (void)store.sadd(key, {member});
          if (key[0] == 'c') (void)store.incr(key, rng.below(5));
          break;
        case 1:
          if (key[0] == 's') (void)store.srem(key, {member});
          if (key[0] == 'c') (void)store.decr(key, rng.below(5));
          break;
        case 2: (void)store.del(key); break;
        default: {
          const auto from = rng.below(3), to = rng.below(3);
          if (from != to) ship_deltas(*stores[from], *stores[to]);
        }
      }
    }
    for (auto& from : stores) {
      for (auto& to : stores) {
        if (from != to) ship_deltas(*from, *to);
      }
    }
    auto describe = [](store::Replica& store) {
      std::string text;
      for (const std::string& key : drain(*store.scan(""))) {
        text += key + "=";
        if (auto value = store.get(key)) {
          text += value->value;
          for (const auto& loser : value->concurrent) text += "|" + loser;
        } else if (auto count = store.counter(key)) {
          text += std::to_string(*count);
        } else {
          for (const auto& member : drain(**store.smembers(key))) text += member + ",";
        }
        text += ";";
      }
      return text;
    };
    const std::string first = describe(*stores[0]);
    INFO("store 0: " << first);
    CHECK(describe(*stores[1]) == first);
    CHECK(describe(*stores[2]) == first);
  });
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST_CASE("replication: trimming the delta log keeps later entries and never reuses a sequence") {
  test::TempDir dir;
  {
    auto store = test::open_store(dir.str());
    auto empty = store->delta_log_bounds();
    REQUIRE(empty);
    CHECK(empty->first == 1);
    CHECK(empty->last == 0);
    for (int i = 0; i < 5; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
    CHECK(store->delta_log_bounds()->first == 1);
    CHECK(store->delta_log_bounds()->last == 5);

    REQUIRE(store->trim_delta_log(3));
    auto bounds = store->delta_log_bounds();
    CHECK(bounds->first == 4);
    CHECK(bounds->last == 5);
    auto rest = store->deltas_since(0, 100);
    REQUIRE(rest->size() == 2);
    CHECK(rest->front().sequence == 4);

    REQUIRE(store->trim_delta_log(5));
    CHECK(store->deltas_since(0, 100)->empty());
    CHECK(store->delta_log_bounds()->first == 6);
    CHECK(store->delta_log_bounds()->last == 5);
  }
  // After a restart with an empty log the sequence continues where it was.
  auto store = test::open_store(dir.str());
  CHECK(store->delta_log_bounds()->last == 5);
  REQUIRE(store->put("after", "restart"));
  auto logged = store->deltas_since(0, 10);
  REQUIRE(logged->size() == 1);
  CHECK(logged->front().sequence == 6);
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST_CASE("replication: a write touching more records than one delta-group holds is split and replicates") {
  test::TempDir dir_a, dir_b;
  StoreOptions fast;
  fast.durability = Durability::kNoSync;
  auto a = test::open_store(dir_a.str(), fast);
  auto b = test::open_store(dir_b.str(), fast);
  std::vector<std::string> members;
  for (int i = 0; i < 25'000; ++i) members.push_back(std::to_string(100'000 + i));
  REQUIRE(a->sadd("big", members));
  CHECK(a->deltas_since(0, 100)->size() == 3);  // 10,000 + 10,000 + 5,000 member records.
  std::uint64_t shipped = test::ship_deltas(*a, *b);
  CHECK(test::drain(**b->smembers("big")) == members);

  REQUIRE(a->del("big"));
  test::ship_deltas(*a, *b, shipped);
  CHECK(b->kind("big").error().code() == ErrorCode::kNotFound);
  CHECK(test::drain(**b->smembers("big")).empty());
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// What a store holds, as anti-entropy compares it: the root hash of its records and its causal context.
std::pair<std::uint64_t, std::string> root_of(store::Replica& replica) {
  auto root = replica.tree_hashes(0, {0}, /*with_context=*/true);
  REQUIRE(root);
  return {root->hashes.at(0), root->context};
}

TEST_CASE("replication: a push of many deltas merges in one commit, as merging them one by one") {
  TempDir dir_a, dir_b, dir_c;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  auto c = open_store(dir_c.str());
  for (int i = 0; i < 20; ++i) REQUIRE(a->put("k" + std::to_string(i % 7), "v" + std::to_string(i)));
  REQUIRE(a->sadd("s", {"x", "y"}));
  REQUIRE(a->srem("s", {"x"}));
  REQUIRE(a->incr("n", 5));
  REQUIRE(a->del("k3"));
  auto deltas = a->deltas_since(0, 100);
  REQUIRE(deltas);
  REQUIRE(deltas->size() == 24);

  std::vector<DeltaToMerge> push;
  for (const LoggedDelta& delta : *deltas) push.push_back(DeltaToMerge{delta.bytes, a->replica_id()});
  const auto before = b->usage();
  auto merged = b->merge_deltas(push);
  const auto after = b->usage();
  REQUIRE(merged);
  REQUIRE(merged->size() == push.size());
  for (const auto& outcome : *merged) CHECK((outcome && outcome->changed));
  CHECK(after->commits - before->commits == 1);
  CHECK(b->deltas_since(0, 100)->size() == push.size());  // Each new part logged as its own group.

  for (const LoggedDelta& delta : *deltas) REQUIRE(c->merge_delta(delta.bytes, a->replica_id()));
  CHECK(root_of(*b) == root_of(*c));
  CHECK(root_of(*b) == root_of(*a));
  CHECK(b->get("k2")->value == c->get("k2")->value);
  CHECK_FALSE(b->get("k3"));

  // Merging the push again changes nothing, still in one commit.
  auto again = b->merge_deltas(push);
  REQUIRE(again);
  for (const auto& outcome : *again) CHECK((outcome && !outcome->changed));
}

TEST_CASE("replication: a malformed delta in a push is refused alone and the others merge") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->put("first", "1"));
  REQUIRE(a->put("last", "2"));
  auto deltas = a->deltas_since(0, 10);
  REQUIRE(deltas->size() == 2);
  const std::string garbage = "not a delta-group";
  auto merged = b->merge_deltas({DeltaToMerge{deltas->at(0).bytes, a->replica_id()},
                                 DeltaToMerge{garbage, a->replica_id()},
                                 DeltaToMerge{deltas->at(1).bytes, a->replica_id()}});
  REQUIRE(merged);
  REQUIRE(merged->size() == 3);
  CHECK(merged->at(0));
  REQUIRE_FALSE(merged->at(1));
  CHECK(merged->at(1).error().code() == ErrorCode::kCorrupt);
  CHECK(merged->at(2));
  CHECK(b->get("first")->value == "1");
  CHECK(b->get("last")->value == "2");
}

}  // namespace
}  // namespace cairn
