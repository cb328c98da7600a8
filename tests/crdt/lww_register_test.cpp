#include "crdt/lww_register.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "crdt/lattice.h"

namespace cairn::crdt {
namespace {

class FakeWallClock final : public WallClock {
 public:
  explicit FakeWallClock(std::uint64_t start_ms) : now_(start_ms) {}
  std::uint64_t now_ms() override { return now_; }

 private:
  std::uint64_t now_;
};

// One replica of a register: its id, its own (possibly skewed) wall clock and HLC, and its state.
struct Replica {
  Replica(std::uint64_t id_value, std::uint64_t wall_ms) : id{id_value}, wall(wall_ms), clock(wall) {}

  LwwRegister write(const std::string& value) { return reg.write(id, value, clock.now()); }

  ReplicaId id;
  FakeWallClock wall;
  HybridClock clock;
  LwwRegister reg;
};

// The values a register holds, winner first.
std::vector<std::string> versions_of(const LwwRegister& reg) {
  std::vector<std::string> values;
  for (const LwwVersion& version : LwwRegister::versions(reg.state().store)) {
    values.push_back(version.entry->value);
  }
  return values;
}

TEST_CASE("lww: an empty register reads nothing") {
  const LwwRegister reg;
  CHECK_FALSE(reg.value().has_value());
  CHECK(LwwRegister::versions(reg.state().store).empty());
  CHECK_FALSE(LwwRegister::winner(reg.state().store).has_value());
  CHECK_FALSE(LwwRegister::present(reg.state().store));
}

TEST_CASE("lww: a later write on the same replica replaces the earlier one") {
  Replica a(1, 1000);
  a.write("one");
  a.write("two");
  CHECK(a.reg.value() == "two");
  CHECK(versions_of(a.reg) == std::vector<std::string>{"two"});
  CHECK(a.reg.state().store.size() == 1);
}

TEST_CASE(
    "lww: a causally later write wins although its writer's clock is far behind and never observed the "
    "earlier timestamp") {
  Replica a(1, 10'000'000);  // Wall clock far ahead.
  Replica b(2, 1'000);       // Wall clock far behind.
  const LwwRegister from_a = a.write("from-a");
  b.reg.join(from_a);  // B sees A's write; its HLC is NOT told about A's timestamp.
  const LwwRegister from_b = b.write("from-b");

  const auto b_stamp = LwwRegister::winner(from_b.state().store)->entry->timestamp;
  const auto a_stamp = LwwRegister::winner(from_a.state().store)->entry->timestamp;
  REQUIRE(b_stamp < a_stamp);  // The premise: B's write carries the smaller HLC.

  a.reg.join(from_b);
  for (const LwwRegister* reg : {&a.reg, &b.reg}) {
    CHECK(reg->value() == "from-b");
    // A's entry is covered by B's write, not kept as a concurrent loser.
    CHECK(versions_of(*reg) == std::vector<std::string>{"from-b"});
  }
  // A third replica that receives the two deltas in the opposite order agrees.
  LwwRegister c;
  c.join(from_b);
  c.join(from_a);
  CHECK(c.value() == "from-b");
  CHECK(versions_of(c) == std::vector<std::string>{"from-b"});
  CHECK(c == a.reg);
  CHECK(c == b.reg);
}

TEST_CASE("lww: a causally later write wins when its writer's HLC observed the earlier timestamp") {
  Replica a(1, 10'000'000);
  Replica b(2, 1'000);
  const LwwRegister from_a = a.write("from-a");
  b.reg.join(from_a);
  b.clock.observe(LwwRegister::winner(from_a.state().store)->entry->timestamp);
  const LwwRegister from_b = b.write("from-b");

  const auto b_stamp = LwwRegister::winner(from_b.state().store)->entry->timestamp;
  const auto a_stamp = LwwRegister::winner(from_a.state().store)->entry->timestamp;
  CHECK(b_stamp > a_stamp);  // The HLC moved B past A despite B's slow wall clock.

  a.reg.join(from_b);
  LwwRegister c;
  c.join(from_b);
  c.join(from_a);
  for (const LwwRegister* reg : {&a.reg, &b.reg, &c}) {
    CHECK(reg->value() == "from-b");
    CHECK(versions_of(*reg) == std::vector<std::string>{"from-b"});
  }
}

TEST_CASE("lww: concurrent writes are ordered by HLC so a skewed clock decides only concurrent conflicts") {
  Replica a(1, 10'000'000);
  Replica b(2, 1'000);
  const LwwRegister from_a = a.write("from-a");
  const LwwRegister from_b = b.write("from-b");  // B has not seen A's write.
  a.reg.join(from_b);
  b.reg.join(from_a);
  for (const LwwRegister* reg : {&a.reg, &b.reg}) {
    CHECK(reg->value() == "from-a");
    CHECK(versions_of(*reg) == std::vector<std::string>{"from-a", "from-b"});
  }
}

// riak_dt's lww register and the delta-enabled-crdts reference code break a timestamp tie by the
// order of the join's arguments (the left or the right side wins), so two replicas that merge in
// opposite orders can read different values forever. This test catches that: the tie must be broken
// by replica id, identically on every replica and in either join order.
TEST_CASE(
    "lww: concurrent writes with identical HLC timestamps resolve to the larger replica id on every "
    "replica and in either join order") {
  const HlcTimestamp same{5'000, 3};
  const ReplicaId small{7};
  const ReplicaId large{9};
  LwwRegister x, y;
  const LwwRegister from_large = x.write(large, "from-large", same);
  const LwwRegister from_small = y.write(small, "from-small", same);

  const LwwRegister large_then_small = joined(from_large, from_small);  // large.join(small)
  const LwwRegister small_then_large = joined(from_small, from_large);  // small.join(large)
  const LwwRegister x_after = joined(x, y);                             // Replica x receives y's state...
  const LwwRegister y_after = joined(y, x);                             // ...and y receives x's.
  for (const LwwRegister* reg : {&large_then_small, &small_then_large, &x_after, &y_after}) {
    CHECK(reg->value() == "from-large");
    const auto versions = LwwRegister::versions(reg->state().store);
    REQUIRE(versions.size() == 2);
    CHECK(versions[0].dot.replica == large);
    CHECK(versions[0].entry->value == "from-large");
    // The loser stays inspectable.
    CHECK(versions[1].dot.replica == small);
    CHECK(versions[1].entry->value == "from-small");
    CHECK(versions[1].entry->timestamp == same);
  }
  CHECK(large_then_small == small_then_large);
  CHECK(x_after == y_after);
}

TEST_CASE("lww: concurrent writes both survive until a write that observed both covers them") {
  Replica a(1, 1'000), b(2, 1'000), c(3, 1'000);
  const LwwRegister from_a = a.write("from-a");
  const LwwRegister from_b = b.write("from-b");
  c.reg.join(from_a);
  c.reg.join(from_b);
  a.reg.join(from_b);
  b.reg.join(from_a);
  for (const LwwRegister* reg : {&a.reg, &b.reg, &c.reg}) {
    CHECK(reg->value() == "from-b");  // Same HLC: the larger replica id wins.
    CHECK(versions_of(*reg) == std::vector<std::string>{"from-b", "from-a"});
  }

  // A write that observed only one of them covers only that one.
  Replica d(4, 1'000);
  d.reg.join(from_a);
  const LwwRegister from_d = d.write("from-d");
  LwwRegister partial = c.reg;
  partial.join(from_d);
  // A's entry is gone; B's survives next to D's (same HLC, so replica 4 beats replica 2).
  CHECK(versions_of(partial) == std::vector<std::string>{"from-d", "from-b"});

  // C observed both: its write covers both on every replica.
  const LwwRegister from_c = c.write("from-c");
  a.reg.join(from_c);
  b.reg.join(from_c);
  for (const LwwRegister* reg : {&a.reg, &b.reg, &c.reg}) {
    CHECK(versions_of(*reg) == std::vector<std::string>{"from-c"});
  }
}

TEST_CASE("lww: clear removes the entries it observed and a concurrent write survives it") {
  Replica a(1, 1'000), b(2, 1'000);
  const LwwRegister first = a.write("first");
  b.reg.join(first);
  const LwwRegister cleared = b.reg.clear(b.id);
  CHECK_FALSE(b.reg.value().has_value());
  const LwwRegister concurrent = a.write("second");  // A has not seen the clear.
  a.reg.join(cleared);
  b.reg.join(concurrent);
  CHECK(a.reg.value() == "second");
  CHECK(b.reg.value() == "second");
  CHECK(versions_of(a.reg) == std::vector<std::string>{"second"});
  CHECK(a.reg == b.reg);
}

TEST_CASE("lww: a delta joined twice or out of order changes nothing more") {
  Replica a(1, 1'000);
  const LwwRegister d1 = a.write("one");
  const LwwRegister d2 = a.write("two");
  LwwRegister r;
  r.join(d2);
  r.join(d1);  // Stale: d2's context covers d1's dot.
  r.join(d2);
  CHECK(r.value() == "two");
  CHECK(r == a.reg);
}

}  // namespace
}  // namespace cairn::crdt
