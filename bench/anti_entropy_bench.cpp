// anti_entropy_bench: what a hash tree reconciliation costs, in bytes and time, against the bytes of
// the records that actually differ (the lower bound), all in one run. Run by hand (never as a test);
// docs/BENCHMARKS.md ("Anti-entropy") records the figures and the command.
//
//   anti_entropy_bench [--records=1000000] [--differing=100,10000] [--value-bytes=100]
//                      [--catch-up-writes=100000] [--dir=/tmp]
//
// Two stores (LMDB, kNoSync) share --records register records, loaded as delta-groups of another
// replica's writes. For each --differing count d, d/2 records are overwritten on one store and d/2 new
// ones written on the other; one anti-entropy round (sim::StorePair: the real machines and the real
// frames, delivered in memory, so network latency is not included) reconciles them. Reported: whole
// frame bytes both ways, frames, wall time, and the lower bound (the user bytes of the differing
// records: key plus value). Then catch-up: one store receives --catch-up-writes writes of other
// replicas while the other is away (its neighbours' logs trimmed), and a round brings it back.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "src/store/replica.h"
#include "gossip/sim/store_pair.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "anti_entropy_bench: %s\n", message.c_str());
  std::exit(1);
}

std::unique_ptr<cairn::store::Replica> open_store(const fs::path& path) {
  cairn::StoreOptions options;
  options.durability = cairn::Durability::kNoSync;
  options.map_size_bytes = 4ull << 30;
  auto store = cairn::store::open_replica(path.string(), cairn::store::ReplicaOptions{options, nullptr});
  if (!store) die("cannot open " + path.string() + ": " + store.error().to_string());
  return std::move(*store);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Run {
  std::uint64_t bytes = 0, frames = 0, lower_bound = 0;
  double seconds = 0;
};

Run reconcile(cairn::sim::StorePair& pair, std::uint64_t lower_bound) {
  const auto start = Clock::now();
  const auto round = pair.reconcile();
  Run run{round.bytes, round.frames, lower_bound, seconds_since(start)};
  if (!round.in_sync) std::printf("  (the round ended without finding every bucket equal)\n");
  return run;
}

void report(const char* what, const Run& run, std::uint64_t data_set_bytes) {
  std::printf(
      "%-44s %12llu bytes %6llu frames %8.3f s | lower bound %10llu bytes (x%.1f) | %.4f%% of data set\n",
      what, static_cast<unsigned long long>(run.bytes), static_cast<unsigned long long>(run.frames),
      run.seconds, static_cast<unsigned long long>(run.lower_bound),
      run.lower_bound > 0 ? static_cast<double>(run.bytes) / static_cast<double>(run.lower_bound) : 0.0,
      100.0 * static_cast<double>(run.bytes) / static_cast<double>(data_set_bytes));
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t records = 1'000'000;
  std::vector<std::uint64_t> differing{100, 10'000};
  std::size_t value_bytes = 100;
  std::uint64_t catch_up_writes = 100'000;
  std::string dir = "/tmp";
  CLI::App app{"anti_entropy_bench: bytes and time of hash tree reconciliation"};
  app.add_option("--records", records, "Records both stores share")->capture_default_str();
  app.add_option("--differing", differing, "Differing record counts to reconcile (comma separated)")
      ->delimiter(',');
  app.add_option("--value-bytes", value_bytes, "Bytes per register value")->capture_default_str();
  app.add_option("--catch-up-writes", catch_up_writes, "Writes a returning peer missed")
      ->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (a fresh subdirectory is made and removed)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const fs::path root = fs::path(dir) / ("anti_entropy_bench-" + std::to_string(getpid()));
  fs::create_directories(root);
  {
    auto a = open_store(root / "a");
    auto b = open_store(root / "b");
    const auto load_start = Clock::now();
    const std::uint64_t data_set_bytes =
        cairn::sim::load_registers({a.get(), b.get()}, 0x5eed, "key/", 0, records, value_bytes);
    if (data_set_bytes == 0) die("loading the data set failed");
    std::printf(
        "data set: %llu records of %zu-byte values, %llu bytes as delta-groups (loaded into both in %.1f "
        "s)\n",
        static_cast<unsigned long long>(records), value_bytes,
        static_cast<unsigned long long>(data_set_bytes), seconds_since(load_start));
    cairn::sim::StorePair pair(*a, *b);
    std::uint64_t fresh = 0;
    for (std::uint64_t count : differing) {
      std::uint64_t lower_bound = 0;
      const std::string value(value_bytes, 'x');
      for (std::uint64_t i = 0; i < count; ++i) {
        // Half overwrites of shared records on a, half new records on b.
        const bool on_a = i % 2 == 0;
        const std::string key =
            on_a ? "key/" + std::to_string((i * 7919 + fresh) % records) : "new/" + std::to_string(fresh + i);
        if (!(on_a ? a : b)->put(key, value)) die("write failed");
        lower_bound += key.size() + value.size();
      }
      fresh += count;
      const std::string what = std::to_string(count) + " differing of " + std::to_string(records);
      report(what.c_str(), reconcile(pair, lower_bound), data_set_bytes);
    }

    // Catch-up: a takes catch_up_writes writes of other replicas while b is away.
    const std::uint64_t missed_bytes =
        cairn::sim::load_registers({a.get()}, 0xca7c4, "missed/", 0, catch_up_writes, value_bytes);
    std::uint64_t lower_bound = 0;
    for (std::uint64_t i = 0; i < catch_up_writes; ++i)
      lower_bound += std::string("missed/").size() + std::to_string(i).size() + value_bytes;
    const std::string what = "catch-up after " + std::to_string(catch_up_writes) + " writes";
    report(what.c_str(), reconcile(pair, lower_bound), data_set_bytes);
    std::printf("  (the missed writes as delta-groups: %llu bytes)\n",
                static_cast<unsigned long long>(missed_bytes));
    auto check = b->get("missed/" + std::to_string(catch_up_writes - 1));
    if (!check) die("the returning store did not catch up");
  }
  fs::remove_all(root);
  return 0;
}
