// stability_bench: what causal-stability context reports cost on the wire, against the rest of the
// gossip traffic of the same cluster in the same run, and what a counter-reset compaction sweep costs
// against the deletes that made the resets. Run by hand (never as a test); docs/BENCHMARKS.md
// ("Metadata GC") records the figures and the command.
//
//   stability_bench [--peers=10,50] [--seconds=60] [--writes-per-second=10] [--resets=100000] [--dir=/tmp]
//
// Traffic: a simulated cluster (sim::Cluster: real protocol machines and stores, virtual time, no
// loss) with the default timers (reports every 5 s) takes --writes-per-second register writes at
// random peers for --seconds of virtual time, once with context reports on and once with them off
// (everything else equal, same seed); the difference in bytes sent is what the reports cost.
// Compaction: one store deletes --resets counters another replica incremented (each leaves one
// reset), then sweeps them with that replica's report; reported: time per reset against the time of
// the deletes themselves.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "src/store/replica.h"
#include "gossip/sim/cluster.h"
#include "src/util/rng.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "stability_bench: %s\n", message.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Traffic {
  std::uint64_t bytes = 0, frames = 0, reports = 0;
};

Traffic run_cluster(const fs::path& dir, int peers, std::uint64_t seconds, std::uint64_t writes_per_second,
                    bool reports) {
  fs::create_directories(dir);
  cairn::sim::ClusterOptions options;
  options.peers = peers;
  options.seed = 0x5eed;
  options.seed_peers = 2;
  options.peer.stability.report_interval_ms = reports ? 5'000 : 0;
  cairn::sim::Cluster cluster(dir, options);
  cluster.start_all();
  if (!cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 120'000)) die("the cluster did not form");
  cluster.run_for(10'000);  // Past the join's anti-entropy rounds.
  auto totals = [&] {
    Traffic traffic;
    for (int i = 0; i < cluster.size(); ++i) {
      traffic.bytes += cluster.peer(i).stats().bytes_sent;
      traffic.frames += cluster.peer(i).stats().frames_sent;
      traffic.reports += cluster.peer(i).stability().stats().reports_sent;
    }
    return traffic;
  };
  const Traffic before = totals();
  cairn::Rng rng(42);
  std::uint64_t written = 0;
  for (std::uint64_t second = 0; second < seconds; ++second) {
    for (std::uint64_t w = 0; w < writes_per_second; ++w) {
      const int at = static_cast<int>(rng.below(static_cast<std::uint64_t>(peers)));
      if (!cluster.store(at).put("key/" + std::to_string(rng.below(1000)), std::string(100, 'v'))) die("put failed");
      ++written;
      cluster.run_for(1000 / writes_per_second);
    }
  }
  const Traffic after = totals();
  return Traffic{after.bytes - before.bytes, after.frames - before.frames, after.reports - before.reports};
}

std::unique_ptr<cairn::store::Replica> open_store(const fs::path& path) {
  cairn::StoreOptions options;
  options.durability = cairn::Durability::kNoSync;
  options.map_size_bytes = 2ull << 30;
  auto store = cairn::store::open_replica(path.string(), cairn::store::ReplicaOptions{options, nullptr});
  if (!store) die("cannot open " + path.string() + ": " + store.error().to_string());
  return std::move(*store);
}

void compaction(const fs::path& dir, std::uint64_t resets) {
  auto writer = open_store(dir / "writer");
  auto deleter = open_store(dir / "deleter");
  for (std::uint64_t i = 0; i < resets; ++i) {
    if (!writer->incr("counter/" + std::to_string(i), 1)) die("incr failed");
  }
  auto deltas = writer->deltas_since(0, resets + 10);
  if (!deltas) die("deltas_since failed");
  for (const cairn::LoggedDelta& delta : *deltas) {
    if (!deleter->merge_delta(delta.bytes, writer->replica_id())) die("merge failed");
  }
  const auto delete_start = Clock::now();
  for (std::uint64_t i = 0; i < resets; ++i) {
    if (!deleter->del("counter/" + std::to_string(i))) die("del failed");
  }
  const double delete_seconds = seconds_since(delete_start);
  // The writer's report: it has seen every reset once the deleter's deltas reached it.
  auto back = deleter->deltas_since(0, 2 * resets + 10);
  if (!back) die("deltas_since failed");
  for (const cairn::LoggedDelta& delta : *back) {
    if (!writer->merge_delta(delta.bytes, deleter->replica_id())) die("merge back failed");
  }
  auto vector = writer->context_vector();
  if (!vector) die("context_vector failed");
  const std::vector<cairn::ReplicaReport> reports{{writer->replica_id(), *vector}};
  const auto sweep_start = Clock::now();
  std::uint64_t dropped = 0, removed = 0;
  for (;;) {
    auto pass = deleter->compact_counter_resets(reports, 256);
    if (!pass) die("compaction failed: " + pass.error().to_string());
    dropped += pass->resets_dropped;
    removed += pass->records_removed;
    if (pass->wrapped) break;
  }
  const double sweep_seconds = seconds_since(sweep_start);
  std::printf("compaction: %llu resets dropped, %llu records removed in %.2f s (%.1f us each); the %llu deletes that "
              "made them took %.2f s (%.1f us each), kNoSync\n",
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(removed), sweep_seconds,
              1e6 * sweep_seconds / static_cast<double>(std::max<std::uint64_t>(dropped, 1)),
              static_cast<unsigned long long>(resets), delete_seconds,
              1e6 * delete_seconds / static_cast<double>(resets));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> peer_counts{10, 50};
  std::uint64_t seconds = 60, writes_per_second = 10, resets = 100'000;
  std::string dir = "/tmp";
  CLI::App app{"stability_bench: the cost of context reports and counter-reset compaction"};
  app.add_option("--peers", peer_counts, "Cluster sizes (comma separated)")->delimiter(',');
  app.add_option("--seconds", seconds, "Virtual seconds of writes per run")->capture_default_str();
  app.add_option("--writes-per-second", writes_per_second, "Register writes per virtual second")->capture_default_str();
  app.add_option("--resets", resets, "Counter resets to compact")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (a fresh subdirectory is made and removed)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (writes_per_second == 0 || writes_per_second > 1000) die("--writes-per-second must be 1 to 1000");

  const fs::path root = fs::path(dir) / ("stability_bench-" + std::to_string(getpid()));
  for (int peers : peer_counts) {
    const Traffic with = run_cluster(root / ("with-" + std::to_string(peers)), peers, seconds, writes_per_second, true);
    const Traffic without =
        run_cluster(root / ("without-" + std::to_string(peers)), peers, seconds, writes_per_second, false);
    const double extra = static_cast<double>(with.bytes) - static_cast<double>(without.bytes);
    std::printf("%3d peers, %llu s, %llu writes/s: all gossip %llu bytes without reports, %llu with; reports add "
                "%.0f bytes (%.1f%%), %llu reports, %.0f bytes each, %.0f bytes/s per peer\n",
                peers, static_cast<unsigned long long>(seconds), static_cast<unsigned long long>(writes_per_second),
                static_cast<unsigned long long>(without.bytes), static_cast<unsigned long long>(with.bytes), extra,
                100.0 * extra / static_cast<double>(std::max<std::uint64_t>(without.bytes, 1)),
                static_cast<unsigned long long>(with.reports),
                extra / static_cast<double>(std::max<std::uint64_t>(with.reports, 1)),
                extra / static_cast<double>(seconds) / peers);
  }
  compaction(root / "compaction", resets);
  fs::remove_all(root);
}
