// Lifeguard's rules in Membership (gossip/membership.h): local health after a stall, dynamic
// suspicion timeouts, and dead members that never block new ones. Driven message by message, so each
// rule is seen alone; tests/gossip/sim/cluster_test.cpp runs them inside whole clusters.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "gossip/membership.h"
#include "gossip/sim/cluster.h"
#include "tests/gossip/sim/fast_cluster_options.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_env.h"

namespace cairn::gossip {
namespace {

constexpr std::uint64_t kCluster = 77;

Endpoint endpoint_of_peer(std::uint64_t id) { return Endpoint{"10.2.0." + std::to_string(id), 7400}; }

Envelope ping_from(std::uint64_t sender, std::vector<MemberUpdate> updates = {}) {
  return Envelope{kCluster, PeerId{sender}, endpoint_of_peer(sender), Ping{1000 + sender, std::move(updates)}};
}

MembershipOptions quick_options() {
  MembershipOptions options;
  options.protocol_period_ms = 100;
  options.ping_timeout_ms = 20;
  options.suspicion_timeout_ms = 200;
  options.dead_probe_interval_ms = 0;
  options.forget_dead_after_ms = 0;
  return options;
}

// Ticks every 10 ms from `from_ms` to `to_ms`; nobody answers.
void tick_through(Membership& membership, std::uint64_t from_ms, std::uint64_t to_ms) {
  for (std::uint64_t t = from_ms; t <= to_ms; t += 10) membership.tick(t);
}

MemberStatus status_of(const Membership& membership, std::uint64_t id) {
  return membership.members().at(PeerId{id}).status;
}

TEST_CASE("a member table full of dead members takes a new member in place of the longest dead",
          "[lifeguard]") {
  MembershipOptions options = quick_options();
  options.max_members = 4;
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
  membership.join({}, 1);
  for (std::uint64_t id = 2; id <= 5; ++id) membership.on_message(ping_from(id), 1);
  REQUIRE(membership.members().size() == 4);
  // Nobody ever answers a probe: every member is suspected, then declared dead.
  tick_through(membership, 10, 20'000);
  for (std::uint64_t id = 2; id <= 5; ++id) REQUIRE(status_of(membership, id) == MemberStatus::kDead);

  membership.on_message(ping_from(6), 20'010);
  const auto members = membership.members();
  REQUIRE(members.size() == 4);
  REQUIRE(members.contains(PeerId{6}));
  CHECK(members.at(PeerId{6}).status == MemberStatus::kAlive);
  CHECK(membership.stats().forgotten_dead == 1);
  CHECK(membership.stats().ignored_full_table == 0);
}

TEST_CASE("a full table of live members still ignores a newcomer", "[lifeguard]") {
  MembershipOptions options = quick_options();
  options.max_members = 2;
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
  membership.join({}, 1);
  membership.on_message(ping_from(2), 1);
  membership.on_message(ping_from(3), 1);
  membership.on_message(ping_from(4), 2);
  CHECK(membership.members().size() == 2);
  CHECK_FALSE(membership.members().contains(PeerId{4}));
  CHECK(membership.stats().ignored_full_table == 1);
}

TEST_CASE("dead members are forgotten forget_dead_after_ms after they died", "[lifeguard]") {
  MembershipOptions options = quick_options();
  options.forget_dead_after_ms = 5'000;
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
  membership.join({}, 1);
  membership.on_message(ping_from(2), 1);
  tick_through(membership, 10, 3'000);
  REQUIRE(status_of(membership, 2) == MemberStatus::kDead);
  const std::uint64_t died_ms = membership.members().at(PeerId{2}).status_since_ms;
  tick_through(membership, 3'010, died_ms + 4'900);
  CHECK(membership.members().contains(PeerId{2}));
  tick_through(membership, died_ms + 4'910, died_ms + 5'200);
  CHECK_FALSE(membership.members().contains(PeerId{2}));
  CHECK(membership.stats().forgotten_dead == 1);
}

// A peer that stalls right after probing a member would find the probe unanswered when it runs again,
// although the ack may sit unread in its own socket buffer.
void stalled_prober(int max_local_health, bool expect_suspicion) {
  MembershipOptions options = quick_options();
  options.max_local_health = max_local_health;
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
  membership.join({}, 1);
  membership.on_message(ping_from(2), 1);
  membership.tick(10);  // The period starts: member 2 is probed.
  REQUIRE(membership.stats().pings_sent >= 1);
  membership.tick(3'000);  // Three seconds without running.
  CHECK((status_of(membership, 2) == MemberStatus::kSuspect) == expect_suspicion);
  if (max_local_health > 0) {
    CHECK(membership.stats().stalls == 1);
    CHECK(membership.local_health() > 0);
  }
}

TEST_CASE("a peer that missed its own timers does not suspect the member it was probing", "[lifeguard]") {
  SECTION("with local health") { stalled_prober(8, false); }
  SECTION("plain SWIM suspects it") { stalled_prober(0, true); }
}

TEST_CASE("a slow peer's local health stretches its probe period and recovers with acked probes",
          "[lifeguard]") {
  MembershipOptions options = quick_options();
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
  membership.join({}, 1);
  membership.on_message(ping_from(2), 1);
  membership.tick(10);
  membership.tick(3'000);
  const int health = membership.local_health();
  REQUIRE(health >= 2);
  // The next probe is (health + 1) periods away, not one.
  const auto pings = membership.stats().pings_sent;
  tick_through(membership, 3'010, 3'000 + options.protocol_period_ms * static_cast<std::uint64_t>(health) - 10);
  CHECK(membership.stats().pings_sent == pings);
}

TEST_CASE("a suspicion shrinks from its longest to suspicion_timeout_ms as accusers confirm it",
          "[lifeguard]") {
  MembershipOptions options = quick_options();
  options.suspicion_max_multiplier = 4;
  options.indirect_probes = 3;
  options.protocol_period_ms = 100'000;  // No probes of our own in this test.
  // Enough members that three confirmations can exist (in a smaller cluster the timeout is the shortest).
  for (const int accusers : {1, 4}) {
    Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, options, 7);
    membership.join({}, 1);
    membership.on_message(ping_from(9), 1);
    for (std::uint64_t other = 20; other < 24; ++other) membership.on_message(ping_from(other), 1);
    for (std::uint64_t a = 2; a < 2 + static_cast<std::uint64_t>(accusers); ++a) {
      membership.on_message(
          ping_from(a, {MemberUpdate{PeerId{9}, endpoint_of_peer(9), MemberStatus::kSuspect, 0, PeerId{a}}}), 5);
    }
    REQUIRE(status_of(membership, 9) == MemberStatus::kSuspect);
    membership.tick(5 + options.suspicion_timeout_ms);
    if (accusers == 1) {
      CHECK(status_of(membership, 9) == MemberStatus::kSuspect);  // Waits up to 4x longer.
      membership.tick(5 + 4 * options.suspicion_timeout_ms);
      CHECK(status_of(membership, 9) == MemberStatus::kDead);
    } else {
      CHECK(status_of(membership, 9) == MemberStatus::kDead);  // Three confirmations: the shortest.
      CHECK(membership.stats().suspicion_confirmations == 3);
    }
  }
}

TEST_CASE("a member first heard of as suspect is declared dead when its suspicion runs out", "[lifeguard]") {
  Membership membership(PeerId{1}, endpoint_of_peer(1), kCluster, quick_options(), 7);
  membership.join({}, 1);
  membership.on_message(
      ping_from(2, {MemberUpdate{PeerId{9}, endpoint_of_peer(9), MemberStatus::kSuspect, 0, PeerId{2}}}), 5);
  REQUIRE(status_of(membership, 9) == MemberStatus::kSuspect);
  // Two members besides us: too few for confirmations, so the plain timeout applies.
  tick_through(membership, 10, 5 + quick_options().suspicion_timeout_ms + 20);
  CHECK(status_of(membership, 9) == MemberStatus::kDead);
}

TEST_CASE("a simulated peer that stalls suspects nobody when it wakes, and stays alive in every view",
          "[lifeguard]") {
  test::TempDir dir;
  const int peers = test::scaled_size(10, 5);
  sim::Cluster cluster(dir.path(), sim::fast_cluster_options(peers, 41, "stall"));
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
  cluster.run_for(2'000);
  for (int round = 0; round < 3; ++round) {
    const int victim = 1 + round;
    const auto before = cluster.peer(victim).membership().stats();
    // Shorter than the suspicion timeout (2 s), so nobody may declare it dead either.
    cluster.stall(victim, 1'500);
    cluster.run_for(500);
    CHECK(cluster.stalled(victim));
    REQUIRE(cluster.run_until([&] { return !cluster.stalled(victim); }, 5'000));
    cluster.run_for(3'000);
    const auto after = cluster.peer(victim).membership().stats();
    CHECK(after.stalls == before.stalls + 1);
    CHECK(after.suspicions == before.suspicions);
    CHECK(cluster.everyone_knows_everyone());
  }
  for (int i = 0; i < cluster.size(); ++i) CHECK(cluster.peer(i).membership().stats().deaths == 0);
}

}  // namespace
}  // namespace cairn::gossip
