// Whole clusters of gossip peers in the simulator: real stores, the real protocol, a seeded network
// with loss, duplication, reordering, crashes and restarts, all in virtual time.
#include "gossip/sim/cluster.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>

#include "tests/support/property.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_env.h"

namespace cairn::sim {
namespace {

ClusterOptions options_for(int peers, std::uint64_t seed, double loss) {
  ClusterOptions options;
  options.peers = peers;
  options.seed = seed;
  options.faults.loss = loss;
  options.faults.duplicate = loss > 0 ? 0.05 : 0;
  options.faults.min_delay_ms = 1;
  options.faults.max_delay_ms = 20;  // Frames overtake each other: reordering.
  options.peer.cluster_name = "sim";
  options.peer.gossip_interval_ms = 100;
  options.peer.membership.protocol_period_ms = 500;
  options.peer.membership.ping_timeout_ms = 150;
  options.peer.membership.suspicion_timeout_ms = 3000;
  options.peer.dissemination.resend_after_ms = 400;
  return options;
}

// Random writes of every kind at random peers, spread over `duration_ms`.
void random_workload(Cluster& cluster, Rng& rng, int operations, std::uint64_t duration_ms) {
  for (int op = 0; op < operations; ++op) {
    cluster.run_for(duration_ms / static_cast<std::uint64_t>(operations));
    const int at = static_cast<int>(rng.below(static_cast<std::uint64_t>(cluster.size())));
    if (!cluster.running(at)) continue;
    Store& store = cluster.store(at);
    const std::string suffix = std::to_string(rng.below(4));
    switch (rng.below(6)) {
      case 0: REQUIRE(store.put("reg/" + suffix, "v" + std::to_string(op))); break;
      case 1: REQUIRE(store.sadd("set/" + suffix, {"m" + std::to_string(rng.below(5))})); break;
      case 2: REQUIRE(store.srem("set/" + suffix, {"m" + std::to_string(rng.below(5))})); break;
      case 3: REQUIRE(store.incr("count/" + suffix, rng.below(10))); break;
      case 4: REQUIRE(store.decr("count/" + suffix, rng.below(10))); break;
      default: REQUIRE(store.del((rng.below(2) ? "reg/" : "set/") + suffix)); break;
    }
  }
}

void converges_under(int peers, double loss, std::uint64_t histories) {
  test::for_each_history("sim cluster converges, " + std::to_string(peers) + " peers, loss " + std::to_string(loss),
                         histories, [&](Rng& rng) {
                           test::TempDir dir;
                           Cluster cluster(dir.path(), options_for(peers, rng.next(), loss));
                           cluster.start_all();
                           REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
                           random_workload(cluster, rng, 40, 4'000);
                           const auto took = cluster.run_until([&] { return cluster.converged(); }, 60'000, 100);
                           INFO("peer 0: " << cluster.digest(0));
                           REQUIRE(took.has_value());
                         });
}

TEST_CASE("sim: 3 peers converge with no loss, and with 10% and 30% loss plus duplication and reordering") {
  converges_under(3, 0.0, 5);
  converges_under(3, 0.10, 5);
  converges_under(3, 0.30, 5);
}

TEST_CASE("sim: 10 peers converge with no loss, and with 10% and 30% loss plus duplication and reordering") {
  converges_under(10, 0.0, 2);
  converges_under(10, 0.10, 2);
  converges_under(10, 0.30, 2);
}

TEST_CASE("sim: a write reaches all peers (200 at full scale) within 3 x log2(N) gossip rounds") {
  const int peers = test::scaled_size(200, 16);
  test::TempDir dir;
  ClusterOptions options = options_for(peers, 200, 0.0);
  options.seed_peers = 3;
  Cluster cluster(dir.path(), options);
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 120'000, 500));
  cluster.run_for(1'000);  // Let neighbour sets settle and logs drain.

  REQUIRE(cluster.store(peers / 2).put("news", "from the middle peer"));
  auto everyone_has_it = [&] {
    for (int i = 0; i < cluster.size(); ++i) {
      auto value = cluster.store(i).get("news");
      if (!value || value->value != "from the middle peer") return false;
    }
    return true;
  };
  const auto took_ms = cluster.run_until(everyone_has_it, 30'000, options.peer.gossip_interval_ms);
  REQUIRE(took_ms.has_value());
  const double rounds = std::ceil(static_cast<double>(*took_ms) / static_cast<double>(options.peer.gossip_interval_ms));
  const double bound = 3 * std::log2(static_cast<double>(peers));
  INFO("rounds to reach all " << peers << " peers: " << rounds << " (bound " << bound << ")");
  CHECK(rounds <= bound);
  std::printf("sim: a write reached %d peers in %.0f gossip rounds (bound %.1f)\n", peers, rounds, bound);
}

TEST_CASE("sim: a crashed peer is declared dead, and alive again when it returns with its data") {
  test::TempDir dir;
  Cluster cluster(dir.path(), options_for(5, 5, 0.0));
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 30'000));
  const gossip::PeerId crashed = cluster.peer(3).id();
  REQUIRE(cluster.store(3).put("before", "crash"));
  REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 30'000));

  cluster.crash(3);
  auto everyone_sees = [&](gossip::MemberStatus status) {
    for (int i = 0; i < cluster.size(); ++i) {
      if (!cluster.running(i) || i == 3) continue;  // Every other peer's view of peer 3.
      const auto& members = cluster.peer(i).membership().members();
      auto it = members.find(crashed);
      if (it == members.end() || it->second.status != status) return false;
    }
    return true;
  };
  REQUIRE(cluster.run_until([&] { return everyone_sees(gossip::MemberStatus::kDead); }, 30'000));

  REQUIRE(cluster.store(0).put("during", "outage"));
  cluster.restart(3);
  REQUIRE(cluster.run_until([&] { return everyone_sees(gossip::MemberStatus::kAlive); }, 30'000));
  // It outbid its old incarnation to come back, and it knows the whole cluster again.
  CHECK(cluster.peer(3).membership().incarnation() > 0);
  CHECK(cluster.peer(3).membership().reachable_members().size() == 4);
  CHECK(cluster.store(3).get("before")->value == "crash");
}

}  // namespace
}  // namespace cairn::sim

namespace cairn::sim {
namespace {

TEST_CASE("sim: the largest value the store accepts (16 MiB) replicates to every peer") {
  test::TempDir dir;
  Cluster cluster(dir.path(), options_for(3, 16, 0.0));
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 30'000));
  const std::string largest(kMaxValueBytes, 'x');
  REQUIRE(cluster.store(0).put("large", largest));
  auto everyone_has_it = [&] {
    for (int i = 0; i < cluster.size(); ++i) {
      auto value = cluster.store(i).get("large");
      if (!value || value->value.size() != largest.size()) return false;
    }
    return true;
  };
  REQUIRE(cluster.run_until(everyone_has_it, 30'000));
  CHECK(cluster.store(2).get("large")->value == largest);
}

}  // namespace
}  // namespace cairn::sim

namespace cairn::sim {
namespace {

TEST_CASE("sim: a restarted peer finds its cluster through remembered members when its seed is down") {
  test::TempDir dir;
  Cluster cluster(dir.path(), options_for(5, 55, 0.0));  // Peer 0 is everyone's only seed.
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 30'000));
  cluster.run_for(2'000);  // Membership changes are saved to the store on gossip ticks.
  cluster.crash(3);
  cluster.crash(0);
  cluster.run_for(1'000);
  cluster.restart(3);
  auto rejoined = [&] {
    for (int i : {1, 2, 4}) {
      const auto& members = cluster.peer(i).membership().members();
      auto it = members.find(cluster.peer(3).id());
      if (it == members.end() || it->second.status != gossip::MemberStatus::kAlive) return false;
    }
    return cluster.peer(3).membership().reachable_members().size() >= 3;
  };
  CHECK(cluster.run_until(rejoined, 30'000));
}

}  // namespace
}  // namespace cairn::sim

namespace cairn::sim {
namespace {

TEST_CASE("sim: the same seed gives the same replica ids, neighbours and traffic") {
  auto run = [](std::uint64_t seed) {
    test::TempDir dir;
    Cluster cluster(dir.path(), options_for(10, seed, 0.1));
    cluster.start_all();
    cluster.run_for(5'000);
    std::ostringstream trace;
    for (int i = 0; i < cluster.size(); ++i) {
      trace << cluster.peer(i).id().value << ":";
      for (auto neighbour : cluster.peer(i).neighbours()) trace << neighbour.value << ",";
      trace << ";";
    }
    trace << cluster.network().stats().datagram.delivered.frames << "/" << cluster.network().stats().stream.sent.frames;
    return trace.str();
  };
  const std::string first = run(77);
  CHECK(run(77) == first);
  CHECK(run(78) != first);
}

}  // namespace
}  // namespace cairn::sim
