// gossip_bench's shared parts (gossip_bench.h): command line, statistics, summary tables.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "bench/gossip_bench/gossip_bench.h"

namespace gossip_bench {

void die(const std::string& message) {
  std::fprintf(stderr, "gossip_bench: %s\n", message.c_str());
  std::exit(1);
}

Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> phases(args.phases.begin(), args.phases.end());
  std::string durability = "group";
  CLI::App app{"gossip_bench: convergence latency, rounds and bytes (docs/BENCHMARKS.md)"};
  app.add_option("--phases", phases, "Any of loopback,sim,payload,scale,stall")
      ->delimiter(',')
      ->check(CLI::IsMember({"loopback", "sim", "payload", "scale", "stall"}));
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
  app.add_option("--scale-peers", args.scale_peers, "Peers per scale figure")->delimiter(',');
  app.add_option("--scale-writes", args.scale_writes, "Writes timed per scale figure")->check(CLI::PositiveNumber);
  app.add_option("--stall-peers", args.stall_peers, "Peers of the stall figure")->capture_default_str();
  app.add_option("--stall-seconds", args.stall_seconds, "Virtual seconds of stalls")->capture_default_str();
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
  for (std::size_t n : args.scale_peers)
    if (n < 10) die("--scale-peers: at least 10 peers");
  if (args.stall_peers < 5) die("--stall-peers: at least 5 peers");
  return args;
}

std::string random_bytes(cairn::Rng& rng, std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = rng.next();
    for (std::size_t j = i; j < std::min(size, i + 8); ++j, word >>= 8)
      out[j] = static_cast<char>(word & 0xff);
  }
  return out;
}


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


std::string bytes_text(double bytes) {
  if (bytes >= 1048576.0) return fmt("%.2f MiB", bytes / 1048576.0);
  if (bytes >= 10240.0) return fmt("%.1f KiB", bytes / 1024.0);
  return fmt("%.0f B", bytes);
}

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


Table g_scale{"Simulator at scale (context reports off; gossip_interval_ms 100, protocol period 500 ms)",
              "| peers | rounds mean | rounds max | 2 log2 N | per peer, no writes (frames/s / bytes/s) | "
              "per peer, 10 writes/s | settle after 10% join | settle after 10% crash | events per wall s | wall |",
              {}};
Table g_stall{"False positives: a random peer stalls 1-5 s every 2 s (no crashes)",
              "| peers | detector | stalls | suspicions raised | deaths declared (all false) | per stall | wall |",
              {}};

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

}  // namespace gossip_bench
