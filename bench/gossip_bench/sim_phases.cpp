// gossip_bench figures 2 and 3: rounds and stream bytes per write in the simulator, and bytes per update
// against the payload size.
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "bench/gossip_bench/gossip_bench.h"
#include "gossip/sim/cluster.h"
#include "gossip/wire.h"

namespace gossip_bench {
namespace {

// The options of the simulator tests (tests/gossip/sim/cluster_test.cpp), without duplication.
cairn::sim::ClusterOptions sim_options(std::size_t peers, std::uint64_t seed, double loss) {
  cairn::sim::ClusterOptions options;
  options.peers = static_cast<int>(peers);
  options.seed = seed;
  options.seed_peers = 3;
  options.faults.loss = loss;
  options.faults.duplicate = 0;
  options.faults.min_delay_ms = 1;
  options.faults.max_delay_ms = 20;
  options.peer.cluster_name = "sim";
  options.peer.gossip_interval_ms = 100;
  options.peer.membership.protocol_period_ms = 500;
  options.peer.membership.ping_timeout_ms = 150;
  options.peer.membership.suspicion_timeout_ms = 3000;
  options.peer.dissemination.resend_after_ms = 400;
  return options;
}

// Traffic counters of the whole cluster at one instant.
struct Snapshot {
  std::uint64_t stream_bytes = 0, stream_frames = 0;
  std::uint64_t datagram_bytes = 0, datagram_frames = 0;
  std::uint64_t pushes = 0, entries_sent = 0, entry_bytes_sent = 0, entries_new = 0, resends = 0;
};

Snapshot snapshot(cairn::sim::Cluster& cluster) {
  Snapshot s;
  const auto& stats = cluster.network().stats();
  s.stream_bytes = stats.stream.sent.bytes;
  s.stream_frames = stats.stream.sent.frames;
  s.datagram_bytes = stats.datagram.sent.bytes;
  s.datagram_frames = stats.datagram.sent.frames;
  for (int i = 0; i < cluster.size(); ++i) {
    const auto& d = cluster.peer(i).dissemination().stats();
    s.pushes += d.pushes_sent;
    s.entries_sent += d.entries_sent;
    s.entry_bytes_sent += d.bytes_sent;
    s.entries_new += d.entries_new;
    s.resends += d.resends;
  }
  return s;
}

// Applies `op` to every counter of `a` and `b`.
template <typename Op>
Snapshot combine(const Snapshot& a, const Snapshot& b, Op op) {
  return Snapshot{op(a.stream_bytes, b.stream_bytes),
                  op(a.stream_frames, b.stream_frames),
                  op(a.datagram_bytes, b.datagram_bytes),
                  op(a.datagram_frames, b.datagram_frames),
                  op(a.pushes, b.pushes),
                  op(a.entries_sent, b.entries_sent),
                  op(a.entry_bytes_sent, b.entry_bytes_sent),
                  op(a.entries_new, b.entries_new),
                  op(a.resends, b.resends)};
}

Snapshot operator-(const Snapshot& a, const Snapshot& b) { return combine(a, b, std::minus<>()); }
Snapshot operator+(const Snapshot& a, const Snapshot& b) { return combine(a, b, std::plus<>()); }

// Nothing in flight on the streams, and every peer's every neighbour has acknowledged its whole log.
bool quiescent(cairn::sim::Cluster& cluster) {
  const auto& stream = cluster.network().stats().stream;
  if (stream.sent.frames !=
      stream.delivered.frames + stream.lost.frames + stream.partitioned.frames + stream.detached.frames)
    return false;
  for (int i = 0; i < cluster.size(); ++i) {
    auto bounds = cluster.store(i).delta_log_bounds();
    if (!bounds) fail("delta_log_bounds: " + bounds.error().to_string());
    for (const auto& [id, acknowledged] : cluster.peer(i).dissemination().acknowledged()) {
      if (acknowledged < bounds->last) return false;
    }
  }
  return true;
}

// Runs in steps of `step_ms` until every peer has `key`; the virtual ms it took, or nullopt.
std::optional<std::uint64_t> run_until_all_have(cairn::sim::Cluster& cluster, const std::string& key,
                                                std::uint64_t step_ms, std::uint64_t limit_ms) {
  std::vector<int> pending;
  for (int i = 0; i < cluster.size(); ++i) pending.push_back(i);
  return cluster.run_until(
      [&] {
        std::erase_if(pending, [&](int i) { return cluster.store(i).get(key).has_value(); });
        return pending.empty();
      },
      limit_ms, step_ms);
}

// One measured write: `value` under `key` at peer `writer`.
struct WriteCost {
  double rounds = 0;        // Virtual ms until all peers have it / gossip_interval_ms.
  Snapshot to_convergence;  // Traffic from just before the write until all peers have it.
  Snapshot to_quiescence;   // ... until every push is acknowledged and nothing is in flight.
  bool converged = false, quiesced = false;
};

WriteCost measured_write(cairn::sim::Cluster& cluster, int writer, const std::string& key,
                         const std::string& value, std::uint64_t interval_ms) {
  WriteCost cost;
  const Snapshot before = snapshot(cluster);
  if (auto put = cluster.store(writer).put(key, value); !put) fail("sim put: " + put.error().to_string());
  const auto took_ms = run_until_all_have(cluster, key, 5, 60'000);
  cost.converged = took_ms.has_value();
  if (took_ms) cost.rounds = static_cast<double>(*took_ms) / static_cast<double>(interval_ms);
  cost.to_convergence = snapshot(cluster) - before;
  cost.quiesced = cluster.run_until([&] { return quiescent(cluster); }, 60'000, 10).has_value();
  cost.to_quiescence = snapshot(cluster) - before;
  return cost;
}

// A started cluster with full membership and settled neighbour sets, and in `joined_ms` the virtual time
// at which membership was complete; nullptr (after printing why) if it does not complete.
std::unique_ptr<cairn::sim::Cluster> joined_cluster(const fs::path& root,
                                                    const cairn::sim::ClusterOptions& options,
                                                    std::uint64_t& joined_ms) {
  auto cluster = std::make_unique<cairn::sim::Cluster>(root, options);
  cluster->start_all();
  const auto join_took_ms =
      cluster->run_until([&] { return cluster->everyone_knows_everyone(); }, 180'000, 500);
  if (!join_took_ms) {
    std::printf("  membership did not complete within 180 s of virtual time; skipped\n");
    return nullptr;
  }
  joined_ms = cluster->scheduler().now_ms();
  cluster->run_for(1'000);  // Neighbour sets settle; join-time logs drain.
  if (!cluster->run_until([&] { return quiescent(*cluster); }, 30'000, 10)) {
    std::printf("  (the cluster was not quiescent 30 s after joining)\n");
  }
  std::size_t degree = 0;
  for (int i = 0; i < cluster->size(); ++i) degree += cluster->peer(i).neighbours().size();
  std::printf("  full membership after %.1f s of virtual time; mean gossip neighbours per peer %.1f\n",
              static_cast<double>(*join_took_ms) / 1000.0,
              static_cast<double>(degree) / static_cast<double>(cluster->size()));
  return cluster;
}

struct BackgroundTraffic {
  double datagram_bytes_per_s = 0, datagram_frames_per_s = 0;
  double bytes_per_datagram() const {
    return datagram_frames_per_s > 0 ? datagram_bytes_per_s / datagram_frames_per_s : 0;
  }
};

// Membership traffic (datagrams) over `seconds` of virtual time with no writes.
BackgroundTraffic background(cairn::sim::Cluster& cluster, std::uint64_t seconds) {
  const Snapshot before = snapshot(cluster);
  cluster.run_for(seconds * 1000);
  const Snapshot quiet = snapshot(cluster) - before;
  if (quiet.stream_frames != 0)
    std::printf("  (%llu stream frames in a quiet stretch)\n",
                static_cast<unsigned long long>(quiet.stream_frames));
  return BackgroundTraffic{static_cast<double>(quiet.datagram_bytes) / static_cast<double>(seconds),
                           static_cast<double>(quiet.datagram_frames) / static_cast<double>(seconds)};
}

// The size of a ping frame with nothing piggybacked, from a simulated peer at `sender`.
std::size_t bare_ping_bytes(const cairn::gossip::Endpoint& sender) {
  namespace gossip = cairn::gossip;
  return gossip::encode_peer_frame(gossip::Envelope{gossip::cluster_id_of("sim"), gossip::PeerId{~0ull},
                                                    sender, gossip::Ping{~0ull, {}}})
      .size();
}

// Membership traffic once the updates of the cluster's start are no longer piggybacked: runs 5 s windows
// until one averages at most 1.1x a bare ping per datagram, then measures 10 s. Also returns how long
// (virtual s since `joined_ms`) that took, or nullopt when it did not happen within `limit_s`.
std::pair<BackgroundTraffic, std::optional<double>> steady_background(cairn::sim::Cluster& cluster,
                                                                      std::uint64_t joined_ms,
                                                                      std::uint64_t limit_s) {
  const double bare = static_cast<double>(bare_ping_bytes(cluster.endpoint(0)));
  std::optional<double> drained_s;
  while (cluster.scheduler().now_ms() - joined_ms < limit_s * 1000) {
    if (background(cluster, 5).bytes_per_datagram() <= 1.1 * bare) {
      drained_s = static_cast<double>(cluster.scheduler().now_ms() - joined_ms) / 1000.0;
      break;
    }
  }
  return {background(cluster, 10), drained_s};
}

void sim_run(const Args& args, std::size_t peers, std::size_t loss_percent) {
  const double loss = static_cast<double>(loss_percent) / 100.0;
  std::printf("\n-- sim: %zu peers, loss %zu%%, seed %llu\n", peers, loss_percent,
              static_cast<unsigned long long>(args.seed));
  const auto wall = Clock::now();
  ScratchDir dir(args.dir);
  const auto options = sim_options(peers, args.seed + peers * 100 + loss_percent, loss);
  std::uint64_t joined_ms = 0;
  auto cluster = joined_cluster(dir.path(), options, joined_ms);
  if (!cluster) return;
  const BackgroundTraffic after_join = background(*cluster, 10);

  cairn::Rng rng(args.seed ^ (peers << 8) ^ loss_percent);
  std::vector<double> rounds, conv_bytes, total_bytes, copies, resends;
  std::size_t failures = 0;
  const std::uint64_t interval = options.peer.gossip_interval_ms;
  for (std::size_t w = 0; w < args.sim_writes; ++w) {
    cluster->run_for(rng.below(interval));  // A random phase of the gossip cycle.
    const int writer = static_cast<int>(rng.below(peers));
    const WriteCost cost = measured_write(*cluster, writer, "w/" + std::to_string(w),
                                          random_bytes(rng, args.sim_value_bytes), interval);
    if (!cost.converged || !cost.quiesced) ++failures;
    if (!cost.converged) continue;
    rounds.push_back(cost.rounds);
    conv_bytes.push_back(static_cast<double>(cost.to_convergence.stream_bytes));
    total_bytes.push_back(static_cast<double>(cost.to_quiescence.stream_bytes));
    copies.push_back(static_cast<double>(cost.to_quiescence.entries_sent));
    resends.push_back(static_cast<double>(cost.to_quiescence.resends));
  }
  const double bound = 3 * std::log2(static_cast<double>(peers));
  std::printf("  rounds per write:");
  for (double r : rounds) std::printf(" %.1f", r);
  std::printf("\n  %zu writes; %zu did not converge or quiesce within 60 s\n", args.sim_writes, failures);
  const std::string loss_text = std::to_string(loss_percent) + "%";
  add_row(g_sim, {std::to_string(peers), loss_text,
                  std::to_string(rounds.size()) + " x " + std::to_string(args.sim_value_bytes) + " B",
                  fmt("%.1f", mean(rounds)), fmt("%.1f", max_of(rounds)), fmt("%.1f", bound),
                  bytes_text(mean(conv_bytes)), bytes_text(mean(total_bytes)),
                  fmt("%.2f", mean(copies) / static_cast<double>(peers - 1)), fmt("%.1f", mean(resends))});
  const auto [steady, drained_s] = steady_background(*cluster, joined_ms, 200);
  const auto traffic_text = [](const BackgroundTraffic& t) {
    return bytes_text(t.datagram_bytes_per_s) + "/s, " + fmt("%.0f", t.datagram_frames_per_s) +
           " datagrams/s, " + fmt("%.0f B", t.bytes_per_datagram()) + " each";
  };
  add_row(g_membership, {std::to_string(peers), loss_text, traffic_text(after_join), traffic_text(steady),
                         drained_s ? fmt("%.0f s", *drained_s) : std::string("not within 200 s")});
  std::printf("  wall %.0f s\n", seconds_since(wall));
}

}  // namespace

void sim_phase(const Args& args) {
  std::printf("\n== 2. simulator: gossip rounds and stream bytes per write (gossip_interval_ms 100)\n");
  for (std::size_t peers : args.sim_peers) {
    for (std::size_t loss : args.sim_loss_percent) sim_run(args, peers, loss);
  }
}

namespace {

// What a one-entry DeltaPush frame adds to its delta-group (frame header, Cap'n Proto envelope), and the
// size of a DeltaAck frame, as a simulated peer at `sender` sends them.
struct FrameSizes {
  std::size_t push_overhead = 0, ack = 0;
};

FrameSizes frame_sizes(const cairn::gossip::Endpoint& sender, std::size_t group_bytes) {
  namespace gossip = cairn::gossip;
  gossip::Envelope envelope{gossip::cluster_id_of("sim"), gossip::PeerId{~0ull}, sender,
                            gossip::DeltaAck{~0ull >> 1}};
  const std::size_t ack = gossip::encode_peer_frame(envelope).size();
  gossip::DeltaPush push;
  push.entries.push_back(gossip::DeltaPush::Entry{~0ull >> 1, std::string(group_bytes, 'x')});
  envelope.body = std::move(push);
  return FrameSizes{gossip::encode_peer_frame(envelope).size() - group_bytes, ack};
}

}  // namespace

void payload_phase(const Args& args) {
  const std::size_t peers = args.payload_peers;
  std::printf("\n== 3. simulator, %zu peers, no loss: stream bytes per update vs the update's payload\n",
              peers);
  ScratchDir dir(args.dir);
  const auto options = sim_options(peers, args.seed + 7, 0);
  std::uint64_t joined_ms = 0;
  auto cluster = joined_cluster(dir.path(), options, joined_ms);
  if (!cluster) return;
  cairn::Rng rng(args.seed + 3);
  std::size_t w = 0;
  for (std::size_t size : args.payload_sizes) {
    Snapshot sum;
    std::size_t measured = 0, failures = 0;
    for (std::size_t i = 0; i < args.payload_writes; ++i, ++w) {
      cluster->run_for(rng.below(options.peer.gossip_interval_ms));
      const int writer = static_cast<int>(rng.below(peers));
      const WriteCost cost = measured_write(*cluster, writer, "p/" + std::to_string(w),
                                            random_bytes(rng, size), options.peer.gossip_interval_ms);
      if (!cost.converged || !cost.quiesced) {
        ++failures;
        continue;
      }
      sum = sum + cost.to_quiescence;
      ++measured;
    }
    if (measured == 0) {
      std::printf("  %zu B: no write converged\n", size);
      continue;
    }
    const double n = static_cast<double>(measured);
    const double ideal = static_cast<double>(size) * static_cast<double>(peers - 1);
    const double stream = static_cast<double>(sum.stream_bytes) / n;
    const double copies = static_cast<double>(sum.entries_sent) / n;
    const double group = static_cast<double>(sum.entry_bytes_sent) / static_cast<double>(sum.entries_sent);
    const double frames = static_cast<double>(sum.stream_frames) / n;
    const double pushes = static_cast<double>(sum.pushes) / n;
    const FrameSizes sizes = frame_sizes(cluster->endpoint(0), static_cast<std::size_t>(group));
    std::printf(
        "  %zu B: %zu writes (%zu failed); per update: %.0f stream frames (%.1f pushes, rest acks), "
        "%.1f delta copies, delta-group %.0f B; a 1-entry push frame adds %zu B to its delta-group, an "
        "ack frame is %zu B\n",
        size, measured, failures, frames, pushes, copies, group, sizes.push_overhead, sizes.ack);
    add_row(g_payload, {std::to_string(peers), bytes_text(static_cast<double>(size)), bytes_text(stream),
                        fmt("%.2f", stream / ideal), fmt("%.2f", copies / static_cast<double>(peers - 1)),
                        bytes_text(group) + fmt(" (%.2fx payload)", group / static_cast<double>(size)),
                        std::to_string(sizes.push_overhead) + " B", std::to_string(sizes.ack) + " B"});
  }
}

}  // namespace gossip_bench
