#include "crdt/pn_counter.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "crdt/lattice.h"

namespace cairn::crdt {
namespace {

constexpr ReplicaId kA{1};
constexpr ReplicaId kB{2};
constexpr ReplicaId kC{3};
constexpr ReplicaId kD{4};

std::size_t reset_entries(const PnCounter& counter) {
  const auto& entries = counter.state().store.entries();
  return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(), [](const auto& item) {
    return item.second.kind == CounterEntry::Kind::kReset;
  }));
}

// Joins every delta into every replica, in the given order for the first replica and in reverse
// order for the others, so the tests also check that delivery order does not matter.
void deliver_all(const std::vector<PnCounter*>& replicas, const std::vector<PnCounter>& deltas) {
  bool first = true;
  for (PnCounter* replica : replicas) {
    if (first) {
      for (const PnCounter& delta : deltas) replica->join(delta);
    } else {
      for (auto it = deltas.rbegin(); it != deltas.rend(); ++it) replica->join(*it);
    }
    first = false;
  }
}

TEST_CASE("pn-counter: an empty counter reads 0 and is not present") {
  const PnCounter counter;
  CHECK(counter.value() == 0);
  CHECK_FALSE(PnCounter::present(counter.state().store));
}

TEST_CASE(
    "pn-counter: increments and decrements from several replicas merge to their sum and may go "
    "negative") {
  PnCounter a, b, c;
  std::vector<PnCounter> deltas;
  deltas.push_back(a.increment(kA, 5));
  deltas.push_back(b.decrement(kB, 8));
  deltas.push_back(c.increment(kC, 1));
  deltas.push_back(c.decrement(kC, 2));
  deltas.push_back(a.decrement(kA));
  CHECK(a.value() == 4);
  CHECK(b.value() == -8);
  CHECK(c.value() == -1);

  deliver_all({&a, &b, &c}, deltas);
  for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 5 - 8 + 1 - 2 - 1);
  CHECK(a == b);
  CHECK(b == c);
  // One contribution entry per contributing replica, whatever the number of operations.
  CHECK(a.state().store.size() == 3);
  CHECK(PnCounter::present(a.state().store));
}

TEST_CASE("pn-counter: a counter whose operations sum to zero is still present") {
  PnCounter a;
  a.increment(kA, 3);
  a.decrement(kA, 3);
  CHECK(a.value() == 0);
  CHECK(PnCounter::present(a.state().store));
}

TEST_CASE("pn-counter: a delta joined twice or a stale delta does not count twice") {
  PnCounter a, b;
  const PnCounter d1 = a.increment(kA, 2);
  const PnCounter d2 = a.increment(kA, 3);
  b.join(d2);
  b.join(d1);
  b.join(d2);
  CHECK(b.value() == 5);
  CHECK(b == a);
}

TEST_CASE("pn-counter: clear resets the counter to 0 on every replica") {
  PnCounter a, b;
  b.join(a.increment(kA, 7));
  b.join(a.decrement(kA, 2));
  const PnCounter clear = b.clear(kB);
  CHECK(b.value() == 0);
  CHECK_FALSE(PnCounter::present(b.state().store));
  a.join(clear);
  CHECK(a.value() == 0);
  CHECK_FALSE(PnCounter::present(a.state().store));
  // Counting again starts from zero.
  b.join(a.increment(kA, 1));
  CHECK(b.value() == 1);
  CHECK(a == b);
}

TEST_CASE(
    "pn-counter: a clear concurrent with further increments of an observed contributor keeps only the "
    "increments it did not observe") {
  PnCounter a, b, c;
  b.join(a.increment(kA, 10));                // B observes A's +10...
  const PnCounter clear = b.clear(kB);        // ...and clears it,
  const PnCounter more = a.increment(kA, 1);  // while A, unaware, adds 1 to its running total of 10.
  deliver_all({&a, &b, &c}, {clear, more});
  c.join(a);  // C also gets A's full state.
  for (const PnCounter* replica : {&a, &b, &c}) {
    CHECK(replica->value() == 1);
    CHECK(PnCounter::present(replica->state().store));
  }
  CHECK(a == b);
  CHECK(b == c);

  // A writes again having seen the clear: it absorbs the reset, which then disappears everywhere.
  REQUIRE(reset_entries(a) == 1);
  const PnCounter absorb = a.increment(kA, 1);
  deliver_all({&b, &c}, {absorb});
  for (const PnCounter* replica : {&a, &b, &c}) {
    CHECK(replica->value() == 2);
    CHECK(reset_entries(*replica) == 0);
    CHECK(replica->state().store.size() == 1);
  }
}

TEST_CASE("pn-counter: a clear concurrent with further decrements keeps only the unobserved decrements") {
  PnCounter a, b;
  b.join(a.decrement(kA, 3));
  b.join(a.increment(kA, 1));
  const PnCounter clear = b.clear(kB);
  const PnCounter more = a.decrement(kA, 2);
  a.join(clear);
  b.join(more);
  CHECK(a.value() == -2);
  CHECK(b.value() == -2);
  CHECK(a == b);
}

TEST_CASE("pn-counter: two concurrent clears that observed different prefixes take off the larger one") {
  PnCounter a, b, c;
  b.join(a.increment(kA, 10));  // B observes 10.
  c.join(b);
  c.join(a.increment(kA, 5));  // C observes 15.
  const PnCounter clear_b = b.clear(kB);
  const PnCounter clear_c = c.clear(kC);
  const PnCounter more = a.increment(kA, 1);  // Concurrent with both clears.
  deliver_all({&a, &b, &c}, {clear_b, clear_c, more});
  for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 1);
  CHECK(a == b);
  CHECK(b == c);
}

TEST_CASE(
    "pn-counter: a contributor that saw one of two concurrent clears and incremented again counts "
    "only what neither clear observed") {
  PnCounter a, b, c;
  b.join(a.increment(kA, 10));  // B observes 10.
  c.join(b);
  c.join(a.increment(kA, 5));  // C observes 15.
  const PnCounter clear_b = b.clear(kB);
  const PnCounter clear_c = c.clear(kC);
  const PnCounter more = a.increment(kA, 1);  // 16, concurrent with both clears: 1 survives.

  SECTION("it saw the smaller clear") {
    a.join(clear_b);
    CHECK(a.value() == 6);                       // A knows only that B's clear took off the first 10.
    const PnCounter again = a.increment(kA, 1);  // Absorbs B's reset (10); C's (15) is still ahead.
    deliver_all({&a, &b, &c}, {clear_b, clear_c, more, again});
    for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 2);
    CHECK(a == b);
    CHECK(b == c);
  }
  SECTION("it saw the larger clear") {
    a.join(clear_c);
    CHECK(a.value() == 1);
    const PnCounter again = a.increment(kA, 1);
    deliver_all({&a, &b, &c}, {clear_b, clear_c, more, again});
    for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 2);
    CHECK(a == b);
    CHECK(b == c);
  }
}

TEST_CASE("pn-counter: a clear of a contribution that already carried an absorbed offset is exact") {
  PnCounter a, b, c;
  b.join(a.increment(kA, 10));
  const PnCounter clear_b = b.clear(kB);
  const PnCounter plus_one = a.increment(kA, 1);  // Survives B's clear.
  deliver_all({&a, &b, &c}, {clear_b, plus_one});
  REQUIRE(a.value() == 1);
  const PnCounter plus_one_more = a.increment(kA, 1);  // Absorbs B's reset: total 12, offset 10.
  deliver_all({&b, &c}, {plus_one_more});
  REQUIRE(c.value() == 2);

  const PnCounter clear_c = c.clear(kC);            // Observes everything so far.
  const PnCounter plus_three = a.increment(kA, 3);  // Concurrent with C's clear.
  deliver_all({&a, &b, &c}, {clear_c, plus_three});
  for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 3);
  CHECK(a == b);
  CHECK(b == c);
}

TEST_CASE(
    "pn-counter: a contributor that saw a clear starts a new chain that an older concurrent clear does "
    "not touch") {
  PnCounter a, b, c;
  const PnCounter ten = a.increment(kA, 10);
  b.join(ten);
  c.join(ten);
  const PnCounter clear_b = b.clear(kB);
  a.join(clear_b);
  REQUIRE(a.value() == 0);
  const PnCounter fresh = a.increment(kA, 1);  // A new chain: nothing of it was observed by any clear.
  const PnCounter clear_c = c.clear(kC);       // Concurrent; it observed only the old chain.
  deliver_all({&a, &b, &c}, {clear_b, fresh, clear_c});
  for (const PnCounter* replica : {&a, &b, &c}) CHECK(replica->value() == 1);
  CHECK(a == b);
  CHECK(b == c);
}

TEST_CASE(
    "pn-counter: a clear concurrent with a first contribution from another replica keeps that "
    "contribution whole") {
  PnCounter a, b, d;
  b.join(a.increment(kA, 4));
  const PnCounter clear = b.clear(kB);
  const PnCounter first = d.decrement(kD, 6);
  deliver_all({&a, &b, &d}, {clear, first});
  for (const PnCounter* replica : {&a, &b, &d}) CHECK(replica->value() == -6);
}

TEST_CASE("pn-counter: repeated clears with no new writes add no metadata") {
  PnCounter a, b;
  b.join(a.increment(kA, 4));
  b.join(a.increment(kA, 1));
  b.clear(kB);
  const std::size_t after_first = b.state().store.size();
  CHECK(after_first == 1);  // One reset for A, which lives until A writes again.
  for (int i = 0; i < 5; ++i) b.clear(kB);
  CHECK(b.state().store.size() == after_first);
  CHECK(b.value() == 0);
}

TEST_CASE(
    "pn-counter: a deleter that clears again each time it sees a new increment keeps one reset for "
    "that contributor") {
  // A keeps incrementing and never hears from B (a one-way partition), while B clears every time it
  // receives one of A's increments. Each new reset of B supersedes B's older resets of the same chain
  // (its totals include theirs), so B must not pile up one reset per clear: that metadata would stay
  // forever if A never wrote again after the partition heals.
  PnCounter a, b;
  for (int round = 0; round < 20; ++round) {
    b.join(a.increment(kA, 1));
    b.clear(kB);
    CHECK(b.value() == 0);
    CHECK(reset_entries(b) == 1);
  }
  // The partition heals: A sees B's state. Everything A added was observed by some clear of B.
  a.join(b);
  CHECK(a.value() == 0);
  CHECK(reset_entries(a) == 1);
  CHECK(a == b);
}

// ---- Metadata compaction of reset entries: the pure part (the store decides what is settled). ----

using CounterState = Causal<PnCounter::Store>;

std::vector<Dot> dots_of(const std::vector<PnCounter::EntryRef>& refs) {
  std::vector<Dot> dots;
  for (PnCounter::EntryRef ref : refs) dots.push_back(ref->first);
  return dots;
}

CounterEntry entry_of(CounterEntry::Kind kind, ReplicaId contributor, Dot chain, std::uint64_t increments) {
  CounterEntry entry;
  entry.kind = kind;
  entry.contributor = contributor;
  entry.chain = chain;
  entry.increments = increments;
  return entry;
}

TEST_CASE("pn-counter gc: a deleter holding only the reset of a contributor's chain sees it as orphaned") {
  PnCounter a, b;
  b.join(a.increment(kA, 3));
  b.clear(kB);
  REQUIRE(reset_entries(b) == 1);
  CHECK(PnCounter::holds_resets(b.state().store));
  const auto orphaned = PnCounter::orphaned_resets(b.state().store);
  REQUIRE(orphaned.size() == 1);
  CHECK(orphaned.front()->second.contributor == kA);
  CHECK_FALSE(PnCounter::holds_resets(a.state().store));
  CHECK(PnCounter::orphaned_resets(a.state().store).empty());
}

TEST_CASE("pn-counter gc: a reset whose chain still has a contribution in the store is not orphaned") {
  PnCounter a, b;
  b.join(a.increment(kA, 3));
  const PnCounter clear = b.clear(kB);
  const PnCounter concurrent = a.increment(kA, 1);  // A extends the chain without having seen the clear.
  b.join(concurrent);
  a.join(clear);
  for (const PnCounter* replica : {&a, &b}) {
    CHECK(reset_entries(*replica) == 1);
    CHECK(PnCounter::orphaned_resets(replica->state().store).empty());
    CHECK(replica->value() == 1);
  }
}

TEST_CASE("pn-counter gc: only resets of chains with no contribution at all are orphaned") {
  // Built by hand: contributor A has a live chain Y with a reset, and an older reset of chain X.
  const Dot chain_x{kA, 1}, chain_y{kA, 5};
  PnCounter::Store store;
  store.insert(Dot{kB, 1}, entry_of(CounterEntry::Kind::kReset, kA, chain_x, 4));
  store.insert(Dot{kB, 2}, entry_of(CounterEntry::Kind::kReset, kA, chain_y, 1));
  store.insert(Dot{kA, 6}, entry_of(CounterEntry::Kind::kContribution, kA, chain_y, 3));
  store.insert(Dot{kC, 1}, entry_of(CounterEntry::Kind::kReset, kC, Dot{kC, 1}, 2));
  CHECK(dots_of(PnCounter::orphaned_resets(store)) == std::vector<Dot>{Dot{kB, 1}, Dot{kC, 1}});
  CHECK(PnCounter::value_of(store) == 2);
}

TEST_CASE(
    "pn-counter gc: dropping settled orphaned resets keeps the value, and joins do not bring them back") {
  PnCounter a, b, c;
  b.join(a.increment(kA, 3));
  b.join(c.decrement(kC, 2));
  const PnCounter clear = b.clear(kB);
  REQUIRE(reset_entries(b) == 2);

  CounterState compacted = b.state();
  // Only A's reset is declared settled: C's stays.
  compacted.store = PnCounter::without_settled_resets(
      compacted.store, [](const Dot&, const CounterEntry& reset) { return reset.contributor == kA; });
  REQUIRE(compacted.store.size() == 1);
  CHECK(compacted.store.entries().begin()->second.contributor == kC);
  CHECK(PnCounter::value_of(compacted.store) == b.value());
  CHECK(PnCounter::present(compacted.store) == PnCounter::present(b.state().store));

  // The same predicate never drops a reset whose chain has a contribution.
  CHECK(PnCounter::without_settled_resets(
            a.state().store, [](const Dot&, const CounterEntry&) { return true; }) == a.state().store);

  // The context still holds the dropped dot: the old clear delta, or B's whole old state, is a no-op.
  const CounterState before = compacted;
  compacted.join(clear.state());
  compacted.join(b.state());
  CHECK(compacted == before);

  // Everything dropped: the record is empty.
  compacted.store = PnCounter::without_settled_resets(compacted.store,
                                                      [](const Dot&, const CounterEntry&) { return true; });
  CHECK(compacted.store.empty());
  CHECK_FALSE(PnCounter::holds_resets(compacted.store));
}

TEST_CASE(
    "pn-counter gc: a reset dropped while a contribution of its chain is in flight revives deleted "
    "increments") {
  // Why the store's rule needs more than "orphaned": B holds only the reset of A's chain, but A's
  // concurrent increment (which extends the deleted running total 10 -> 11) is still on its way.
  PnCounter a, b;
  b.join(a.increment(kA, 10));
  b.clear(kB);
  const PnCounter in_flight = a.increment(kA, 1);
  REQUIRE(PnCounter::orphaned_resets(b.state().store).size() == 1);

  CounterState kept = b.state();
  kept.join(in_flight.state());
  CHECK(PnCounter::value_of(kept.store) == 1);  // Right: only the unobserved +1.

  CounterState too_early = b.state();
  too_early.store = PnCounter::without_settled_resets(too_early.store,
                                                      [](const Dot&, const CounterEntry&) { return true; });
  too_early.join(in_flight.state());
  CHECK(PnCounter::value_of(too_early.store) == 11);  // Wrong: the deleted +10 is back.
}

// ---- The int64 range (check_add, total_of, value_of). ----

constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
using Check = PnCounter::AddCheck;

TEST_CASE("pn-counter range: an add past INT64_MAX or INT64_MIN is refused, one up to either edge is not") {
  PnCounter up;
  REQUIRE(PnCounter::check_add(up.state().store, kA, kMax, 0) == Check::kOk);
  up.increment(kA, kMax);
  CHECK(up.value() == std::numeric_limits<std::int64_t>::max());
  CHECK(PnCounter::check_add(up.state().store, kA, 1, 0) == Check::kValueOutOfRange);
  CHECK(PnCounter::check_add(up.state().store, kB, 1, 0) == Check::kValueOutOfRange);  // Any replica.
  CHECK(PnCounter::check_add(up.state().store, kA, 0, 1) == Check::kOk);

  PnCounter down;
  // INT64_MIN is one further from 0 than INT64_MAX: a decrement of 2^63 from 0 fits exactly.
  REQUIRE(PnCounter::check_add(down.state().store, kB, 0, kMax + 1) == Check::kOk);
  down.decrement(kB, kMax + 1);
  CHECK(down.value() == std::numeric_limits<std::int64_t>::min());
  CHECK(PnCounter::check_add(down.state().store, kB, 0, 1) == Check::kValueOutOfRange);
  CHECK(PnCounter::check_add(down.state().store, kB, 1, 0) == Check::kOk);
  CHECK(PnCounter::check_add(PnCounter().state().store, kC, 0, kMax + 2) == Check::kValueOutOfRange);
}

TEST_CASE("pn-counter range: contributions merged past INT64_MAX read as absent with their exact total") {
  PnCounter a, b;
  const PnCounter from_a = a.increment(kA, kMax);
  const PnCounter from_b = b.increment(kB, kMax);
  a.join(from_b);
  b.join(from_a);
  for (const PnCounter* replica : {&a, &b}) {
    CHECK_FALSE(replica->value().has_value());  // Not the wrapped -2.
    CHECK((PnCounter::total_of(replica->state().store) == CounterTotal{2} * kMax));  // No Catch printer for 128 bits.
    CHECK(PnCounter::present(replica->state().store));
  }
  // Out of range, an add that moves the value back toward it is accepted, one moving away is not.
  CHECK(PnCounter::check_add(a.state().store, kA, 1, 0) == Check::kValueOutOfRange);
  REQUIRE(PnCounter::check_add(a.state().store, kA, 0, 1) == Check::kOk);
  a.decrement(kA, kMax);
  CHECK(a.value() == std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("pn-counter range: a running total that would pass 2^64-1 is refused although the value fits, until a clear") {
  PnCounter a;
  for (int round = 0; round < 2; ++round) {
    a.increment(kA, kMax);
    a.decrement(kA, kMax);
  }
  REQUIRE(a.value() == 0);  // Running totals 2^64-2 each.
  CHECK(PnCounter::check_add(a.state().store, kA, 1, 0) == Check::kOk);
  CHECK(PnCounter::check_add(a.state().store, kA, 2, 0) == Check::kRunningTotalOverflow);
  CHECK(PnCounter::check_add(a.state().store, kA, 0, 2) == Check::kRunningTotalOverflow);
  CHECK(PnCounter::check_add(a.state().store, kB, 2, 0) == Check::kOk);  // Another replica's totals are its own.

  // A clear that saw the totals lets the next write start a new chain from zero.
  PnCounter b;
  b.join(a);
  a.join(b.clear(kB));
  REQUIRE(PnCounter::check_add(a.state().store, kA, kMax, 0) == Check::kOk);
  a.increment(kA, kMax);
  CHECK(a.value() == std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace cairn::crdt
