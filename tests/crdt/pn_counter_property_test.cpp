// Property tests of crdt/pn_counter.h: random histories of increments, decrements and clears on 3 to 5
// replicas over an unreliable network, checked against the observed-reset model
// (tests/crdt/property_support.h), and a clear racing a contributor that keeps counting.
#include "crdt/pn_counter.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::PnCounter;

TEST_CASE("pn-counter: random histories converge to the observed-reset model") {
  for_each_history("pn-counter histories", 10000,
                   [](Rng& rng) { check_random_history<PnCounterWorkload<OnItsOwn<PnCounter>>>(rng); });
}

// The "observed-reset" anomaly of folded counters: a clear that saw a contributor's running total up
// to some update must not also delete the updates the contributor makes afterwards, nor resurrect
// the ones it saw.
TEST_CASE("pn-counter: a clear deletes exactly what its issuer saw while the contributor keeps counting") {
  for_each_history("pn-counter concurrent clear", 10000, [](Rng& rng) {
    const auto ids = random_replica_ids(rng, 2);
    PnCounter contributor, clearer;
    std::vector<PnCounter> deltas;
    std::vector<std::int64_t> amounts;
    auto update = [&] {
      const auto amount = static_cast<std::int64_t>(rng.below(5));
      const bool up = rng.chance(1, 2);
      deltas.push_back(up ? contributor.increment(ids[0], static_cast<std::uint64_t>(amount))
                          : contributor.decrement(ids[0], static_cast<std::uint64_t>(amount)));
      amounts.push_back(up ? amount : -amount);
    };
    const std::size_t before = 1 + rng.below(5), after = rng.below(5);
    for (std::size_t i = 0; i < before; ++i) update();
    // The clearer receives only the delta of update `seen` (it carries the running total up to it).
    const std::size_t seen = rng.below(before);
    clearer.join(deltas[seen]);
    const PnCounter clear = clearer.clear(ids[1]);
    // The contributor goes on counting, and at some point receives the clear.
    const std::size_t clear_arrives = rng.below(after + 1);
    for (std::size_t i = 0; i < after; ++i) {
      if (i == clear_arrives) contributor.join(clear);
      update();
    }
    deltas.push_back(clear);

    std::int64_t expected = 0;
    for (std::size_t i = seen + 1; i < amounts.size(); ++i) expected += amounts[i];
    bool ok = true;
    std::int64_t read = 0;
    for (int replica = 0; replica < 3; ++replica) {
      const PnCounter joined = join_in_random_order(deltas, rng);
      read = joined.value().value_or(std::numeric_limits<std::int64_t>::min());  // Amounts under 5 always fit.
      ok = ok && read == expected && PnCounter::present(joined.state().store) == (amounts.size() > seen + 1);
    }
    contributor.join(clear);
    ok = ok && contributor.value() == expected;
    CAPTURE(before, after, seen, clear_arrives, expected, read);
    REQUIRE(ok);
  });
}

}  // namespace
}  // namespace cairn::test
