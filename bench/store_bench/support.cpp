// store_bench's shared parts (store_bench.h): command line, data, results table, store helpers.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "bench/store_bench/store_bench.h"

namespace store_bench {

void die(const std::string& message) {
  std::fprintf(stderr, "store_bench: %s\n", message.c_str());
  std::exit(1);
}

Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> phases(args.phases.begin(), args.phases.end());
  CLI::App app{"store_bench: cairn::Store against raw LMDB doing the same work (docs/BENCHMARKS.md)"};
  app.add_option("--keys", args.keys, "Keys filled for the kNoSync, get, scan and open figures")
      ->capture_default_str();
  app.add_option("--group-threads", args.group_threads, "Writer threads per kGroup figure")->delimiter(',');
  app.add_option("--group-puts", args.group_puts, "Puts per kGroup figure, one per thread count")
      ->delimiter(',');
  app.add_option("--group-seconds", args.group_seconds, "Cap on the store's time per kGroup figure (0: none)")
      ->capture_default_str();
  app.add_option("--nosync-threads", args.nosync_threads, "Writer threads per kNoSync figure")
      ->delimiter(',');
  app.add_option("--get-threads", args.get_threads, "Reader threads per get figure")->delimiter(',');
  app.add_option("--gets", args.gets, "Gets per thread count")->capture_default_str();
  app.add_option("--rounds", args.rounds, "Interleaved rounds of store and baseline")
      ->check(CLI::PositiveNumber);
  app.add_option("--scan-rounds", args.scan_rounds, "Scans of the whole store")->check(CLI::PositiveNumber);
  app.add_option("--big-set", args.big_set, "Members of the big set")->capture_default_str();
  app.add_option("--small-sets", args.small_sets, "Number of small sets")->capture_default_str();
  app.add_option("--set-ops", args.set_ops, "sadd operations measured per set kind")->capture_default_str();
  app.add_option("--lookups", args.lookups, "sismember lookups measured per set kind")->capture_default_str();
  app.add_option("--opens", args.opens, "Store::open timings (median)")->check(CLI::PositiveNumber);
  app.add_option("--dir", args.dir, "Where the scratch data directories go")->capture_default_str();
  app.add_option("--phases", phases, "Any of group,nosync,get,scan,open,set")
      ->delimiter(',')
      ->check(CLI::IsMember({"group", "nosync", "get", "scan", "open", "set"}));
  app.add_flag("--keep", args.keep, "Keep the data directories");
  app.add_flag("--verbose", args.verbose, "Per-round figures of the put phases");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error));
  }
  args.phases = std::set<std::string>(phases.begin(), phases.end());
  if (args.group_puts.size() != args.group_threads.size())
    die("--group-puts needs one count per --group-threads");
  if (args.nosync_threads.empty()) die("--nosync-threads needs at least one thread count");
  // get, scan and open read the store the nosync phase fills.
  if (args.phases.contains("get") || args.phases.contains("scan") || args.phases.contains("open")) {
    args.phases.insert("nosync");
  }
  return args;
}


std::vector<std::string> random_strings(std::size_t count, std::size_t bytes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out(count, std::string(bytes, '\0'));
  for (std::string& s : out) {
    for (std::size_t i = 0; i < bytes; i += 8) {
      std::uint64_t word = rng();
      for (std::size_t j = i; j < std::min(bytes, i + 8); ++j, word >>= 8)
        s[j] = static_cast<char>(word & 0xff);
    }
  }
  return out;
}

std::vector<Row> g_rows;

std::string rate(double per_second) {
  if (per_second >= 1e6) return fmt("%.2f M/s", per_second / 1e6);
  if (per_second >= 1e3) return fmt("%.1f k/s", per_second / 1e3);
  return fmt("%.0f /s", per_second);
}


void add_rate_row(const std::string& figure, double store, double baseline, double at_least) {
  const double ratio = store / baseline;
  Row row{figure, rate(store), rate(baseline), fmt("%.2fx", ratio), "", ""};
  if (at_least > 0) {
    row.target = fmt(">= %.1fx", at_least);
    row.met = ratio >= at_least ? "yes" : "NO";
  }
  g_rows.push_back(row);
  std::printf("  -> %s: store %s, baseline %s, ratio %s\n", figure.c_str(), row.store.c_str(),
              row.baseline.c_str(), row.ratio.c_str());
  std::fflush(stdout);
}

void print_table() {
  std::size_t w[5] = {6, 5, 8, 5, 6};
  for (const Row& r : g_rows) {
    w[0] = std::max(w[0], r.figure.size());
    w[1] = std::max(w[1], r.store.size());
    w[2] = std::max(w[2], r.baseline.size());
    w[3] = std::max(w[3], r.ratio.size());
    w[4] = std::max(w[4], r.target.size());
  }
  const auto line = [&](const std::string& a, const std::string& b, const std::string& c,
                        const std::string& d, const std::string& e, const std::string& f) {
    std::printf("| %-*s | %*s | %*s | %*s | %-*s | %s |\n", static_cast<int>(w[0]), a.c_str(),
                static_cast<int>(w[1]), b.c_str(), static_cast<int>(w[2]), c.c_str(), static_cast<int>(w[3]),
                d.c_str(), static_cast<int>(w[4]), e.c_str(), f.c_str());
  };
  std::printf("\n");
  line("figure", "store", "baseline", "ratio", "target", "met");
  line(std::string(w[0], '-'), std::string(w[1], '-'), std::string(w[2], '-'), std::string(w[3], '-'),
       std::string(w[4], '-'), "---");
  for (const Row& r : g_rows) line(r.figure, r.store, r.baseline, r.ratio, r.target, r.met);
}


double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

cairn::StoreOptions store_options(cairn::Durability durability) {
  cairn::StoreOptions options;
  options.durability = durability;
  // As large as the baseline's map, so neither pays for growing it mid-run (the store would double
  // it automatically from 256 MiB; raw LMDB cannot).
  options.map_size_bytes = 4ull << 30;
  return options;
}

std::unique_ptr<cairn::Store> open_store(const std::string& dir, const cairn::StoreOptions& options) {
  auto store = cairn::Store::open(dir, options);
  if (!store) die("Store::open " + dir + ": " + store.error().to_string());
  return std::move(*store);
}

std::uint64_t data_file_bytes(const std::string& dir) {
  std::error_code ec;
  const auto size = fs::file_size(fs::path(dir) / "data.mdb", ec);
  return ec ? 0 : size;
}

void remove_dir(const Context& ctx, const std::string& dir) {
  if (!ctx.args.keep) fs::remove_all(dir);
}

}  // namespace store_bench
