// Store::write (include/cairn/store.h): a batch is atomic (a failing op writes nothing of it), applies
// its ops in order, holds under its conditions, and reaches a peer as one delta-group.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"

namespace cairn::test {
namespace {

StoreOptions nosync() {
  StoreOptions options;
  options.durability = Durability::kNoSync;
  return options;
}

std::uint64_t log_entries(store::Replica& store) {
  auto usage = store.usage();
  REQUIRE(usage);
  return usage->delta_log_entries;
}

// The dots a BatchCondition names for `key` (what a read-modify-write reads before writing).
std::vector<InspectedDot> dots_of(Store& store, const std::string& key) {
  auto inspection = store.inspect(key);
  if (!inspection && inspection.error().code() == ErrorCode::kNotFound) return {};
  REQUIRE(inspection);
  std::vector<InspectedDot> dots;
  for (const RegisterVersion& version : inspection->versions) dots.push_back(version.dot);
  for (const CounterPart& part : inspection->counter_parts) dots.push_back(part.dot);
  return dots;
}

// What a reader sees at `key`, as one string (kind and value), for comparing two stores.
std::string visible(Store& store, const std::string& key) {
  auto kind = store.kind(key);
  if (!kind) return "absent";
  switch (*kind) {
    case ValueKind::kRegister: return "register " + store.get(key)->value;
    case ValueKind::kCounter: return "counter " + std::to_string(*store.counter(key));
    case ValueKind::kSet: {
      auto members = store.smembers(key);
      REQUIRE(members);
      std::string out = "set";
      for (const std::string& member : drain(**members)) out += " " + member;
      return out;
    }
  }
  return "?";
}

}  // namespace

TEST_CASE("a batch applies its ops in order, later ops seeing earlier ones") {
  TempDir dir;
  auto store = open_store(dir.str(), nosync());
  REQUIRE(store->sadd("k", {"m"}));
  WriteBatch batch;
  batch.put("a", "1").put("a", "2").del("k").put("k", "register now").incr("c", 5).decr("c", 2).sadd("s", {"x", "y"})
      .srem("s", {"x"});
  auto applied = store->write(batch);
  REQUIRE(applied);
  CHECK(*applied);
  CHECK(store->get("a")->value == "2");
  CHECK(store->get("a")->concurrent.empty());
  CHECK(store->get("k")->value == "register now");
  CHECK(*store->counter("c") == 3);
  CHECK(visible(*store, "s") == "set y");
}

TEST_CASE("a batch whose op fails writes nothing of the batch") {
  TempDir dir;
  auto store = open_store(dir.str(), nosync());
  REQUIRE(store->put("reg", "old"));
  const std::uint64_t entries = log_entries(*store);

  SECTION("an op meeting a key of another kind") {
    auto applied = store->write(WriteBatch().put("a", "1").sadd("s", {"m"}).incr("reg"));
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kWrongType);
  }
  SECTION("a counter pushed past the int64 range") {
    auto applied =
        store->write(WriteBatch().put("a", "1").incr("c", std::uint64_t{1} << 62).incr("c", std::uint64_t{1} << 62));
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kOutOfRange);
  }
  SECTION("an op over a limit") {
    auto applied = store->write(WriteBatch().put("a", "1").put(std::string(kMaxKeyBytes + 1, 'k'), "v"));
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kLimitExceeded);
  }
  SECTION("more ops than the batch cap") {
    WriteBatch batch;
    for (std::size_t i = 0; i <= kMaxBatchOps; ++i) batch.put("a" + std::to_string(i), "v");
    auto applied = store->write(batch);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kLimitExceeded);
  }
  SECTION("more bytes than the batch cap") {
    const std::string big(kMaxValueBytes, 'v');
    auto applied = store->write(WriteBatch().put("a", big).put("b", big));
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kLimitExceeded);
  }
  SECTION("a delete of every key touching more records than the cap") {
    std::vector<std::string> members;
    for (std::size_t i = 0; i <= kMaxBatchRecords; ++i) members.push_back(std::to_string(i));
    REQUIRE(store->sadd("big", members));
    const std::uint64_t before = log_entries(*store);
    auto applied = store->write(WriteBatch().put("a", "1").delete_all());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kLimitExceeded);
    CHECK(*store->sismember("big", "0"));
    CHECK(log_entries(*store) == before);
    return;
  }
  CHECK(store->kind("a").error().code() == ErrorCode::kNotFound);
  CHECK(store->kind("s").error().code() == ErrorCode::kNotFound);
  CHECK(store->kind("c").error().code() == ErrorCode::kNotFound);
  CHECK(store->get("reg")->value == "old");
  CHECK(log_entries(*store) == entries);
  // The store goes on writing after a refused batch.
  REQUIRE(store->write(WriteBatch().put("a", "after")));
  CHECK(store->get("a")->value == "after");
}

TEST_CASE("a batch is applied only when its conditions hold") {
  TempDir dir;
  auto store = open_store(dir.str(), nosync());

  // Absent: holds for an absent key, not for a present one.
  auto first = store->write(WriteBatch().expect("k", {}).put("k", "first"));
  REQUIRE(first);
  CHECK(*first);
  auto second = store->write(WriteBatch().expect("k", {}).put("k", "second").put("other", "x"));
  REQUIRE(second);
  CHECK_FALSE(*second);
  CHECK(store->get("k")->value == "first");
  CHECK(store->kind("other").error().code() == ErrorCode::kNotFound);

  // The dots read: hold until another write changes the key.
  const std::vector<InspectedDot> read = dots_of(*store, "k");
  REQUIRE(read.size() == 1);
  auto appended = store->write(WriteBatch().expect("k", read).put("k", "first+"));
  REQUIRE(appended);
  CHECK(*appended);
  auto stale = store->write(WriteBatch().expect("k", read).put("k", "lost update"));
  REQUIRE(stale);
  CHECK_FALSE(*stale);
  CHECK(store->get("k")->value == "first+");

  // Counters are compared by their entries' dots; a set matches no condition.
  REQUIRE(store->incr("n", 2));
  auto counted = store->write(WriteBatch().expect("n", dots_of(*store, "n")).del("n").put("n", "3"));
  REQUIRE(counted);
  CHECK(*counted);
  CHECK(store->get("n")->value == "3");
  REQUIRE(store->sadd("s", {"m"}));
  auto on_set = store->write(WriteBatch().expect("s", {}).put("x", "1"));
  REQUIRE(on_set);
  CHECK_FALSE(*on_set);
}

TEST_CASE("a batch is one delta-group, and a peer merging it gets all of it") {
  TempDir dir, peer_dir;
  auto store = open_store(dir.str(), nosync());
  auto peer = open_store(peer_dir.str(), nosync());
  REQUIRE(store->put("x", "old"));
  REQUIRE(store->sadd("gone", {"a", "b"}));
  const std::uint64_t shipped = ship_deltas(*store, *peer);
  const std::uint64_t entries = log_entries(*store);

  WriteBatch batch;
  batch.put("x", "new").put("x", "newer").del("gone").sadd("s", {"m1", "m2"}).incr("c", 7);
  REQUIRE(*store->write(batch));
  CHECK(log_entries(*store) == entries + 1);
  auto deltas = store->deltas_since(shipped, 100);
  REQUIRE(deltas);
  REQUIRE(deltas->size() == 1);
  REQUIRE(peer->merge_delta(deltas->front().bytes, store->replica_id()));
  for (const std::string key : {"x", "gone", "s", "c"}) CHECK(visible(*peer, key) == visible(*store, key));
  CHECK(visible(*peer, "x") == "register newer");
  CHECK(peer->get("x")->concurrent.empty());
  CHECK(visible(*peer, "gone") == "absent");
  CHECK(tree_leaves_from_records(*peer) == tree_leaves_from_records(*store));
}

TEST_CASE("delete_all removes every key present when it runs, and later ops of the batch stay") {
  TempDir dir, peer_dir;
  auto store = open_store(dir.str(), nosync());
  auto peer = open_store(peer_dir.str(), nosync());
  REQUIRE(store->put("a", "1"));
  REQUIRE(store->sadd("s", {"m"}));
  REQUIRE(store->incr("c", 3));
  REQUIRE(*store->write(WriteBatch().put("in-batch", "x").delete_all().put("after", "y")));
  CHECK(drain(*store->scan("")) == std::vector<std::string>{"after"});
  ship_deltas(*store, *peer);
  CHECK(drain(*peer->scan("")) == std::vector<std::string>{"after"});
}

TEST_CASE("a batch leaves the same state as its ops one by one, here and on a peer (property)") {
  for_each_history("batch_equals_sequential", 40, [](Rng& rng) {
    TempDir batch_dir, single_dir, peer_dir;
    auto batched = open_store(batch_dir.str(), nosync());
    auto single = open_store(single_dir.str(), nosync());
    auto peer = open_store(peer_dir.str(), nosync());
    const std::vector<std::string> keys = {"a", "b", "c"};
    for (int round = 0; round < 4; ++round) {
      WriteBatch batch;
      std::vector<BatchOp> ops;
      const std::uint64_t count = 1 + rng.below(12);
      for (std::uint64_t i = 0; i < count; ++i) {
        const std::string& key = keys[rng.below(keys.size())];
        const std::string member = "m" + std::to_string(rng.below(3));
        switch (rng.below(7)) {
          case 0: ops.push_back({BatchOp::Kind::kPut, key, "v" + std::to_string(rng.below(100)), {}, 0}); break;
          case 1: ops.push_back({BatchOp::Kind::kDel, key, {}, {}, 0}); break;
          case 2: ops.push_back({BatchOp::Kind::kSadd, key, {}, {member}, 0}); break;
          case 3: ops.push_back({BatchOp::Kind::kSrem, key, {}, {member}, 0}); break;
          case 4: ops.push_back({BatchOp::Kind::kIncr, key, {}, {}, 1 + rng.below(5)}); break;
          case 5: ops.push_back({BatchOp::Kind::kDecr, key, {}, {}, 1 + rng.below(5)}); break;
          default: ops.push_back({BatchOp::Kind::kDel, key, {}, {}, 0}); break;
        }
      }
      // The sequential model: ops one by one until one fails; the batch then must have written nothing.
      std::map<std::string, std::string> before;
      for (const std::string& key : keys) before[key] = visible(*batched, key);
      bool all_ok = true;
      for (const BatchOp& op : ops) batch.add(op);
      for (const BatchOp& op : ops) {
        Status done = ok();
        switch (op.kind) {
          case BatchOp::Kind::kPut: done = single->put(op.key, op.value); break;
          case BatchOp::Kind::kDel: done = single->del(op.key); break;
          case BatchOp::Kind::kSadd: done = single->sadd(op.key, op.members); break;
          case BatchOp::Kind::kSrem: done = single->srem(op.key, op.members); break;
          case BatchOp::Kind::kIncr: done = single->incr(op.key, op.amount); break;
          case BatchOp::Kind::kDecr: done = single->decr(op.key, op.amount); break;
          case BatchOp::Kind::kDeleteAll: break;
        }
        if (!done) {
          all_ok = false;
          break;
        }
      }
      auto applied = batched->write(batch);
      CHECK(applied.has_value() == all_ok);
      if (!all_ok) {
        // Bring the sequential store back in line: it applied a prefix the batch did not.
        for (const std::string& key : keys) REQUIRE(single->del(key));
        for (const std::string& key : keys) {
          const std::string& state = before[key];
          if (state.rfind("register ", 0) == 0) REQUIRE(single->put(key, state.substr(9)));
          if (state.rfind("counter ", 0) == 0) {
            const long long value = std::stoll(state.substr(8));
            REQUIRE(single->incr(key, 1));
            REQUIRE(single->decr(key, 1));
            if (value != 0) REQUIRE((value > 0 ? single->incr(key, value) : single->decr(key, -value)));
          }
          if (state.rfind("set", 0) == 0) {
            std::vector<std::string> members;
            std::size_t at = 3;
            while (at < state.size()) {
              const std::size_t next = state.find(' ', at + 1);
              members.push_back(state.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
              at = next == std::string::npos ? state.size() : next;
            }
            REQUIRE(single->sadd(key, members));
          }
        }
      }
      for (const std::string& key : keys) {
        INFO("key " << key);
        CHECK(visible(*batched, key) == visible(*single, key));
      }
    }
    ship_deltas(*batched, *peer);
    for (const std::string& key : keys) CHECK(visible(*peer, key) == visible(*batched, key));
  });
}

}  // namespace cairn::test
