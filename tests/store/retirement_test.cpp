// Retiring replicas in the store (docs/metadata-gc.md): the retirement table, dropping a retired
// replica's dots beyond its retirement wherever they arrive, the persisted and shipped context without
// retired replicas (exact for a peer with the same table, never over-covering for any other), and a
// retired replica reincarnating under a new id and re-issuing the writes no one else had.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/codec/codec.h"
#include "src/store/replica.h"
#include "src/store/retirement.h"
#include "tests/store/store_sync_support.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::drain;
using test::open_store;
using test::join_context;
using test::refill;
using test::ship_buckets;
using test::ship_deltas;
using test::sync_all;
using test::TempDir;

// ---- Helpers. ----

// The context `store` ships (tree_hashes with_context), as encoded.
std::string shipped_context(store::Replica& store) {
  auto hashes = store.tree_hashes(0, {0}, true);
  REQUIRE(hashes.has_value());
  return hashes->context;
}

codec::StoredContext decoded_shipped_context(store::Replica& store) {
  auto stored = codec::decode_stored_context(shipped_context(store));
  REQUIRE(stored.has_value());
  return *stored;
}

// Whether the persisted (and shipped) context names `replica` at all.
bool context_mentions(store::Replica& store, std::uint64_t replica) {
  const codec::StoredContext stored = decoded_shipped_context(store);
  const crdt::ReplicaId id{replica};
  if (stored.context.vector().get(id) != 0) return true;
  return std::any_of(stored.context.cloud().begin(), stored.context.cloud().end(),
                     [&](const crdt::Dot& dot) { return dot.replica == id; });
}

std::uint64_t root_hash(store::Replica& store) {
  auto hashes = store.tree_hashes(0, {0}, false);
  REQUIRE(hashes.has_value());
  return hashes->hashes.at(0);
}

std::uint64_t seen_of(store::Replica& store, std::uint64_t replica) {
  auto vector = store.context_vector();
  REQUIRE(vector.has_value());
  for (const VersionVectorEntry& entry : *vector) {
    if (entry.replica == replica) return entry.counter;
  }
  return 0;
}

std::vector<std::string> members(store::Replica& store, const std::string& key) {
  auto cursor = store.smembers(key);
  REQUIRE(cursor.has_value());
  return drain(**cursor);
}

// Every dot of `replica` in the records of `keys` at `store`.
std::vector<InspectedDot> dots_of(store::Replica& store, const std::vector<std::string>& keys, std::uint64_t replica) {
  std::vector<InspectedDot> dots;
  const auto take = [&](const InspectedDot& dot) {
    if (dot.replica == replica) dots.push_back(dot);
  };
  for (const std::string& key : keys) {
    auto inspected = store.inspect(key);
    if (!inspected) continue;  // Absent: no dots.
    for (const RegisterVersion& version : inspected->versions) take(version.dot);
    for (const CounterPart& part : inspected->counter_parts) take(part.dot);
    for (const InspectedMember& member : inspected->members) {
      for (const InspectedDot& dot : member.dots) take(dot);
    }
  }
  return dots;
}

// ---- The retirement table. ----

TEST_CASE("retirement: the table persists across reopening, the own id is refused, the smaller through stands") {
  TempDir dir;
  const std::string path = (dir.path() / "a").string();
  {
    auto store = open_store(path);
    auto own = store->retire_replica(store->replica_id(), 3);
    REQUIRE_FALSE(own.has_value());
    CHECK(own.error().code() == ErrorCode::kInvalidArgument);
    CHECK(store->retire_replica(0, 3).error().code() == ErrorCode::kInvalidArgument);
    REQUIRE(store->retire_replica(77, 5).has_value());
    REQUIRE(store->retire_replica(77, 5).has_value());  // The same again: nothing changes.
    REQUIRE(store->retire_replica(77, 9).has_value());  // A larger through: the smaller one stands.
    REQUIRE(store->retire_replica(12, 1).has_value());
    CHECK(*store->retirements() == std::vector<Retirement>{{12, 1}, {77, 5}});
    REQUIRE(store->retire_replica(77, 4).has_value());  // A smaller through replaces it.
    CHECK(*store->retirements() == std::vector<Retirement>{{12, 1}, {77, 4}});
  }
  auto reopened = open_store(path);
  CHECK(*reopened->retirements() == std::vector<Retirement>{{12, 1}, {77, 4}});
  StoreOptions read_only;
  read_only.read_only = true;
  reopened.reset();
  auto reader = open_store(path, read_only);
  CHECK(*reader->retirements() == std::vector<Retirement>{{12, 1}, {77, 4}});
}

// ---- Dots beyond a retirement never enter. ----

TEST_CASE("retirement: a retired replica's dots beyond through are dropped from merged deltas") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto a = open_store(dir.path() / "a");
  REQUIRE(x->put("k1", "one").has_value());   // x:1
  REQUIRE(x->put("k2", "two").has_value());   // x:2
  REQUIRE(x->sadd("s", {"m"}).has_value());   // x:3
  REQUIRE(x->incr("c", 4).has_value());       // x:4
  REQUIRE(a->retire_replica(x->replica_id(), 2).has_value());
  ship_deltas(*x, *a);
  CHECK(a->get("k1")->value == "one");
  CHECK(a->get("k2")->value == "two");
  CHECK_FALSE(*a->sismember("s", "m"));
  CHECK(a->counter("c").error().code() == ErrorCode::kNotFound);
  CHECK(dots_of(*a, {"k1", "k2", "s", "c"}, x->replica_id()).size() == 2);
  // a has seen x's 1..2: x leaves its persisted context, and nothing beyond 2 was recorded as seen.
  CHECK(seen_of(*a, x->replica_id()) == 0);
  CHECK_FALSE(context_mentions(*a, x->replica_id()));
  // With another retirement a has not seen all of, the context keeps every replica: x stands at 2.
  REQUIRE(a->retire_replica(999, 1).has_value());
  CHECK(seen_of(*a, x->replica_id()) == 2);
}

TEST_CASE("retirement: dots beyond through are dropped from bucket merges and joined contexts") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  REQUIRE(x->put("k1", "one").has_value());  // x:1
  REQUIRE(x->put("k2", "two").has_value());  // x:2
  REQUIRE(x->sadd("s", {"m"}).has_value());  // x:3
  // 999 is retired through 1 and never seen: a's context keeps every entry, so it can be read.
  for (store::Replica* store : {a.get(), b.get()}) {
    REQUIRE(store->retire_replica(x->replica_id(), 1).has_value());
    REQUIRE(store->retire_replica(999, 1).has_value());
  }
  ship_buckets(*x, *a);
  CHECK(a->get("k1")->value == "one");
  CHECK(a->get("k2").error().code() == ErrorCode::kNotFound);
  CHECK_FALSE(*a->sismember("s", "m"));
  CHECK(seen_of(*a, x->replica_id()) == 1);

  // x deletes what it wrote: its tree is empty, its context x:1..3. b's tree is empty too.
  REQUIRE(x->del("k1").has_value());
  REQUIRE(x->del("k2").has_value());
  REQUIRE(x->del("s").has_value());
  REQUIRE(join_context(*x, *b));
  CHECK(seen_of(*b, x->replica_id()) == 1);
}

TEST_CASE("retirement: retiring purges the records of a straggler holding dots beyond through") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto a = open_store(dir.path() / "a");
  REQUIRE(x->put("k1", "one").has_value());  // x:1
  REQUIRE(x->put("k2", "two").has_value());  // x:2
  REQUIRE(x->sadd("s", {"m", "n"}).has_value());  // x:3, x:4
  ship_deltas(*x, *a);
  const std::uint64_t root_before = root_hash(*a);
  REQUIRE(a->retire_replica(x->replica_id(), 2).has_value());
  CHECK(a->get("k2")->value == "two");
  CHECK(members(*a, "s").empty());
  CHECK(root_hash(*a) != root_before);
  CHECK_FALSE(context_mentions(*a, x->replica_id()));
  REQUIRE(a->retire_replica(999, 1).has_value());
  CHECK(seen_of(*a, x->replica_id()) == 2);
  // The purged tree equals one rebuilt from the records: a fresh store that merged only x:1..2.
  auto c = open_store(dir.path() / "c");
  REQUIRE(c->retire_replica(x->replica_id(), 2).has_value());
  ship_deltas(*x, *c);
  CHECK(root_hash(*c) == root_hash(*a));
}

// ---- The persisted and shipped context. ----

TEST_CASE("retirement: a peer with the same table reads an omitted replica's coverage exactly") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  REQUIRE(x->put("k1", "one").has_value());
  REQUIRE(x->put("k2", "two").has_value());
  ship_deltas(*x, *a);
  ship_deltas(*x, *b);
  for (store::Replica* store : {a.get(), b.get()}) REQUIRE(store->retire_replica(x->replica_id(), 2).has_value());
  CHECK_FALSE(context_mentions(*a, x->replica_id()));
  CHECK(decoded_shipped_context(*a).omitted_retirements.has_value());

  // a deletes k1; b learns of it through a bucket exchange under a's context, which no longer names x.
  REQUIRE(a->del("k1").has_value());
  ship_buckets(*a, *b);
  CHECK(b->get("k1").error().code() == ErrorCode::kNotFound);
  CHECK(b->get("k2")->value == "two");
  CHECK(root_hash(*a) == root_hash(*b));
  REQUIRE(join_context(*a, *b));
  CHECK_FALSE(context_mentions(*b, x->replica_id()));
}

TEST_CASE("retirement: a peer without the retirement, or with another table, never over-covers") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto sender = open_store(dir.path() / "sender");
  auto without = open_store(dir.path() / "without");
  auto other_table = open_store(dir.path() / "other");
  auto same_table = open_store(dir.path() / "same");
  REQUIRE(x->put("k1", "one").has_value());  // x:1
  REQUIRE(x->put("k2", "two").has_value());  // x:2
  for (store::Replica* store : {sender.get(), without.get(), other_table.get(), same_table.get()}) ship_deltas(*x, *store);
  REQUIRE(sender->retire_replica(x->replica_id(), 2).has_value());
  REQUIRE(same_table->retire_replica(x->replica_id(), 2).has_value());
  REQUIRE(other_table->retire_replica(x->replica_id(), 2).has_value());
  REQUIRE(other_table->retire_replica(555, 3).has_value());
  REQUIRE(sender->del("k1").has_value());
  REQUIRE_FALSE(context_mentions(*sender, x->replica_id()));

  // Exact for the same table: the sender had seen x:1 and no longer holds k1, so k1 goes.
  ship_buckets(*sender, *same_table);
  CHECK(same_table->get("k1").error().code() == ErrorCode::kNotFound);
  // Any other reader takes the omitted x as unseen: k1 stays (converging later, never losing data).
  ship_buckets(*sender, *without);
  CHECK(without->get("k1")->value == "one");
  ship_buckets(*sender, *other_table);
  CHECK(other_table->get("k1")->value == "one");
  // Joining the sender's context there adds nothing of x either.
  REQUIRE(sender->del("k2").has_value());
  REQUIRE(without->del("k1").has_value());
  REQUIRE(without->del("k2").has_value());
  REQUIRE(join_context(*sender, *without));
  CHECK(seen_of(*without, x->replica_id()) == 2);  // Its own, from x's deltas; not more.
}

TEST_CASE("retirement: a table that retires with another through does not restore coverage it lacks") {
  TempDir dir;
  auto x = open_store(dir.path() / "x");
  auto sender = open_store(dir.path() / "sender");
  auto receiver = open_store(dir.path() / "receiver");
  REQUIRE(x->put("k1", "one").has_value());  // x:1
  auto first = x->deltas_since(0, 10);
  REQUIRE(x->put("k2", "two").has_value());  // x:2
  ship_deltas(*x, *receiver);
  // The sender saw only x:1 and retired x through 1; the receiver saw x:1..2 and retired it through 2.
  REQUIRE(sender->merge_delta(first->at(0).bytes, x->replica_id()).has_value());
  REQUIRE(sender->retire_replica(x->replica_id(), 1).has_value());
  REQUIRE(receiver->retire_replica(x->replica_id(), 2).has_value());
  REQUIRE_FALSE(context_mentions(*sender, x->replica_id()));
  // Restoring from the receiver's own table would claim the sender saw x:2 and delete k2 here.
  ship_buckets(*sender, *receiver);
  CHECK(receiver->get("k2")->value == "two");
  CHECK(receiver->get("k1")->value == "one");
}

TEST_CASE("retirement: reopening rebuilds the in-memory context from the persisted one and the table") {
  TempDir dir;
  const std::string path = (dir.path() / "a").string();
  auto x = open_store(dir.path() / "x");
  REQUIRE(x->put("k1", "one").has_value());
  REQUIRE(x->put("k2", "two").has_value());
  {
    auto a = open_store(path);
    ship_deltas(*x, *a);
    REQUIRE(a->retire_replica(x->replica_id(), 2).has_value());
    CHECK_FALSE(context_mentions(*a, x->replica_id()));
  }
  auto a = open_store(path);
  CHECK_FALSE(context_mentions(*a, x->replica_id()));
  // Another retirement a has not seen all of makes it persist every entry: x's must be back, whole.
  REQUIRE(a->retire_replica(999, 1).has_value());
  CHECK(seen_of(*a, x->replica_id()) == 2);
}

// ---- Reincarnation. ----

TEST_CASE("retirement: a retired replica reincarnates, is refilled, re-issues its offline writes once, and all converge") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto b = open_store(dir.path() / "b");
  auto x = open_store(dir.path() / "x");
  const std::uint64_t old_x = x->replica_id();
  REQUIRE(x->put("shared", "v0").has_value());
  REQUIRE(x->put("x-del", "old").has_value());
  REQUIRE(x->put("a-del", "doomed").has_value());
  REQUIRE(x->sadd("set", {"m1", "m2"}).has_value());
  REQUIRE(x->incr("ctr", 5).has_value());
  REQUIRE(a->put("a-reg", "a").has_value());
  REQUIRE(b->incr("ctr", 2).has_value());
  sync_all({a.get(), b.get(), x.get()});
  REQUIRE(*x->counter("ctr") == 7);

  // x is offline: its writes reach no one.
  REQUIRE(x->put("x-new", "n").has_value());
  REQUIRE(x->put("shared", "v1").has_value());
  REQUIRE(x->sadd("set", {"m3"}).has_value());
  REQUIRE(x->srem("set", {"m1"}).has_value());
  REQUIRE(x->incr("ctr", 10).has_value());
  REQUIRE(x->del("x-del").has_value());
  // Meanwhile.
  REQUIRE(a->del("a-del").has_value());
  REQUIRE(b->incr("ctr", 3).has_value());
  sync_all({a.get(), b.get()});

  const std::uint64_t through = seen_of(*a, old_x);
  REQUIRE(through == seen_of(*b, old_x));
  REQUIRE(a->retire_replica(old_x, through).has_value());
  REQUIRE(b->retire_replica(old_x, through).has_value());

  auto reincarnation = x->reincarnate(through);
  REQUIRE(reincarnation.has_value());
  CHECK(reincarnation->old_replica == old_x);
  CHECK(reincarnation->new_replica == x->replica_id());
  CHECK(x->replica_id() != old_x);
  CHECK(reincarnation->writes_set_aside == 4);  // x-new, shared, m3, the ctr chain.
  CHECK(*x->has_retired_writes());
  CHECK(*x->retirements() == std::vector<Retirement>{{old_x, through}});
  CHECK(x->get("shared").error().code() == ErrorCode::kNotFound);  // Emptied.
  CHECK(x->deltas_since(0, 10)->empty());

  refill(*a, *x);
  CHECK(x->get("shared")->value == "v0");
  auto issued = x->reissue_retired_writes();
  REQUIRE(issued.has_value());
  CHECK(*issued == 4);
  CHECK_FALSE(*x->has_retired_writes());
  sync_all({a.get(), b.get(), x.get()});

  for (store::Replica* store : {a.get(), b.get(), x.get()}) {
    INFO("store " << store->replica_id());
    CHECK(store->get("x-new")->value == "n");
    CHECK(store->get("shared")->value == "v1");
    CHECK(store->get("shared")->concurrent.empty());
    CHECK(members(*store, "set") == std::vector<std::string>{"m2", "m3"});
    CHECK(*store->counter("ctr") == 5 + 2 + 10 + 3);
    CHECK(store->get("x-del").error().code() == ErrorCode::kNotFound);
    CHECK(store->get("a-del").error().code() == ErrorCode::kNotFound);
    CHECK(store->get("a-reg")->value == "a");
    CHECK_FALSE(context_mentions(*store, old_x));
    for (const InspectedDot& dot : dots_of(*store, {"x-new", "shared", "set", "ctr", "a-reg"}, old_x)) {
      CHECK(dot.counter <= through);
    }
    CHECK(root_hash(*store) == root_hash(*a));
  }
}

TEST_CASE("retirement: the set-aside writes survive reopening and are re-issued exactly once") {
  TempDir dir;
  const std::string x_path = (dir.path() / "x").string();
  auto a = open_store(dir.path() / "a");
  std::uint64_t old_x = 0, new_x = 0, through = 0;
  {
    auto x = open_store(x_path);
    old_x = x->replica_id();
    REQUIRE(x->incr("ctr", 1).has_value());
    REQUIRE(x->put("reg", "synced").has_value());
    ship_deltas(*x, *a);
    REQUIRE(x->incr("ctr", 4).has_value());
    REQUIRE(x->put("reg", "offline").has_value());
    through = seen_of(*a, old_x);
    REQUIRE(a->retire_replica(old_x, through).has_value());
    auto reincarnation = x->reincarnate(through);
    REQUIRE(reincarnation.has_value());
    new_x = reincarnation->new_replica;
    CHECK(reincarnation->writes_set_aside == 2);
    // A second reincarnation before the re-issue is refused: it would set aside nothing and lose them.
    CHECK(x->reincarnate(0).error().code() == ErrorCode::kInvalidArgument);
  }
  {
    auto x = open_store(x_path);
    CHECK(x->replica_id() == new_x);
    CHECK(*x->has_retired_writes());
    CHECK(*x->retirements() == std::vector<Retirement>{{old_x, through}});
    // Not refilled yet: the store has not seen the kept writes of the old id, so re-issuing now would
    // count the synced increment again. Nothing is issued, and the writes stay set aside.
    CHECK(*x->reissue_retired_writes() == 0);
    CHECK(*x->has_retired_writes());
    refill(*a, *x);
    CHECK(*x->counter("ctr") == 1);
    CHECK(*x->reissue_retired_writes() == 2);
    CHECK(*x->reissue_retired_writes() == 0);
    CHECK_FALSE(*x->has_retired_writes());
    CHECK(*x->counter("ctr") == 5);
    CHECK(x->get("reg")->value == "offline");
    CHECK(x->put("after", "new id").has_value());
    CHECK(dots_of(*x, {"after"}, new_x).size() == 1);
  }
  auto x = open_store(x_path);
  CHECK_FALSE(*x->has_retired_writes());
  CHECK(*x->reissue_retired_writes() == 0);
  ship_deltas(*x, *a);
  CHECK(*a->counter("ctr") == 5);
  CHECK(a->get("reg")->value == "offline");
  // The delta log's sequence kept increasing through the reincarnation.
  CHECK(x->delta_log_bounds()->first > 1);
}

TEST_CASE("retirement: a smaller decision learned after reincarnating still lets the set-aside writes be re-issued") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto x = open_store(dir.path() / "x");
  const std::uint64_t old_x = x->replica_id();
  REQUIRE(x->incr("ctr", 1).has_value());
  ship_deltas(*x, *a);
  const std::uint64_t kept = seen_of(*a, old_x);
  REQUIRE(x->put("reg", "offline").has_value());
  // x learns a larger n first (another decider saw more) and reincarnates at it...
  REQUIRE(x->reincarnate(kept + 1).has_value());
  // ...then the smaller decision, which the cluster applies.
  REQUIRE(a->retire_replica(old_x, kept).has_value());
  REQUIRE(x->retire_replica(old_x, kept).has_value());
  refill(*a, *x);
  CHECK(*x->reissue_retired_writes() == 0);  // The put was dot kept + 1: set aside by neither rule.
  CHECK_FALSE(*x->has_retired_writes());    // Not stuck waiting for a dot that can never come.
}

TEST_CASE("retirement: set-aside writes larger than one message are stored as several and re-issued together") {
  TempDir dir;
  const std::string x_path = (dir.path() / "x").string();
  auto a = open_store(dir.path() / "a");
  const std::string big(15u << 20, 'b');  // Three of them exceed what one set-aside message holds.
  std::uint64_t through = 0;
  {
    auto x = open_store(x_path);
    REQUIRE(x->put("seed", "synced").has_value());
    ship_deltas(*x, *a);
    for (int i = 0; i < 3; ++i) REQUIRE(x->put("big/" + std::to_string(i), big + std::to_string(i)).has_value());
    through = seen_of(*a, x->replica_id());
    REQUIRE(a->retire_replica(x->replica_id(), through).has_value());
    auto reincarnation = x->reincarnate(through);
    REQUIRE(reincarnation.has_value());
    CHECK(reincarnation->writes_set_aside == 3);
    auto second = store::read_raw_result(*x, [&](const store::Txn& txn, const store::Databases& databases) {
      return txn.read(databases.meta, store::retired_writes_key(1));
    });
    REQUIRE(second.has_value());
    CHECK(second->has_value());  // More than one message.
  }
  auto x = open_store(x_path);
  refill(*a, *x);
  CHECK(*x->reissue_retired_writes() == 3);
  CHECK_FALSE(*x->has_retired_writes());
  sync_all({a.get(), x.get()});
  for (int i = 0; i < 3; ++i) {
    auto value = a->get("big/" + std::to_string(i));
    REQUIRE(value.has_value());
    CHECK(value->value == big + std::to_string(i));
  }
  auto leftover = store::read_raw_result(*x, [&](const store::Txn& txn, const store::Databases& databases) {
    return txn.read(databases.meta, store::retired_writes_key(1));
  });
  REQUIRE(leftover.has_value());
  CHECK_FALSE(leftover->has_value());  // Every message forgotten with the re-issue.
}

TEST_CASE("retirement: a set-aside register write that no longer wins is not re-issued") {
  TempDir dir;
  auto a_clock = std::make_shared<SkewedWallClock>();
  auto a = open_store(dir.path() / "a", {}, a_clock);
  auto x = open_store(dir.path() / "x");
  const std::uint64_t old_x = x->replica_id();
  REQUIRE(x->put("reg", "v0").has_value());
  ship_deltas(*x, *a);
  REQUIRE(x->put("reg", "x offline").has_value());
  // a's clock is a minute ahead: its concurrent write wins the (HLC, replica id) tie-break.
  a_clock->set_skew_ms(60'000);
  REQUIRE(a->put("reg", "a wins").has_value());
  const std::uint64_t through = seen_of(*a, old_x);
  REQUIRE(a->retire_replica(old_x, through).has_value());
  REQUIRE(x->reincarnate(through).has_value());
  refill(*a, *x);
  CHECK(*x->reissue_retired_writes() == 0);
  CHECK(x->get("reg")->value == "a wins");
  CHECK(x->get("reg")->concurrent.empty());
  CHECK(root_hash(*x) == root_hash(*a));
}

// x, retired through what `a` has seen of it, reincarnates, is refilled from `a`, re-issues, and the
// two sync; returns how many writes were re-issued.
std::size_t retire_and_reissue(store::Replica& x, store::Replica& a) {
  const std::uint64_t old_x = x.replica_id();
  const std::uint64_t through = seen_of(a, old_x);
  REQUIRE(a.retire_replica(old_x, through).has_value());
  REQUIRE(x.reincarnate(through).has_value());
  refill(a, x);
  auto issued = x.reissue_retired_writes();
  REQUIRE(issued.has_value());
  sync_all({&a, &x});
  CHECK(root_hash(x) == root_hash(a));
  return *issued;
}

TEST_CASE("retirement: an offline increment whose chain absorbed a delete re-issues only what the delete left") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto x = open_store(dir.path() / "x");
  REQUIRE(x->incr("ctr", 5).has_value());
  sync_all({a.get(), x.get()});
  REQUIRE(a->del("ctr").has_value());       // Sees the 5...
  REQUIRE(x->incr("ctr", 3).has_value());   // ...not these 3, which extend the same chain.
  sync_all({a.get(), x.get()});
  REQUIRE(*x->counter("ctr") == 3);
  REQUIRE(x->incr("ctr", 10).has_value());  // Offline: its entry absorbs the reset (deleted offset 5).
  REQUIRE(x->decr("ctr", 1).has_value());
  CHECK(retire_and_reissue(*x, *a) == 1);
  CHECK(*a->counter("ctr") == 3 + 10 - 1);
  CHECK(*x->counter("ctr") == 3 + 10 - 1);
}

TEST_CASE("retirement: a delete concurrent with offline increments cancels only what it saw") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto x = open_store(dir.path() / "x");
  REQUIRE(x->incr("ctr", 5).has_value());
  sync_all({a.get(), x.get()});
  REQUIRE(x->incr("ctr", 10).has_value());  // Offline.
  REQUIRE(a->del("ctr").has_value());       // Saw the 5 only.
  CHECK(retire_and_reissue(*x, *a) == 1);
  CHECK(*a->counter("ctr") == 10);
  CHECK(*x->counter("ctr") == 10);
}

TEST_CASE("retirement: an offline counter delete still cancels what it saw of a contribution that grew concurrently") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto x = open_store(dir.path() / "x");
  REQUIRE(a->incr("ctr", 5).has_value());
  sync_all({a.get(), x.get()});
  REQUIRE(x->del("ctr").has_value());     // Offline: deletes the 5 it saw...
  REQUIRE(a->incr("ctr", 10).has_value());  // ...while a's chain grows to 15, unseen by the delete.
  CHECK(retire_and_reissue(*x, *a) == 1);  // The delete's reset, re-minted under the new id.
  CHECK(*a->counter("ctr") == 10);
  CHECK(*x->counter("ctr") == 10);
}

TEST_CASE("retirement: a set-aside write to a key that now holds another kind is skipped") {
  TempDir dir;
  auto a = open_store(dir.path() / "a");
  auto x = open_store(dir.path() / "x");
  REQUIRE(a->put("seed", "s").has_value());
  sync_all({a.get(), x.get()});
  REQUIRE(x->put("k", "register").has_value());  // Offline.
  REQUIRE(x->sadd("m", {"member"}).has_value());  // Offline.
  REQUIRE(a->sadd("k", {"a set"}).has_value());
  REQUIRE(a->incr("m", 1).has_value());
  CHECK(retire_and_reissue(*x, *a) == 0);
  CHECK(*x->kind("k") == ValueKind::kSet);
  CHECK(*x->kind("m") == ValueKind::kCounter);
  CHECK(x->get("k").error().code() == ErrorCode::kWrongType);
}

}  // namespace
}  // namespace cairn
