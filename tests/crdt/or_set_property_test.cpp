// Property tests of crdt/or_set.h: random histories of adds, removes and clears on 3 to 5 replicas over
// an unreliable network, checked against the observed-remove model (tests/crdt/property_support.h),
// and add-wins between an add and a concurrent remove.
#include "crdt/or_set.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::OrSet;

TEST_CASE("or-set: random histories converge to the observed-remove model") {
  for_each_history("or-set histories", 10000,
                   [](Rng& rng) { check_random_history<OrSetWorkload<OnItsOwn<OrSet>>>(rng); });
}

TEST_CASE("or-set: a remove deletes the adds it observed and an add concurrent with it wins") {
  for_each_history("or-set add wins", 10000, [](Rng& rng) {
    const auto ids = random_replica_ids(rng, 3);
    const std::string member = rng.chance(1, 4) ? "" : "m";
    // Replica 0 adds the member; replica 1 receives that and removes it; replica 2, concurrently
    // (without having seen either), adds the member too or not.
    OrSet adder, remover, concurrent;
    std::vector<OrSet> deltas = {adder.add(ids[0], member)};
    remover.join(deltas[0]);
    deltas.push_back(remover.remove(ids[1], member));
    const bool concurrent_add = rng.chance(1, 2);
    if (concurrent_add) deltas.push_back(concurrent.add(ids[2], member));
    if (rng.chance(1, 2)) deltas.push_back(concurrent.add(ids[2], "other"));

    bool ok = true;
    std::set<std::string> read;
    for (int replica = 0; replica < 3; ++replica) {
      const OrSet joined = join_in_random_order(deltas, rng);
      read = joined.value();
      const crdt::DotSet* dots = joined.state().store.find(member);
      ok =
          ok && joined.contains(member) == concurrent_add &&
          (!concurrent_add || (dots != nullptr && dots->dots() == std::set<crdt::Dot>{crdt::Dot{ids[2], 1}}));
    }
    CAPTURE(concurrent_add, member, read);
    REQUIRE(ok);
  });
}

}  // namespace
}  // namespace cairn::test
