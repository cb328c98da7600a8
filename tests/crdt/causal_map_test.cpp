#include "crdt/causal_map.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"

namespace cairn::crdt {
namespace {

constexpr ReplicaId kA{1};
constexpr ReplicaId kB{2};
constexpr ReplicaId kC{3};

using LwwMap = CausalMap<std::string, LwwRegister>;
using SetMap = CausalMap<std::string, OrSet>;
using CounterMap = CausalMap<std::string, PnCounter>;

// ---- Mutations as a store would issue them. ----

LwwMap put(LwwMap& map, const std::string& key, ReplicaId replica, const std::string& value,
           HlcTimestamp timestamp) {
  return map.update(key, [&](const LwwRegister::Store& current, const DotContext& context) {
    return LwwRegister::write_delta(current, context, replica, value, timestamp);
  });
}

SetMap add(SetMap& map, const std::string& key, ReplicaId replica, const std::string& member) {
  return map.update(key, [&](const OrSet::Store& current, const DotContext& context) {
    return OrSet::add_delta(current, context, replica, member);
  });
}

SetMap remove(SetMap& map, const std::string& key, ReplicaId replica, const std::string& member) {
  return map.update(key, [&](const OrSet::Store& current, const DotContext& context) {
    return OrSet::remove_delta(current, context, replica, member);
  });
}

CounterMap add(CounterMap& map, const std::string& key, ReplicaId replica, std::int64_t amount) {
  return map.update(key, [&](const PnCounter::Store& current, const DotContext& context) {
    return amount >= 0
               ? PnCounter::add_delta(current, context, replica, static_cast<std::uint64_t>(amount), 0)
               : PnCounter::add_delta(current, context, replica, 0, static_cast<std::uint64_t>(-amount));
  });
}

// ---- Reads. ----

std::vector<std::string> versions_at(const LwwMap& map, const std::string& key) {
  std::vector<std::string> values;
  if (const auto* store = map.find(key)) {
    for (const LwwVersion& version : LwwRegister::versions(*store)) values.push_back(version.entry->value);
  }
  return values;
}

std::set<std::string> members_at(const SetMap& map, const std::string& key) {
  std::set<std::string> members;
  if (const auto* store = map.find(key)) {
    for (const auto& member : OrSet::members(*store)) members.insert(member);
  }
  return members;
}

std::optional<std::int64_t> counter_at(const CounterMap& map, const std::string& key) {
  const auto* store = map.find(key);
  if (store == nullptr) return std::nullopt;
  return PnCounter::value_of(*store);
}

// Joins every delta into every replica: forwards into the first, backwards into the rest.
template <typename Map>
void deliver_all(const std::vector<Map*>& replicas, const std::vector<Map>& deltas) {
  bool first = true;
  for (Map* replica : replicas) {
    if (first) {
      for (const Map& delta : deltas) replica->join(delta);
    } else {
      for (auto it = deltas.rbegin(); it != deltas.rend(); ++it) replica->join(*it);
    }
    first = false;
  }
}

TEST_CASE("causal map: every value's dots are minted from the one map-wide context") {
  LwwMap map;
  put(map, "k1", kA, "one", {1, 0});
  put(map, "k2", kA, "two", {2, 0});
  SetMap sets;
  add(sets, "s1", kA, "x");
  add(sets, "s2", kA, "y");
  CHECK(map.state().context.vector().get(kA) == 2);
  const LwwRegister::Store* k2 = map.find("k2");
  REQUIRE(k2 != nullptr);
  CHECK(LwwRegister::winner(*k2)->dot == Dot{kA, 2});
  const OrSet::Store* s2 = sets.find("s2");
  REQUIRE(s2 != nullptr);
  const DotSet* y_dots = s2->find("y");
  REQUIRE(y_dots != nullptr);
  CHECK(y_dots->dots() == std::set<Dot>{{kA, 2}});
  CHECK(map.value() == std::set<std::string>{"k1", "k2"});
}

TEST_CASE("causal map: an erased key is absent and leaves no entry behind") {
  LwwMap a, b;
  b.join(put(a, "k", kA, "v", {1, 0}));
  const LwwMap erase = b.erase("k", kB);
  CHECK(b.find("k") == nullptr);
  CHECK(b.value().empty());
  a.join(erase);
  CHECK(a.find("k") == nullptr);
  CHECK(a.state().store.empty());  // No tombstone: the context alone remembers the delete.
  CHECK(a.state().context.contains(Dot{kA, 1}));
  CHECK(a == b);
  // Erasing a key never written is a no-op.
  const LwwMap before = a;
  a.erase("never", kA);
  CHECK(a == before);
}

TEST_CASE(
    "causal map: an LWW key deleted on one replica while another concurrently writes it keeps the "
    "concurrent write") {
  LwwMap a, b, c;
  const LwwMap first = put(a, "k", kA, "first", {10, 0});
  deliver_all<LwwMap>({&b, &c}, {first});
  const LwwMap erase = b.erase("k", kB);                    // Observed "first".
  const LwwMap second = put(a, "k", kA, "second", {5, 0});  // Concurrent, even with an older HLC.
  const LwwMap other = put(c, "k", kC, "from-c", {1, 0});   // Concurrent too.
  deliver_all<LwwMap>({&a, &b, &c}, {erase, second, other});
  for (const LwwMap* replica : {&a, &b, &c}) {
    // "first" is gone (observed by the delete); both concurrent writes survive it.
    CHECK(versions_at(*replica, "k") == std::vector<std::string>{"second", "from-c"});
  }
  CHECK(a == b);
  CHECK(b == c);
}

TEST_CASE(
    "causal map: an OR-set key deleted on one replica while another concurrently adds to it keeps "
    "only the concurrent adds") {
  SetMap a, b;
  b.join(add(a, "s", kA, "x"));
  b.join(add(a, "s", kA, "y"));
  const SetMap erase = b.erase("s", kB);
  const SetMap add_z = add(a, "s", kA, "z");     // Concurrent with the delete.
  const SetMap re_add_x = add(a, "s", kA, "x");  // Concurrent re-add of an observed member.
  deliver_all<SetMap>({&a, &b}, {erase, add_z, re_add_x});
  for (const SetMap* replica : {&a, &b}) {
    CHECK(members_at(*replica, "s") == std::set<std::string>{"x", "z"});  // y was observed: gone.
  }
  CHECK(a == b);
}

TEST_CASE("causal map: an OR-set key deleted concurrently with a remove-only update stays deleted") {
  SetMap a, b;
  b.join(add(a, "s", kA, "x"));
  b.join(add(a, "s", kA, "y"));
  const SetMap erase = b.erase("s", kB);
  const SetMap remove_x = remove(a, "s", kA, "x");  // Mints nothing: nothing new to survive.
  deliver_all<SetMap>({&a, &b}, {erase, remove_x});
  CHECK(a.find("s") == nullptr);
  CHECK(b.find("s") == nullptr);
  CHECK(a.state().store.empty());
  CHECK(a == b);
}

TEST_CASE(
    "causal map: a PN-counter key deleted on one replica while another concurrently updates it keeps "
    "only the concurrent update") {
  CounterMap a, b, c;
  const CounterMap a5 = add(a, "n", kA, 5);
  const CounterMap c2 = add(c, "n", kC, -2);
  deliver_all<CounterMap>({&a, &b, &c}, {a5, c2});
  REQUIRE(counter_at(b, "n") == 3);

  const CounterMap erase = b.erase("n", kB);  // Observed A's +5 and C's -2.
  CHECK(b.find("n") == nullptr);
  const CounterMap a3 = add(a, "n", kA, 3);    // Concurrent with the delete.
  const CounterMap cm1 = add(c, "n", kC, -1);  // Concurrent with the delete.
  deliver_all<CounterMap>({&a, &b, &c}, {erase, a3, cm1});
  for (const CounterMap* replica : {&a, &b, &c}) CHECK(counter_at(*replica, "n") == 3 - 1);
  CHECK(a == b);
  CHECK(b == c);
}

TEST_CASE("causal map: a PN-counter key deleted while no one updates it concurrently is absent everywhere") {
  CounterMap a, b;
  b.join(add(a, "n", kA, 5));
  const CounterMap erase = b.erase("n", kB);
  a.join(erase);
  CHECK(a.find("n") == nullptr);
  CHECK(a.value().empty());
  CHECK(a == b);
  // Re-created after the delete: counts from zero.
  b.join(add(a, "n", kA, 2));
  CHECK(counter_at(a, "n") == 2);
  CHECK(counter_at(b, "n") == 2);
}

TEST_CASE("causal map: deleting one key leaves the other keys alone") {
  LwwMap a, b;
  b.join(put(a, "k1", kA, "one", {1, 0}));
  b.join(put(a, "k2", kA, "two", {2, 0}));
  a.join(b.erase("k1", kB));
  CHECK(a.value() == std::set<std::string>{"k2"});
  CHECK(versions_at(a, "k2") == std::vector<std::string>{"two"});
}

TEST_CASE("causal map: a key deleted and re-created after seeing the delete holds only the new value") {
  SetMap a, b;
  b.join(add(a, "s", kA, "old"));
  a.join(b.erase("s", kB));
  b.join(add(a, "s", kA, "new"));
  CHECK(members_at(a, "s") == std::set<std::string>{"new"});
  CHECK(members_at(b, "s") == std::set<std::string>{"new"});
  CHECK(a == b);
}

}  // namespace
}  // namespace cairn::crdt
