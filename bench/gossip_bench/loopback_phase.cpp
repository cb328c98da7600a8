// gossip_bench figure 1: convergence latency of real cairn::Node peers on 127.0.0.1.
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "bench/gossip_bench/gossip_bench.h"
#include "cairn/node.h"

namespace gossip_bench {
namespace {

struct LoopbackRun {
  std::size_t peers = 0;
  std::uint64_t interval_ms = 0;
};

// Every node sees all others alive and has gossip neighbours.
bool fully_joined(std::vector<std::unique_ptr<cairn::Node>>& nodes) {
  for (auto& node : nodes) {
    const cairn::NodeStatus status = node->status();
    std::size_t alive = 0;
    for (const auto& member : status.members) alive += member.state == "alive" ? 1 : 0;
    if (alive != nodes.size() - 1 || status.neighbours.empty()) return false;
  }
  return true;
}

// Starts the nodes (node 0 first; the rest join through it). Empty on failure, after printing why.
std::vector<std::unique_ptr<cairn::Node>> start_nodes(const Args& args, const LoopbackRun& run,
                                                      const fs::path& root, const std::string& cluster) {
  std::vector<std::unique_ptr<cairn::Node>> nodes;
  for (std::size_t i = 0; i < run.peers; ++i) {
    cairn::NodeOptions options;
    options.data_dir = (root / ("node-" + std::to_string(i))).string();
    options.listen_host = "127.0.0.1";
    options.gossip_port = 0;
    options.cluster_name = cluster;
    options.gossip_interval_ms = run.interval_ms;
    options.store.durability = args.durability;
    // One cluster key for all (any 64 hex digits: the bench measures sealed traffic, as deployed).
    options.cluster_keys = {std::string(64, 'b')};
    if (i > 0) options.seeds = {"127.0.0.1:" + std::to_string(nodes[0]->gossip_port())};
    auto node = cairn::Node::start(options);
    if (!node) {
      std::printf("  node %zu failed to start: %s\n", i, node.error().to_string().c_str());
      for (auto& started : nodes) started->stop();
      return {};
    }
    nodes.push_back(std::move(*node));
  }
  return nodes;
}

void stop_nodes(std::vector<std::unique_ptr<cairn::Node>>& nodes) {
  std::vector<std::thread> stoppers;  // Each stop() waits 100 ms for its leave to go out: in parallel.
  for (auto& node : nodes) stoppers.emplace_back([&node] { node->stop(); });
  for (auto& stopper : stoppers) stopper.join();
  nodes.clear();
}

// Polls every node but the writer that does not see `key` yet, every 1 ms, until all do; returns the ms
// elapsed since `start`, or nullopt after `limit_s`.
std::optional<double> wait_visible(std::vector<std::unique_ptr<cairn::Node>>& nodes, const std::string& key,
                                   std::size_t writer, Clock::time_point start, double limit_s) {
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (i != writer) pending.push_back(i);
  for (;;) {
    std::erase_if(pending, [&](std::size_t i) { return nodes[i]->store().get(key).has_value(); });
    if (pending.empty()) return ms_since(start);
    if (seconds_since(start) > limit_s) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void loopback_run(const Args& args, const LoopbackRun& run, std::uint64_t run_number) {
  ScratchDir dir(args.dir);
  const std::string cluster = "gossip-bench-" + std::to_string(::getpid()) + "-" + std::to_string(run_number);
  const char* durability = args.durability == cairn::Durability::kGroup ? "kGroup" : "kNoSync";
  std::printf("\n-- %zu peers on loopback, gossip_interval_ms %llu, store %s, cluster '%s'\n", run.peers,
              static_cast<unsigned long long>(run.interval_ms), durability, cluster.c_str());
  auto nodes = start_nodes(args, run, dir.path(), cluster);
  if (nodes.empty()) return;

  const auto join_start = Clock::now();
  while (!fully_joined(nodes)) {
    if (seconds_since(join_start) > 60) {
      std::printf("  membership did not complete within 60 s; skipped\n");
      stop_nodes(nodes);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("  full membership after %.2f s\n", seconds_since(join_start));
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * run.interval_ms));

  cairn::Rng rng(args.seed * 1000 + run_number);
  const std::string value = random_bytes(rng, 100);
  constexpr std::size_t kWarmupWrites = 3;
  std::vector<double> latencies, put_latencies;
  std::size_t timeouts = 0;
  const auto started = Clock::now();
  for (std::size_t w = 0; w < kWarmupWrites + args.writes; ++w) {
    // A random pause, so that writes land at random phases of the peers' gossip cycles.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng.below(run.interval_ms + 1)));
    const std::size_t writer = rng.below(run.peers);
    const std::string key = "bench/" + std::to_string(w);
    const auto start = Clock::now();
    if (auto put = nodes[writer]->store().put(key, value); !put) fail("put: " + put.error().to_string());
    const double put_ms = ms_since(start);
    const auto took_ms = wait_visible(nodes, key, writer, start, 30);
    if (w < kWarmupWrites) continue;
    put_latencies.push_back(put_ms);
    if (took_ms) {
      latencies.push_back(*took_ms);
    } else {
      ++timeouts;
    }
  }
  const double seconds = seconds_since(started);
  std::uint64_t dropped = 0;
  for (auto& node : nodes) dropped += node->status().frames_dropped;
  stop_nodes(nodes);

  std::sort(latencies.begin(), latencies.end());
  std::sort(put_latencies.begin(), put_latencies.end());
  std::printf("  %zu writes in %.1f s; local put p50 %.2f ms; %zu timeouts (30 s); frames dropped %llu\n",
              args.writes, seconds, percentile(put_latencies, 50), timeouts,
              static_cast<unsigned long long>(dropped));
  add_row(g_loopback, {std::to_string(run.peers), std::to_string(run.interval_ms), durability,
                       std::to_string(latencies.size()) +
                           (timeouts > 0 ? " (+" + std::to_string(timeouts) + " TIMED OUT)" : ""),
                       fmt("%.1f ms", percentile(latencies, 50)), fmt("%.1f ms", percentile(latencies, 99)),
                       fmt("%.1f ms", max_of(latencies)), fmt("%.1f ms", mean(latencies)),
                       fmt("%.2f ms", percentile(put_latencies, 50))});
}


}  // namespace

void loopback_phase(const Args& args) {
  std::printf(
      "\n== 1. convergence latency: real peers on 127.0.0.1, write at a random peer -> visible at all\n");
  std::uint64_t run_number = 0;
  for (std::size_t interval : args.intervals_ms) {
    for (std::size_t peers : args.loopback_peers)
      loopback_run(args, LoopbackRun{peers, interval}, run_number++);
  }
}

}  // namespace gossip_bench
