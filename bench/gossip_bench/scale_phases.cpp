// gossip_bench figures 4 and 5: the simulator at scale (join, rounds to converge, per-peer load with and
// without writes, settling after a 10% join and a 10% crash, simulated events per wall second), and
// the false-positive rate of failure detection when random peers stall, with and without Lifeguard.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

#include "bench/gossip_bench/gossip_bench.h"
#include "gossip/sim/cluster.h"

namespace gossip_bench {
namespace {

// The simulator tests' timers (as sim_phases.cpp), for `peers` peers. Context reports are off: they are
// all-to-all today (issue 20 item 1) and would dominate every figure here; their cost is in g_membership.
cairn::sim::ClusterOptions scale_options(std::size_t peers, std::uint64_t seed) {
  cairn::sim::ClusterOptions options;
  options.peers = static_cast<int>(peers);
  options.seed = seed;
  options.seed_peers = 3;
  options.faults.min_delay_ms = 1;
  options.faults.max_delay_ms = 20;
  options.peer.cluster_name = "sim";
  options.peer.security.insecure = true;  // Sealing costs wall time, not simulated behaviour.
  options.peer.gossip_interval_ms = 100;
  options.peer.membership.protocol_period_ms = 500;
  options.peer.membership.ping_timeout_ms = 150;
  options.peer.membership.suspicion_timeout_ms = 3000;
  options.peer.membership.max_members = std::max<std::size_t>(peers * 2, 64);
  options.peer.dissemination.resend_after_ms = 400;
  options.peer.stability.report_interval_ms = 0;
  return options;
}

struct Load {
  std::uint64_t frames = 0, bytes = 0;
};

Load load_of(cairn::sim::Cluster& cluster) {
  const auto& stats = cluster.network().stats();
  return Load{stats.datagram.sent.frames + stats.stream.sent.frames,
              stats.datagram.sent.bytes + stats.stream.sent.bytes};
}

// Every running peer holds every other running peer reachable and no other.
bool membership_settled(cairn::sim::Cluster& cluster) {
  std::size_t running = 0;
  for (int i = 0; i < cluster.size(); ++i) running += cluster.running(i) ? 1 : 0;
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    if (cluster.peer(i).membership().reachable_members().size() != running - 1) return false;
  }
  return true;
}

// Per peer and virtual second: frames and bytes sent over `seconds`, with `writes_per_s` writes a
// second at random peers.
std::pair<double, double> per_peer_load(cairn::sim::Cluster& cluster, cairn::Rng& rng, std::uint64_t seconds,
                                        std::size_t writes_per_s, std::size_t& key) {
  const Load before = load_of(cluster);
  for (std::uint64_t s = 0; s < seconds; ++s) {
    for (std::size_t w = 0; w < writes_per_s; ++w) {
      const int writer = static_cast<int>(rng.below(static_cast<std::uint64_t>(cluster.size())));
      if (cluster.running(writer)) (void)cluster.store(writer).put("l/" + std::to_string(key++), "v");
      cluster.run_for(1000 / std::max<std::size_t>(writes_per_s, 1));
    }
    if (writes_per_s == 0) cluster.run_for(1000);
  }
  const Load after = load_of(cluster);
  const double peer_seconds = static_cast<double>(cluster.size()) * static_cast<double>(seconds);
  return {static_cast<double>(after.frames - before.frames) / peer_seconds,
          static_cast<double>(after.bytes - before.bytes) / peer_seconds};
}

void scale_run(const Args& args, std::size_t peers) {
  std::printf("\n-- scale: %zu peers, seed %llu\n", peers, static_cast<unsigned long long>(args.seed));
  std::fflush(stdout);
  const auto wall = Clock::now();
  ScratchDir dir(args.dir);
  auto options = scale_options(peers, args.seed + peers);
  auto cluster = std::make_unique<cairn::sim::Cluster>(dir.path(), options);
  cluster->start_all();
  const auto joined = cluster->run_until([&] { return membership_settled(*cluster); }, 600'000, 1000);
  std::printf("  join: %s virtual s, wall %.0f s, %llu events\n",
              joined ? fmt("%.1f", static_cast<double>(*joined) / 1000.0).c_str() : "not within 600",
              seconds_since(wall), static_cast<unsigned long long>(cluster->scheduler().events_run()));
  std::fflush(stdout);
  if (!joined) return;
  cluster->run_for(2000);

  cairn::Rng rng(args.seed ^ peers);
  std::vector<double> rounds;
  for (std::size_t w = 0; w < args.scale_writes; ++w) {
    const int writer = static_cast<int>(rng.below(peers));
    const std::string key = "r/" + std::to_string(w);
    if (!cluster->store(writer).put(key, "value")) fail("scale put failed");
    std::vector<int> pending;
    for (int i = 0; i < cluster->size(); ++i) pending.push_back(i);
    const auto took = cluster->run_until(
        [&] {
          std::erase_if(pending, [&](int i) { return cluster->store(i).get(key).has_value(); });
          return pending.empty();
        },
        60'000, 10);
    if (took) rounds.push_back(static_cast<double>(*took) / static_cast<double>(options.peer.gossip_interval_ms));
    cluster->run_for(500);
  }
  std::size_t key = 0;
  const auto quiet = per_peer_load(*cluster, rng, 10, 0, key);
  const auto writing = per_peer_load(*cluster, rng, 10, 10, key);

  const auto events_before = cluster->scheduler().events_run();
  const auto timed = Clock::now();
  const std::size_t tenth = std::max<std::size_t>(peers / 10, 1);
  for (std::size_t j = 0; j < tenth; ++j) cluster->restart(cluster->add_peer());
  const auto join_settled = cluster->run_until([&] { return membership_settled(*cluster); }, 300'000, 500);
  std::vector<int> victims;
  for (int i = 0; i < cluster->size(); ++i) victims.push_back(i);
  for (std::size_t i = victims.size(); i > 1; --i) std::swap(victims[i - 1], victims[rng.below(i)]);
  victims.resize(tenth);
  for (int victim : victims) cluster->crash(victim);
  const auto crash_settled = cluster->run_until([&] { return membership_settled(*cluster); }, 300'000, 500);
  const double events_per_s =
      static_cast<double>(cluster->scheduler().events_run() - events_before) / seconds_since(timed);

  const auto seconds_text = [](const std::optional<std::uint64_t>& ms) {
    return ms ? fmt("%.1f s", static_cast<double>(*ms) / 1000.0) : std::string("not within 300 s");
  };
  std::printf("  rounds per write:");
  for (double r : rounds) std::printf(" %.1f", r);
  std::printf("\n  wall %.0f s\n", seconds_since(wall));
  add_row(g_scale, {std::to_string(peers), fmt("%.1f", mean(rounds)), fmt("%.1f", max_of(rounds)),
                    fmt("%.1f", 2 * std::log2(static_cast<double>(peers))),
                    fmt("%.1f", quiet.first) + " / " + bytes_text(quiet.second),
                    fmt("%.1f", writing.first) + " / " + bytes_text(writing.second), seconds_text(join_settled),
                    seconds_text(crash_settled), fmt("%.0f", events_per_s), fmt("%.0f s", seconds_since(wall))});
}

// Runs `seconds` of virtual time in which, every 2 s, a random peer that is not stalled stalls for
// 1 to 5 s; returns (deaths declared, suspicions raised) summed over every observer. No peer crashes,
// so every death is a false positive.
std::pair<std::uint64_t, std::uint64_t> stall_run(const Args& args, bool lifeguard) {
  ScratchDir dir(args.dir);
  auto options = scale_options(args.stall_peers, args.seed + 11);
  if (!lifeguard) {
    options.peer.membership.max_local_health = 0;
    options.peer.membership.suspicion_max_multiplier = 1;
  }
  cairn::sim::Cluster cluster(dir.path(), options);
  cluster.start_all();
  if (!cluster.run_until([&] { return membership_settled(cluster); }, 120'000, 500)) fail("stall: no join");
  const auto counts = [&] {
    std::pair<std::uint64_t, std::uint64_t> sum{0, 0};
    for (int i = 0; i < cluster.size(); ++i) {
      const auto stats = cluster.peer(i).membership().stats();
      sum.first += stats.deaths;
      sum.second += stats.suspicions;
    }
    return sum;
  };
  const auto before = counts();
  cairn::Rng rng(args.seed + 5);  // The same stalls in both runs.
  for (std::uint64_t t = 0; t < args.stall_seconds; t += 2) {
    const int victim = static_cast<int>(rng.below(static_cast<std::uint64_t>(cluster.size())));
    const std::uint64_t duration_ms = 1000 + rng.below(4001);
    if (!cluster.stalled(victim)) cluster.stall(victim, duration_ms);
    cluster.run_for(2000);
  }
  cluster.run_for(10'000);  // Suspicions raised at the end run out.
  const auto after = counts();
  return {after.first - before.first, after.second - before.second};
}

}  // namespace

void scale_phase(const Args& args) {
  std::printf("\n== 4. simulator at scale (context reports off: issue 20 item 1)\n");
  for (std::size_t peers : args.scale_peers) scale_run(args, peers);
}

void stall_phase(const Args& args) {
  std::printf("\n== 5. false positives: %zu peers, a random peer stalls 1-5 s every 2 s for %llu s\n",
              args.stall_peers, static_cast<unsigned long long>(args.stall_seconds));
  for (const bool lifeguard : {false, true}) {
    const auto wall = Clock::now();
    const auto [deaths, suspicions] = stall_run(args, lifeguard);
    const double stalls = static_cast<double>(args.stall_seconds) / 2.0;
    add_row(g_stall, {std::to_string(args.stall_peers), lifeguard ? "Lifeguard" : "plain SWIM",
                      fmt("%.0f", stalls), std::to_string(suspicions), std::to_string(deaths),
                      fmt("%.2f", static_cast<double>(deaths) / stalls), fmt("%.0f s", seconds_since(wall))});
  }
}

}  // namespace gossip_bench
