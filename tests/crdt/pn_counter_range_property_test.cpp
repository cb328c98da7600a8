// Property tests of the PN-counter at the edges of its range: random histories of increments and
// decrements drawn near 2^62, 2^63 and 2^64 on 2 to 4 replicas with partial delivery, checked against
// an exact 128-bit model. Local adds go through check_add as the store's incr/decr do.
#include "crdt/pn_counter.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::CounterTotal;
using crdt::PnCounter;
using Check = PnCounter::AddCheck;

constexpr CounterTotal kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr CounterTotal kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr CounterTotal kUint64Max = std::numeric_limits<std::uint64_t>::max();

// An amount near an edge most of the time: around 2^62, 2^63 and 2^64, or small.
std::uint64_t edge_amount(Rng& rng) {
  static constexpr std::uint64_t kEdges[] = {1ULL << 62, (1ULL << 63) - 1, 1ULL << 63, ~0ULL};
  switch (rng.below(4)) {
    case 0: return 1 + rng.below(3);
    case 1: return rng.next();
    default: {
      const std::uint64_t edge = kEdges[rng.below(std::size(kEdges))];
      const std::uint64_t nudge = rng.below(3);
      return rng.chance(1, 2) ? edge - nudge : (edge > ~0ULL - nudge ? edge : edge + nudge);
    }
  }
}

std::string text(CounterTotal total) {
  const bool negative = total < 0;
  std::string digits;
  do {
    const auto digit = static_cast<int>(total % 10);
    digits.insert(digits.begin(), static_cast<char>('0' + (negative ? -digit : digit)));
    total /= 10;
  } while (total != 0);
  return negative ? "-" + digits : digits;
}

struct Add {
  std::size_t replica;
  CounterTotal change;      // +increments or -decrements.
  CounterTotal cumulative;  // The net of every add of `replica` up to this one: what its delta carries.
};

TEST_CASE("pn-counter range: checked adds never wrap, and every replica reads the exact total or nothing") {
  for_each_history("pn-counter range edges", 10000, [](Rng& rng) {
    const std::size_t replica_count = 2 + rng.below(3);
    const std::vector<crdt::ReplicaId> ids = random_replica_ids(rng, replica_count);
    std::vector<PnCounter> replicas(replica_count);
    std::vector<std::set<std::size_t>> received(replica_count);  // Indices into `adds`/`deltas`.
    std::vector<Add> adds;
    std::vector<PnCounter> deltas;
    std::vector<CounterTotal> running_increments(replica_count), running_decrements(replica_count);
    std::string history;

    // The exact total `replica` reads: each contributor's delta carries its running totals, so the
    // latest delta received from a contributor stands for all of its earlier ones.
    const auto model_total = [&](std::size_t replica) {
      std::vector<CounterTotal> latest(replica_count);
      for (std::size_t index : received[replica]) latest[adds[index].replica] = adds[index].cumulative;
      CounterTotal total = 0;
      for (CounterTotal part : latest) total += part;
      return total;
    };
    const auto receive = [&](std::size_t replica, std::size_t index) {
      if (!received[replica].insert(index).second) return;
      replicas[replica].join(deltas[index]);
    };

    const std::size_t steps = 1 + rng.below(30);
    for (std::size_t step = 0; step < steps; ++step) {
      const std::size_t r = rng.below(replica_count);
      if (!deltas.empty() && rng.chance(1, 3)) receive(r, rng.below(deltas.size()));
      const bool up = rng.chance(1, 2);
      const std::uint64_t amount = edge_amount(rng);
      const std::uint64_t increments = up ? amount : 0, decrements = up ? 0 : amount;
      const Check check = PnCounter::check_add(replicas[r].state().store, ids[r], increments, decrements);

      // What the check must say, from the model alone.
      const CounterTotal before = model_total(r);
      const CounterTotal change = up ? CounterTotal{amount} : -CounterTotal{amount};
      const CounterTotal after = before + change;
      const bool running_overflows = (up ? running_increments[r] : running_decrements[r]) + amount > kUint64Max;
      const bool in_range = after >= kInt64Min && after <= kInt64Max;
      const bool toward_range = after > kInt64Max ? after < before : after > before;
      const Check expected = running_overflows                ? Check::kRunningTotalOverflow
                             : in_range || toward_range ? Check::kOk
                                                              : Check::kValueOutOfRange;
      history += "r" + std::to_string(r) + (up ? " +" : " -") + std::to_string(amount) + " on " + text(before) +
                 " -> check " + std::to_string(static_cast<int>(check)) + "\n";
      INFO(history);
      REQUIRE(static_cast<int>(check) == static_cast<int>(expected));
      if (check != Check::kOk) continue;

      deltas.push_back(up ? replicas[r].increment(ids[r], amount) : replicas[r].decrement(ids[r], amount));
      (up ? running_increments[r] : running_decrements[r]) += amount;
      adds.push_back(Add{r, change, running_increments[r] - running_decrements[r]});
      received[r].insert(adds.size() - 1);
      // The replica's own entry holds its running totals exactly (no wrap).
      const auto& entries = replicas[r].state().store.entries();
      bool totals_exact = false;
      for (const auto& [dot, entry] : entries) {
        if (entry.contributor == ids[r] && entry.kind == crdt::CounterEntry::Kind::kContribution) {
          totals_exact = CounterTotal{entry.increments} == running_increments[r] &&
                         CounterTotal{entry.decrements} == running_decrements[r];
        }
      }
      REQUIRE(totals_exact);
    }

    // Partial delivery and full delivery alike: the exact total, and a value only when it fits.
    for (std::size_t r = 0; r < replica_count; ++r) {
      for (std::size_t index = 0; index < deltas.size(); ++index) {
        if (rng.chance(1, 2)) receive(r, index);
      }
      const CounterTotal expected = model_total(r);
      const std::optional<std::int64_t> value = replicas[r].value();
      INFO(history << "replica " << r << " expects " << text(expected));
      REQUIRE((PnCounter::total_of(replicas[r].state().store) == expected));
      const bool fits = expected >= kInt64Min && expected <= kInt64Max;
      REQUIRE(value.has_value() == fits);
      if (fits) REQUIRE(*value == static_cast<std::int64_t>(expected));
    }
    const PnCounter everything = join_in_random_order(deltas, rng);
    CounterTotal all = 0;
    for (const Add& add : adds) all += add.change;  // Every add counts once, whatever the order.
    INFO(history << "all deltas: " << text(all));
    REQUIRE((PnCounter::total_of(everything.state().store) == all));
  });
}

}  // namespace
}  // namespace cairn::test
