#include "crdt/or_set.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "crdt/lattice.h"

namespace cairn::crdt {
namespace {

constexpr ReplicaId kA{1};
constexpr ReplicaId kB{2};
constexpr ReplicaId kC{3};

// The dots the set holds for `member`.
std::set<Dot> dots_of(const OrSet& set, const std::string& member) {
  const DotSet* dots = set.state().store.find(member);
  return dots == nullptr ? std::set<Dot>{} : dots->dots();
}

TEST_CASE("or-set: add then remove on one replica") {
  OrSet set;
  CHECK(set.value().empty());
  set.add(kA, "x");
  set.add(kA, "y");
  CHECK(set.contains("x"));
  CHECK(set.value() == std::set<std::string>{"x", "y"});
  set.remove(kA, "x");
  CHECK_FALSE(set.contains("x"));
  CHECK(set.value() == std::set<std::string>{"y"});
  CHECK(OrSet::members(set.state().store) == std::vector<std::string>{"y"});
  // Removing an absent member is a no-op.
  const OrSet before = set;
  set.remove(kA, "never-added");
  CHECK(set == before);
}

TEST_CASE("or-set: re-adding a member replaces its earlier dot instead of accumulating dots") {
  OrSet set;
  for (int i = 0; i < 10; ++i) set.add(kA, "x");
  CHECK(dots_of(set, "x") == std::set<Dot>{{kA, 10}});
  CHECK(set.state().context.vector().get(kA) == 10);
  CHECK(set.state().context.cloud().empty());
}

TEST_CASE("or-set: a concurrent add and remove of the same member leave it present (add wins)") {
  OrSet a, b;
  b.join(a.add(kA, "x"));
  REQUIRE(b.contains("x"));

  const OrSet remove = b.remove(kB, "x");  // B removes the add it saw...
  const OrSet re_add = a.add(kA, "x");     // ...while A concurrently adds x again.
  CHECK_FALSE(b.contains("x"));

  a.join(remove);
  b.join(re_add);
  CHECK(a.contains("x"));
  CHECK(b.contains("x"));
  CHECK(a == b);
  // Either join order of the two deltas gives the same result.
  CHECK(joined(remove, re_add) == joined(re_add, remove));
  CHECK(joined(remove, re_add).contains("x"));
  CHECK(dots_of(a, "x") == std::set<Dot>{{kA, 2}});
}

TEST_CASE("or-set: a remove of a member never seen does not remove a concurrent first add") {
  OrSet a, b;
  const OrSet add = a.add(kA, "x");
  const OrSet remove = b.remove(kB, "x");  // B has never seen x.
  a.join(remove);
  b.join(add);
  CHECK(a.contains("x"));
  CHECK(b.contains("x"));
}

TEST_CASE("or-set: a remove removes only the add-dots it observed") {
  OrSet a, b, c;
  const OrSet add_a = a.add(kA, "x");
  const OrSet add_b = b.add(kB, "x");  // Concurrent with A's add.
  c.join(add_a);                       // C sees only A's add...
  const OrSet remove = c.remove(kC, "x");
  CHECK(remove.state().context.contains(Dot{kA, 1}));
  CHECK_FALSE(remove.state().context.contains(Dot{kB, 1}));

  // ...so after everything is exchanged, x survives with B's dot alone.
  for (OrSet* replica : {&a, &b, &c}) {
    replica->join(add_a);
    replica->join(add_b);
    replica->join(remove);
    CHECK(replica->contains("x"));
    CHECK(dots_of(*replica, "x") == std::set<Dot>{{kB, 1}});
  }
  CHECK(a == b);
  CHECK(b == c);

  // A remove that has seen both dots removes x everywhere.
  const OrSet remove_all = a.remove(kA, "x");
  b.join(remove_all);
  c.join(remove_all);
  CHECK_FALSE(a.contains("x"));
  CHECK_FALSE(b.contains("x"));
  CHECK_FALSE(c.contains("x"));
}

TEST_CASE("or-set: concurrent adds of one member by different replicas keep one dot per replica") {
  OrSet a, b;
  const OrSet add_a = a.add(kA, "x");
  const OrSet add_b = b.add(kB, "x");
  a.join(add_b);
  b.join(add_a);
  CHECK(dots_of(a, "x") == std::set<Dot>{{kA, 1}, {kB, 1}});
  // An add that observed both collapses them into its own single dot.
  const OrSet again = a.add(kA, "x");
  b.join(again);
  CHECK(dots_of(b, "x") == std::set<Dot>{{kA, 2}});
}

TEST_CASE("or-set: clear removes the members it observed and keeps concurrent adds") {
  OrSet a, b;
  b.join(a.add(kA, "x"));
  b.join(a.add(kA, "y"));
  const OrSet clear = b.clear(kB);
  const OrSet add_z = a.add(kA, "z");
  const OrSet re_add_x = a.add(kA, "x");
  CHECK(b.value().empty());
  b.join(add_z);
  b.join(re_add_x);
  a.join(clear);
  CHECK(a.value() == std::set<std::string>{"x", "z"});
  CHECK(a == b);
}

TEST_CASE("or-set: deltas joined out of order or twice converge to the sender's state") {
  OrSet a;
  const OrSet d1 = a.add(kA, "x");  // (A,1)
  const OrSet d2 = a.add(kA, "y");  // (A,2)
  const OrSet d3 = a.remove(kA, "x");
  const OrSet d4 = a.add(kA, "z");  // (A,3)
  OrSet b;
  b.join(d4);
  b.join(d3);
  b.join(d1);  // d3 already removed x's dot: the stale add must not resurrect it.
  CHECK_FALSE(b.contains("x"));
  CHECK(b.state().context.cloud() == std::set<Dot>{{kA, 3}});  // (A,2) is still missing.
  b.join(d2);
  b.join(d2);
  CHECK(b == a);
  CHECK(b.value() == std::set<std::string>{"y", "z"});
  CHECK(b.state().context.cloud().empty());
}

}  // namespace
}  // namespace cairn::crdt
