#include "crdt/version_vector.h"

#include <catch2/catch.hpp>

#include <sstream>

namespace cairn::crdt {
namespace {

constexpr ReplicaId kA{1};
constexpr ReplicaId kB{2};
constexpr ReplicaId kC{3};

VersionVector vv(std::initializer_list<std::pair<ReplicaId, std::uint64_t>> entries) {
  VersionVector result;
  for (const auto& [replica, counter] : entries) result.raise(replica, counter);
  return result;
}

TEST_CASE("version vector: an empty vector contains no dot and every entry reads 0") {
  const VersionVector empty;
  CHECK(empty.empty());
  CHECK(empty.size() == 0);
  CHECK(empty.get(kA) == 0);
  CHECK_FALSE(empty.contains(Dot{kA, 1}));
  CHECK(empty.compare(VersionVector{}) == CausalOrder::kEqual);
}

TEST_CASE("version vector: contains exactly the contiguous prefix 1..n of each replica") {
  const VersionVector v = vv({{kA, 3}, {kB, 1}});
  CHECK(v.contains(Dot{kA, 1}));
  CHECK(v.contains(Dot{kA, 3}));
  CHECK_FALSE(v.contains(Dot{kA, 4}));
  CHECK(v.contains(Dot{kB, 1}));
  CHECK_FALSE(v.contains(Dot{kB, 2}));
  CHECK_FALSE(v.contains(Dot{kC, 1}));
  // Counter 0 never names an event, so no vector contains it.
  CHECK_FALSE(v.contains(Dot{kA, 0}));
}

TEST_CASE("version vector: raise only moves an entry up and never stores a zero") {
  VersionVector v;
  v.raise(kA, 0);
  CHECK(v.empty());
  v.raise(kA, 5);
  v.raise(kA, 2);
  CHECK(v.get(kA) == 5);
  CHECK(v.size() == 1);
  // A zero raise must not create an entry, so equal vectors compare equal.
  v.raise(kB, 0);
  CHECK(v == vv({{kA, 5}}));
}

TEST_CASE("version vector: compare orders equal vectors as equal") {
  CHECK(vv({{kA, 2}, {kB, 1}}).compare(vv({{kB, 1}, {kA, 2}})) == CausalOrder::kEqual);
  CHECK(vv({{kA, 2}}).dominates(vv({{kA, 2}})));
}

TEST_CASE("version vector: compare says before when every entry is <= and one is <") {
  const VersionVector older = vv({{kA, 1}, {kB, 2}});
  const VersionVector newer = vv({{kA, 2}, {kB, 2}});
  CHECK(older.compare(newer) == CausalOrder::kBefore);
  CHECK(newer.compare(older) == CausalOrder::kAfter);
  CHECK(newer.dominates(older));
  CHECK_FALSE(older.dominates(newer));
}

TEST_CASE("version vector: a replica missing on one side counts as 0 in compare") {
  const VersionVector a_only = vv({{kA, 1}});
  const VersionVector a_and_c = vv({{kA, 1}, {kC, 1}});
  CHECK(a_only.compare(a_and_c) == CausalOrder::kBefore);
  CHECK(a_and_c.compare(a_only) == CausalOrder::kAfter);
  CHECK(VersionVector{}.compare(a_only) == CausalOrder::kBefore);
  CHECK(a_only.compare(VersionVector{}) == CausalOrder::kAfter);
}

TEST_CASE("version vector: compare says concurrent when each side has an event the other lacks") {
  const VersionVector a = vv({{kA, 2}, {kB, 1}});
  const VersionVector b = vv({{kA, 1}, {kB, 2}});
  CHECK(a.compare(b) == CausalOrder::kConcurrent);
  CHECK(b.compare(a) == CausalOrder::kConcurrent);
  CHECK_FALSE(a.dominates(b));
  CHECK_FALSE(b.dominates(a));
  // Disjoint replicas are concurrent too.
  CHECK(vv({{kA, 1}}).compare(vv({{kB, 1}})) == CausalOrder::kConcurrent);
}

TEST_CASE("version vector: join is the entry-wise maximum and dominates both inputs") {
  const VersionVector a = vv({{kA, 2}, {kB, 1}});
  const VersionVector b = vv({{kA, 1}, {kB, 3}, {kC, 4}});
  VersionVector ab = a;
  ab.join(b);
  VersionVector ba = b;
  ba.join(a);
  CHECK(ab == vv({{kA, 2}, {kB, 3}, {kC, 4}}));
  CHECK(ab == ba);
  CHECK(ab.dominates(a));
  CHECK(ab.dominates(b));
  // Idempotent.
  VersionVector again = ab;
  again.join(ab);
  CHECK(again == ab);
  // Joining a dominated vector changes nothing.
  VersionVector dominated = ab;
  dominated.join(a);
  CHECK(dominated == ab);
}

TEST_CASE("version vector: prints as replica:counter entries") {
  std::ostringstream out;
  out << vv({{kA, 2}, {kB, 1}});
  CHECK(out.str() == "{r1:2, r2:1}");
}

}  // namespace
}  // namespace cairn::crdt
