// gossip_bench: how fast a write reaches every peer, and what it costs on the wire. Run by hand (never as
// a test); docs/BENCHMARKS.md ("Gossip convergence") records the figures and the command.
//
//   gossip_bench [--phases=loopback,sim,payload] [--dir=/tmp] [--seed=1]
//                [--loopback-peers=3,10] [--intervals=200,50] [--writes=200] [--durability=group|nosync]
//                [--sim-peers=50,200] [--sim-loss-percent=0,10] [--sim-writes=20] [--sim-value-bytes=100]
//                [--payload-peers=10] [--payload-sizes=16,1024,65536,1048576] [--payload-writes=10]
//
// Phases:
//   loopback  N real cairn::Node peers in this process on 127.0.0.1, each with its own libuv loop.
//             Sequential writes of a fresh key at a random peer; the latency is from just before the put
//             until every peer's store().get sees the key (all peers polled every 1 ms, steady_clock).
//   sim       sim::Cluster (real stores, the real protocol, a seeded network, virtual time). Per write:
//             gossip rounds until every peer has it, and the stream bytes (all of them: only dissemination
//             uses streams) sent from just before the write until (a) every peer has it and (b) the
//             cluster is quiescent again (every push acknowledged, nothing in flight). Background
//             membership datagram bytes per second are measured over a quiet stretch for context.
//   payload   The same in a small simulated cluster, for growing value sizes: stream bytes per update
//             divided by payload x (N - 1), the ideal being one copy per other peer.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cairn/node.h"
#include "cairn/store.h"
#include "gossip/sim/cluster.h"
#include "gossip/wire.h"
#include "src/util/rng.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "gossip_bench: %s\n", message.c_str());
  std::exit(1);
}

// For failures mid-run: unwinding stops the nodes and removes the scratch directories; main reports it.
[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// ---------------------------------------------------------------------------------------------------
// Command line.

struct Args {
  std::set<std::string> phases{"loopback", "sim", "payload"};
  std::string dir = "/tmp";
  std::uint64_t seed = 1;
  std::vector<std::size_t> loopback_peers{3, 10};
  std::vector<std::size_t> intervals_ms{200, 50};
  std::size_t writes = 200;
  cairn::Durability durability = cairn::Durability::kGroup;
  std::vector<std::size_t> sim_peers{50, 200};
  std::vector<std::size_t> sim_loss_percent{0, 10};
  std::size_t sim_writes = 20;
  std::size_t sim_value_bytes = 100;
  std::size_t payload_peers = 10;
  std::vector<std::size_t> payload_sizes{16, 1024, 64 * 1024, 1024 * 1024};
  std::size_t payload_writes = 10;
};

// Flags use --name=value or --name value; lists are comma-separated (CLI11).
Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> phases(args.phases.begin(), args.phases.end());
  std::string durability = "group";
  CLI::App app{"gossip_bench: convergence latency, rounds and bytes (docs/BENCHMARKS.md)"};
  app.add_option("--phases", phases, "Any of loopback,sim,payload")
      ->delimiter(',')
      ->check(CLI::IsMember({"loopback", "sim", "payload"}));
  app.add_option("--dir", args.dir, "Where the scratch data directories go")->capture_default_str();
  app.add_option("--seed", args.seed, "Seed of the simulations")->capture_default_str();
  app.add_option("--loopback-peers", args.loopback_peers, "Nodes per loopback figure")->delimiter(',');
  app.add_option("--intervals", args.intervals_ms, "Gossip intervals (ms) of the loopback figures")
      ->delimiter(',');
  app.add_option("--writes", args.writes, "Writes timed per loopback figure")->check(CLI::PositiveNumber);
  app.add_option("--durability", durability, "Store durability of the loopback Nodes")
      ->check(CLI::IsMember({"group", "nosync"}))
      ->capture_default_str();
  app.add_option("--sim-peers", args.sim_peers, "Peers per simulated figure")->delimiter(',');
  app.add_option("--sim-loss-percent", args.sim_loss_percent, "Loss per simulated figure")->delimiter(',');
  app.add_option("--sim-writes", args.sim_writes, "Writes per simulated figure")->check(CLI::PositiveNumber);
  app.add_option("--sim-value-bytes", args.sim_value_bytes, "Value size of the simulated writes")
      ->check(CLI::PositiveNumber);
  app.add_option("--payload-peers", args.payload_peers, "Peers of the bytes-per-update figure")
      ->capture_default_str();
  app.add_option("--payload-sizes", args.payload_sizes, "Payload sizes of the bytes-per-update figure")
      ->delimiter(',');
  app.add_option("--payload-writes", args.payload_writes, "Writes per payload size")
      ->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error));
  }
  args.phases = std::set<std::string>(phases.begin(), phases.end());
  args.durability = durability == "group" ? cairn::Durability::kGroup : cairn::Durability::kNoSync;
  for (std::size_t interval : args.intervals_ms)
    if (interval == 0) die("--intervals: at least 1 ms");
  for (std::size_t n : args.loopback_peers)
    if (n < 2) die("--loopback-peers: at least 2 peers");
  for (std::size_t n : args.sim_peers)
    if (n < 2) die("--sim-peers: at least 2 peers");
  for (std::size_t loss : args.sim_loss_percent)
    if (loss >= 100) die("--sim-loss-percent: below 100");
  for (std::size_t size : args.payload_sizes)
    if (size == 0 || size > cairn::kMaxValueBytes) die("--payload-sizes: 1 byte to 16 MiB");
  if (args.payload_peers < 2) die("--payload-peers: at least 2 peers");
  return args;
}

// ---------------------------------------------------------------------------------------------------
// Helpers.

// A fresh directory (mkdtemp) removed with its contents when this goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern = parent + "/gossip_bench.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) die("cannot create a directory under " + parent);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string random_bytes(cairn::Rng& rng, std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = rng.next();
    for (std::size_t j = i; j < std::min(size, i + 8); ++j, word >>= 8)
      out[j] = static_cast<char>(word & 0xff);
  }
  return out;
}

// Nearest-rank percentile of sorted values, p in (0, 100].
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double max_of(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string bytes_text(double bytes) {
  if (bytes >= 1048576.0) return fmt("%.2f MiB", bytes / 1048576.0);
  if (bytes >= 10240.0) return fmt("%.1f KiB", bytes / 1024.0);
  return fmt("%.0f B", bytes);
}

// The summary tables (Markdown), printed at the end.
struct Table {
  std::string title;
  std::string header;
  std::vector<std::string> rows;
};

Table g_loopback{
    "Convergence latency, real peers on 127.0.0.1 (steady_clock, write -> visible at every peer)",
    "| peers | gossip_interval_ms | store | writes | p50 | p99 | max | mean | local put p50 |",
    {}};
Table g_sim{"Simulator: one write, gossip rounds and stream bytes (gossip_interval_ms 100)",
            "| peers | loss | writes | rounds mean | rounds max | 3 log2 N | stream bytes to convergence | "
            "to quiescence | delta copies per other peer | resends |",
            {}};
Table g_membership{"Simulator: membership datagrams in the background (no writes)",
                   "| peers | loss | first 10 s after full membership | steady state | steady after |",
                   {}};
Table g_payload{
    "Simulator: stream bytes per update vs payload (no loss)",
    "| peers | payload | stream bytes per update | / (payload x (N-1)) | delta copies per other peer | "
    "delta-group | push frame overhead | ack frame |",
    {}};

// Adds a row of `cells` to `table` and prints it.
void add_row(Table& table, const std::vector<std::string>& cells) {
  std::string row = "|";
  for (const std::string& cell : cells) row += " " + cell + " |";
  table.rows.push_back(row);
  std::printf("  %s\n", row.c_str());
  std::fflush(stdout);
}

void print_table(const Table& table) {
  if (table.rows.empty()) return;
  std::printf("\n%s\n\n%s\n|", table.title.c_str(), table.header.c_str());
  for (std::size_t i = 1; i < table.header.size(); ++i)
    if (table.header[i] == '|') std::printf("---|");
  std::printf("\n");
  for (const std::string& row : table.rows) std::printf("%s\n", row.c_str());
}

// ---------------------------------------------------------------------------------------------------
// Figure 1: real peers on loopback.

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

void loopback_phase(const Args& args) {
  std::printf(
      "\n== 1. convergence latency: real peers on 127.0.0.1, write at a random peer -> visible at all\n");
  std::uint64_t run_number = 0;
  for (std::size_t interval : args.intervals_ms) {
    for (std::size_t peers : args.loopback_peers)
      loopback_run(args, LoopbackRun{peers, interval}, run_number++);
  }
}

// ---------------------------------------------------------------------------------------------------
// Figures 2 and 3: the simulator.

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

void sim_phase(const Args& args) {
  std::printf("\n== 2. simulator: gossip rounds and stream bytes per write (gossip_interval_ms 100)\n");
  for (std::size_t peers : args.sim_peers) {
    for (std::size_t loss : args.sim_loss_percent) sim_run(args, peers, loss);
  }
}

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

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  std::printf("gossip_bench: scratch dirs under %s; load average at start %s; %u hardware threads\n",
              args.dir.c_str(), load_average().c_str(), std::thread::hardware_concurrency());
  std::fflush(stdout);
  const auto start = Clock::now();
  try {
    if (args.phases.contains("loopback")) loopback_phase(args);
    if (args.phases.contains("sim")) sim_phase(args);
    if (args.phases.contains("payload")) payload_phase(args);
  } catch (const std::exception& error) {  // fail(), or sim::Cluster when a peer's store fails to open.
    die(error.what());
  }
  std::printf("\n== summary\n");
  for (const Table* table : {&g_loopback, &g_sim, &g_membership, &g_payload}) print_table(*table);
  std::printf("\nload average at end %s; total %.0f s\n", load_average().c_str(), seconds_since(start));
  return 0;
}
