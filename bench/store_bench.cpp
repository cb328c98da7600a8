// store_bench: cairn::Store against raw LMDB doing the same work with the same durability, in the same
// run, on the same disk. Run by hand (never as a test); docs/BENCHMARKS.md records the figures and the
// command that reproduces them.
//
//   store_bench [--keys=N] [--group-threads=1,8,64] [--group-puts=A,B,C] [--group-seconds=S]
//               [--nosync-threads=1,8]
//               [--get-threads=1,2] [--gets=N] [--rounds=N] [--scan-rounds=N] [--big-set=N] [--small-sets=N]
//               [--set-ops=N] [--lookups=N] [--opens=N] [--dir=/tmp] [--phases=group,nosync,...] [--keep]
//               [--verbose]
//
// Phases (all by default): group (Durability::kGroup puts, 1/8/64 writer threads), nosync
// (Durability::kNoSync puts; its last run fills the store the next three phases read), get, scan, open,
// set (sadd/sismember on a small vs a huge set).
//
// Commits are counted from LMDB's transaction id: with the store closed, a read-only LMDB environment
// on its directory reports me_last_txnid; the difference across a run is the number of write
// transactions the store committed (nested transactions do not count; each top-level commit does).
// The raw-LMDB baseline then commits the same puts in exactly as many transactions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include "bench/raw_lmdb.h"

#include "cairn/store.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using cairn_bench::RawLmdb;
using cairn_bench::RawOptions;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "store_bench: %s\n", message.c_str());
  std::exit(1);
}

// ---------------------------------------------------------------------------------------------------
// Command line.

struct Args {
  std::size_t keys = 1'000'000;
  std::vector<std::size_t> group_threads{1, 8, 64};
  std::vector<std::size_t> group_puts{20'000, 200'000, 1'000'000};
  double group_seconds = 30;  // Cap on the store's time per kGroup figure (0: none); see --group-seconds.
  std::vector<std::size_t> nosync_threads{1, 8};
  std::vector<std::size_t> get_threads{1, 2};
  std::size_t gets = 1'000'000;
  std::size_t rounds = 10;
  std::size_t scan_rounds = 3;
  std::size_t big_set = 1'000'000;
  std::size_t small_sets = 10'000;
  std::size_t small_set_size = 10;
  std::size_t set_ops = 10'000;
  std::size_t lookups = 200'000;
  std::size_t opens = 9;
  std::string dir = "/tmp";
  std::set<std::string> phases{"group", "nosync", "get", "scan", "open", "set"};
  bool keep = false;
  bool verbose = false;  // Per-round figures of the put phases.
};

// Flags use --name=value or --name value; lists are comma-separated (CLI11).
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

// ---------------------------------------------------------------------------------------------------
// Data: random 16-byte keys, 100-byte values (a pool of random values; key i gets value i % pool).

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

// A cheap per-thread generator for picking random keys during a timed loop.
struct XorShift {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

// ---------------------------------------------------------------------------------------------------
// Results.

struct Row {
  std::string figure;
  std::string store;     // The store's figure.
  std::string baseline;  // The baseline's figure ("" when there is none).
  std::string ratio;
  std::string target;
  std::string met;  // "yes", "NO" or "".
};

std::vector<Row> g_rows;

std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string rate(double per_second) {
  if (per_second >= 1e6) return fmt("%.2f M/s", per_second / 1e6);
  if (per_second >= 1e3) return fmt("%.1f k/s", per_second / 1e3);
  return fmt("%.0f /s", per_second);
}

// A row comparing two rates; the target is ratio >= `at_least` (0: no target).
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

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---------------------------------------------------------------------------------------------------
// The store.

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

struct Context {
  Args args;
  std::string root;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::string fill_store_dir;  // Filled by the nosync phase.
  std::string fill_raw_dir;
};

// Collects the first failure any thread saw.
class Failures {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (count_++ == 0) first_ = what;
  }
  void check(const char* phase) {
    std::lock_guard lock(mutex_);
    if (count_ > 0) die(std::string(phase) + ": " + std::to_string(count_) + " failures, first: " + first_);
  }

 private:
  std::mutex mutex_;
  std::size_t count_ = 0;
  std::string first_;
};

// Runs `work(thread_index)` on `threads` threads released together; returns the wall time.
template <typename Work>
double run_threads(std::size_t threads, Work&& work) {
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      go.wait();
      work(t);
    });
  }
  const auto start = Clock::now();
  go.count_down();
  for (std::thread& thread : pool) thread.join();
  return seconds_since(start);
}

// Puts keys[begin, end) from `threads` threads, each a contiguous slice, until done or until
// `deadline` (if any) passes. Returns the wall time; `done` receives the indices of the keys put.
double store_puts(cairn::Store& store, const std::vector<std::string>& keys,
                  const std::vector<std::string>& values, std::size_t begin, std::size_t end,
                  std::size_t threads, std::optional<Clock::time_point> deadline,
                  std::vector<std::size_t>& done) {
  Failures failures;
  const std::size_t count = end - begin;
  std::vector<std::size_t> reached(threads);
  const double seconds = run_threads(threads, [&](std::size_t t) {
    const std::size_t first = begin + count * t / threads;
    const std::size_t last = begin + count * (t + 1) / threads;
    std::size_t i = first;
    for (; i < last && !(deadline && Clock::now() > *deadline); ++i) {
      if (auto put = store.put(keys[i], values[i % values.size()]); !put)
        failures.add(put.error().to_string());
    }
    reached[t] = i;
  });
  failures.check("put");
  done.clear();
  for (std::size_t t = 0; t < threads; ++t) {
    for (std::size_t i = begin + count * t / threads; i < reached[t]; ++i) done.push_back(i);
  }
  return seconds;
}

struct PutRun {
  std::size_t puts = 0;
  std::uint64_t commits = 0;
  double store_seconds = 0;
  double raw_seconds = 0;
};

// One put figure: keys[0, count) into a fresh store with `threads` writers, and into a fresh raw-LMDB
// environment from one thread in exactly as many commits as the store made. The work is split into
// rounds, store then raw in each, so a change in machine load hits both alike. With
// `max_store_seconds` > 0 the store's part of each round stops at its share of that time (the raw
// part then puts the same keys).
PutRun put_run(const Context& ctx, const std::string& store_dir, const std::string& raw_dir,
               cairn::Durability durability, std::size_t count, std::size_t threads,
               double max_store_seconds) {
  const std::size_t rounds = ctx.args.rounds;
  PutRun run;
  open_store(store_dir, store_options(durability)).reset();  // Create it.
  const std::uint64_t created = cairn_bench::last_txnid_of(store_dir);
  open_store(store_dir, store_options(durability)).reset();
  if (const std::uint64_t reopened = cairn_bench::last_txnid_of(store_dir); reopened != created) {
    // Then each round's count includes the open's own commits; say so.
    std::printf("  note: opening the store alone committed %llu transactions\n",
                static_cast<unsigned long long>(reopened - created));
  }
  RawOptions raw_options;
  raw_options.no_sync = durability == cairn::Durability::kNoSync;
  RawLmdb raw(raw_dir, raw_options);
  std::vector<std::size_t> done;
  for (std::size_t r = 0; r < rounds; ++r) {
    const std::size_t begin = count * r / rounds;
    const std::size_t end = count * (r + 1) / rounds;
    const std::uint64_t before = cairn_bench::last_txnid_of(store_dir);
    double store_seconds = 0;
    {
      auto store = open_store(store_dir, store_options(durability));
      std::optional<Clock::time_point> deadline;
      if (max_store_seconds > 0) {
        deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                      max_store_seconds / static_cast<double>(rounds)));
      }
      store_seconds = store_puts(*store, ctx.keys, ctx.values, begin, end, threads, deadline, done);
      run.store_seconds += store_seconds;
    }
    const std::uint64_t commits = cairn_bench::last_txnid_of(store_dir) - before;
    run.commits += commits;
    run.puts += done.size();
    const std::uint64_t raw_before = raw.last_txnid();
    const auto start = Clock::now();
    raw.put_batched(ctx.keys, ctx.values, done, commits);
    const double raw_seconds = seconds_since(start);
    run.raw_seconds += raw_seconds;
    if (ctx.args.verbose) {
      std::printf("    round %zu: %zu puts in %llu commits; store %.3f s, raw %.3f s\n", r, done.size(),
                  static_cast<unsigned long long>(commits), store_seconds, raw_seconds);
    }
    if (raw.last_txnid() - raw_before != commits) die("raw LMDB commit count differs from the store's");
  }
  return run;
}

std::uint64_t data_file_bytes(const std::string& dir) {
  std::error_code ec;
  const auto size = fs::file_size(fs::path(dir) / "data.mdb", ec);
  return ec ? 0 : size;
}

// ---------------------------------------------------------------------------------------------------
// Phases.

void remove_dir(const Context& ctx, const std::string& dir) {
  if (!ctx.args.keep) fs::remove_all(dir);
}

// Reports one put figure.
void put_row(const char* mode, std::size_t threads, const PutRun& run, double target) {
  const double per_commit = static_cast<double>(run.puts) / static_cast<double>(run.commits);
  std::printf("  %zu threads: %zu puts, %llu commits (%.2f puts/commit); store %.2f s, raw %.2f s\n", threads,
              run.puts, static_cast<unsigned long long>(run.commits), per_commit, run.store_seconds,
              run.raw_seconds);
  add_rate_row(std::string(mode) + " puts, " + std::to_string(threads) + " thr, " + std::to_string(run.puts) +
                   " puts, " + fmt("%.2f", per_commit) + " puts/commit",
               static_cast<double>(run.puts) / run.store_seconds,
               static_cast<double>(run.puts) / run.raw_seconds, target);
}

void group_phase(Context& ctx) {
  std::printf(
      "\n== 1. puts, Durability::kGroup (every commit fsynced) vs raw LMDB, same puts per synced commit\n");
  for (std::size_t i = 0; i < ctx.args.group_threads.size(); ++i) {
    const std::size_t threads = ctx.args.group_threads[i];
    const std::size_t count = std::min(ctx.args.group_puts[i], ctx.keys.size());
    const std::string store_dir = ctx.root + "/group-" + std::to_string(threads) + "-store";
    const std::string raw_dir = ctx.root + "/group-" + std::to_string(threads) + "-raw";
    const PutRun run =
        put_run(ctx, store_dir, raw_dir, cairn::Durability::kGroup, count, threads, ctx.args.group_seconds);
    if (run.puts < count) std::printf("  (time cap: %zu of %zu puts done)\n", run.puts, count);
    put_row("kGroup", threads, run, 0.7);
    remove_dir(ctx, store_dir);
    remove_dir(ctx, raw_dir);
  }
}

void nosync_phase(Context& ctx) {
  std::printf("\n== 2. puts, Durability::kNoSync vs raw LMDB MDB_NOSYNC, same puts per commit\n");
  const std::size_t count = std::min(ctx.args.keys, ctx.keys.size());
  for (std::size_t i = 0; i < ctx.args.nosync_threads.size(); ++i) {
    const std::size_t threads = ctx.args.nosync_threads[i];
    const std::string store_dir = ctx.root + "/nosync-" + std::to_string(threads) + "-store";
    const std::string raw_dir = ctx.root + "/nosync-" + std::to_string(threads) + "-raw";
    const PutRun run = put_run(ctx, store_dir, raw_dir, cairn::Durability::kNoSync, count, threads, 0);
    put_row("kNoSync", threads, run, 0.5);
    std::printf("  data.mdb: store %.1f MiB, raw %.1f MiB\n",
                static_cast<double>(data_file_bytes(store_dir)) / 1048576.0,
                static_cast<double>(data_file_bytes(raw_dir)) / 1048576.0);
    if (i + 1 == ctx.args.nosync_threads.size()) {
      ctx.fill_store_dir = store_dir;  // The last run's directories are read by get, scan and open.
      ctx.fill_raw_dir = raw_dir;
    } else {
      remove_dir(ctx, store_dir);
      remove_dir(ctx, raw_dir);
    }
  }
}

// Random gets of existing keys from `threads` threads; each get in its own read transaction.
template <typename Get>
double timed_gets(const Context& ctx, std::size_t count, std::size_t threads, std::uint64_t seed, Get&& get) {
  const std::size_t filled = std::min(ctx.args.keys, ctx.keys.size());
  Failures failures;
  const double seconds = run_threads(threads, [&](std::size_t t) {
    XorShift rng{seed * 0x9E3779B97F4A7C15ull + t + 1};
    std::string value;
    const std::size_t mine = count * (t + 1) / threads - count * t / threads;
    for (std::size_t n = 0; n < mine; ++n) {
      const std::size_t i = rng.next() % filled;
      if (!get(ctx.keys[i], value)) {
        failures.add("get failed");
      } else if (value != ctx.values[i % ctx.values.size()]) {
        failures.add("get returned the wrong value");
      }
    }
  });
  failures.check("get");
  return seconds;
}

void get_phase(Context& ctx) {
  std::printf("\n== 3. gets of random existing keys (one read transaction per get) vs raw LMDB\n");
  auto store = open_store(ctx.fill_store_dir, store_options(cairn::Durability::kGroup));
  const auto store_get = [&](const std::string& key, std::string& out) {
    auto got = store->get(key);
    if (!got) return false;
    out = std::move(got->value);
    return true;
  };
  for (std::size_t threads : ctx.args.get_threads) {
    const std::size_t per_round = std::max<std::size_t>(1, ctx.args.gets / ctx.args.rounds);
    double store_s = 0, raw_s = 0, notls_s = 0;
    for (std::size_t r = 0; r < ctx.args.rounds; ++r) {  // Interleaved, so load changes hit all three alike.
      store_s += timed_gets(ctx, per_round, threads, r, store_get);
      {
        RawLmdb raw(ctx.fill_raw_dir, RawOptions{});
        raw_s += timed_gets(ctx, per_round, threads, r,
                            [&](const std::string& key, std::string& out) { return raw.get(key, out); });
      }
      {
        RawOptions notls;
        notls.no_tls = true;
        RawLmdb raw(ctx.fill_raw_dir, notls);
        notls_s += timed_gets(ctx, per_round, threads, r,
                              [&](const std::string& key, std::string& out) { return raw.get(key, out); });
      }
    }
    const double total = static_cast<double>(per_round * ctx.args.rounds);
    std::printf("  %zu threads: %.0f gets each; store %.2f s, raw %.2f s, raw+MDB_NOTLS %.2f s\n", threads,
                total, store_s, raw_s, notls_s);
    add_rate_row("gets, " + std::to_string(threads) + " thr (baseline: raw LMDB)", total / store_s,
                 total / raw_s, 0.7);
    add_rate_row("gets, " + std::to_string(threads) + " thr (breakdown: raw LMDB + MDB_NOTLS)",
                 total / store_s, total / notls_s, 0);
  }
}

void scan_phase(Context& ctx) {
  std::printf("\n== 5a. scan of the whole store (Store::scan(\"\")) vs a raw LMDB cursor walk\n");
  auto store = open_store(ctx.fill_store_dir, store_options(cairn::Durability::kGroup));
  double store_s = 0, raw_s = 0;
  std::size_t store_keys = 0, raw_keys = 0;
  for (std::size_t r = 0; r < ctx.args.scan_rounds; ++r) {
    auto start = Clock::now();
    auto cursor = store->scan("");
    for (;;) {
      auto key = cursor->next();
      if (!key) die("scan: " + key.error().to_string());
      if (!key->has_value()) break;
      ++store_keys;
    }
    store_s += seconds_since(start);
    RawLmdb raw(ctx.fill_raw_dir, RawOptions{});
    start = Clock::now();
    raw_keys += raw.scan_all();
    raw_s += seconds_since(start);
  }
  if (store_keys != raw_keys)
    die("scan: the store listed " + std::to_string(store_keys) + " keys, raw LMDB " +
        std::to_string(raw_keys));
  std::printf("  %zu keys per scan, %zu scans each; store %.2f s, raw %.2f s\n",
              store_keys / ctx.args.scan_rounds, ctx.args.scan_rounds, store_s, raw_s);
  add_rate_row("scan(\"\") keys/s over " + std::to_string(store_keys / ctx.args.scan_rounds) + " keys",
               static_cast<double>(store_keys) / store_s, static_cast<double>(raw_keys) / raw_s, 0);
}

double median(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

void open_phase(Context& ctx) {
  std::printf("\n== 5b. Store::open of the filled store (warm page cache), median of %zu\n", ctx.args.opens);
  std::vector<double> store_ms, raw_ms;
  for (std::size_t r = 0; r < ctx.args.opens; ++r) {
    auto start = Clock::now();
    auto store = open_store(ctx.fill_store_dir, store_options(cairn::Durability::kGroup));
    store_ms.push_back(seconds_since(start) * 1e3);
    store.reset();
    start = Clock::now();
    auto raw = std::make_unique<RawLmdb>(ctx.fill_raw_dir, RawOptions{});
    raw_ms.push_back(seconds_since(start) * 1e3);
  }
  const double store_median = median(store_ms);
  const double raw_median = median(raw_ms);
  std::printf("  store: median %.3f ms (min %.3f, max %.3f); raw env+dbi open: median %.3f ms\n",
              store_median, *std::min_element(store_ms.begin(), store_ms.end()),
              *std::max_element(store_ms.begin(), store_ms.end()), raw_median);
  g_rows.push_back(Row{"Store::open of the filled store (median)", fmt("%.2f ms", store_median),
                       fmt("%.2f ms", raw_median), fmt("%.1fx", store_median / raw_median), "< 50 ms",
                       store_median < 50 ? "yes" : "NO"});
}

struct Latencies {
  std::vector<double> ns;
  double seconds = 0;

  void add(Clock::time_point start) {
    const auto end = Clock::now();
    ns.push_back(std::chrono::duration<double, std::nano>(end - start).count());
    seconds += std::chrono::duration<double>(end - start).count();
  }
  double mean_us() const { return seconds * 1e6 / static_cast<double>(ns.size()); }
  double percentile_us(double p) {
    std::sort(ns.begin(), ns.end());
    return ns[std::min(ns.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ns.size())))] / 1e3;
  }
};

void set_rows(const std::string& what, std::size_t small_size, std::size_t big_size, Latencies& small,
              Latencies& big) {
  const double ratio = big.mean_us() / small.mean_us();
  const double p50_ratio = big.percentile_us(0.5) / small.percentile_us(0.5);
  std::printf(
      "  %s: %zu-member sets mean %.2f us (p50 %.2f, p99 %.2f), %s; the %zu-member set mean %.2f us (p50 "
      "%.2f, p99 %.2f), %s; ratio of means %.2fx, of medians %.2fx\n",
      what.c_str(), small_size, small.mean_us(), small.percentile_us(0.5), small.percentile_us(0.99),
      rate(1e6 / small.mean_us()).c_str(), big_size, big.mean_us(), big.percentile_us(0.5),
      big.percentile_us(0.99), rate(1e6 / big.mean_us()).c_str(), ratio, p50_ratio);
  g_rows.push_back(Row{what + " mean latency, " + std::to_string(big_size) + "-member set (store) vs " +
                           std::to_string(small_size) + "-member sets (baseline)",
                       fmt("%.2f us", big.mean_us()), fmt("%.2f us", small.mean_us()), fmt("%.2fx", ratio),
                       "<= 2x", ratio <= 2 ? "yes" : "NO"});
  g_rows.push_back(Row{what + " median latency, same", fmt("%.2f us", big.percentile_us(0.5)),
                       fmt("%.2f us", small.percentile_us(0.5)), fmt("%.2fx", p50_ratio), "", ""});
}

void set_phase(Context& ctx) {
  const std::size_t small_size = ctx.args.small_set_size;
  std::printf(
      "\n== 4. sadd / sismember: a %zu-member set vs %zu-member sets (Durability::kNoSync, 1 thread)\n",
      ctx.args.big_set, small_size);
  const std::string dir = ctx.root + "/sets-store";
  auto store = open_store(dir, store_options(cairn::Durability::kNoSync));
  const std::size_t small_sets = std::max<std::size_t>(1, ctx.args.small_sets);
  const std::size_t ops = std::min(ctx.args.set_ops, small_sets);  // One new member per small set.
  const std::vector<std::string> big = random_strings(ctx.args.big_set + ops, 16, 7);
  const std::vector<std::string> small = random_strings(small_sets * (small_size + 1), 16, 8);
  const auto small_key = [](std::size_t i) { return "small:" + std::to_string(i); };
  const std::string big_key = "big";

  auto start = Clock::now();
  constexpr std::size_t kFillBatch = 1000;
  for (std::size_t b = 0; b < ctx.args.big_set; b += kFillBatch) {
    const std::vector<std::string> batch(
        big.begin() + static_cast<std::ptrdiff_t>(b),
        big.begin() + static_cast<std::ptrdiff_t>(std::min(ctx.args.big_set, b + kFillBatch)));
    if (auto done = store->sadd(big_key, batch); !done) die("fill sadd: " + done.error().to_string());
  }
  const double big_fill = seconds_since(start);
  start = Clock::now();
  for (std::size_t i = 0; i < small_sets; ++i) {
    const auto first = small.begin() + static_cast<std::ptrdiff_t>(i * (small_size + 1));
    const std::vector<std::string> members(first, first + static_cast<std::ptrdiff_t>(small_size));
    if (auto done = store->sadd(small_key(i), members); !done) die("fill sadd: " + done.error().to_string());
  }
  std::printf("  filled the big set in %.1f s (%s members, batches of %zu), %zu small sets in %.1f s\n",
              big_fill, rate(static_cast<double>(ctx.args.big_set) / big_fill).c_str(), kFillBatch,
              small_sets, seconds_since(start));

  // Lookups of existing members, interleaved small/big in rounds so load changes hit both alike.
  Latencies small_is, big_is;
  XorShift rng{12345};
  const std::size_t lookups_per_round = std::max<std::size_t>(1, ctx.args.lookups / ctx.args.rounds);
  for (std::size_t r = 0; r < ctx.args.rounds; ++r) {
    for (std::size_t n = 0; n < lookups_per_round; ++n) {
      const std::size_t set = rng.next() % small_sets;
      const std::string key = small_key(set);
      const std::string& member = small[set * (small_size + 1) + rng.next() % small_size];
      const auto t = Clock::now();
      auto found = store->sismember(key, member);
      small_is.add(t);
      if (!found || !*found) die("sismember on a small set missed an existing member");
    }
    for (std::size_t n = 0; n < lookups_per_round; ++n) {
      const std::string& member = big[rng.next() % ctx.args.big_set];
      const auto t = Clock::now();
      auto found = store->sismember(big_key, member);
      big_is.add(t);
      if (!found || !*found) die("sismember on the big set missed an existing member");
    }
  }
  set_rows("sismember", small_size, ctx.args.big_set, small_is, big_is);

  // sadd of one new member per call: to a different small set each call (so each stays at
  // small_size members before the call), and to the big set.
  Latencies small_add, big_add;
  const std::size_t adds_per_round = std::max<std::size_t>(1, ops / ctx.args.rounds);
  for (std::size_t r = 0; r < ctx.args.rounds; ++r) {
    for (std::size_t n = 0; n < adds_per_round; ++n) {
      const std::size_t set = r * adds_per_round + n;
      const std::vector<std::string> member{small[set * (small_size + 1) + small_size]};
      const std::string key = small_key(set);
      const auto t = Clock::now();
      auto done = store->sadd(key, member);
      small_add.add(t);
      if (!done) die("sadd: " + done.error().to_string());
    }
    for (std::size_t n = 0; n < adds_per_round; ++n) {
      const std::vector<std::string> member{big[ctx.args.big_set + r * adds_per_round + n]};
      const auto t = Clock::now();
      auto done = store->sadd(big_key, member);
      big_add.add(t);
      if (!done) die("sadd: " + done.error().to_string());
    }
  }
  set_rows("sadd (1 new member)", small_size, ctx.args.big_set, small_add, big_add);
  store.reset();
  remove_dir(ctx, dir);
}

}  // namespace

int main(int argc, char** argv) {
  Context ctx;
  ctx.args = parse_args(argc, argv);
  std::size_t needed = ctx.args.keys;
  for (std::size_t puts : ctx.args.group_puts) needed = std::max(needed, puts);
  std::string root_template = ctx.args.dir + "/store_bench.XXXXXX";
  if (mkdtemp(root_template.data()) == nullptr) die("cannot create a directory under " + ctx.args.dir);
  ctx.root = root_template;

  std::printf("store_bench: data under %s; load average at start %s; %u hardware threads\n", ctx.root.c_str(),
              load_average().c_str(), std::thread::hardware_concurrency());
  const auto start = Clock::now();
  ctx.keys = random_strings(needed, 16, 1);
  ctx.values = random_strings(1024, 100, 2);
  std::printf("%zu random 16-byte keys, 100-byte values\n", ctx.keys.size());
  std::fflush(stdout);

  const auto& phases = ctx.args.phases;
  if (phases.contains("group")) group_phase(ctx);
  if (phases.contains("nosync")) nosync_phase(ctx);
  if (phases.contains("get")) get_phase(ctx);
  if (phases.contains("scan")) scan_phase(ctx);
  if (phases.contains("open")) open_phase(ctx);
  if (phases.contains("set")) set_phase(ctx);

  print_table();
  std::printf("\nload average at end %s; total %.0f s\n", load_average().c_str(), seconds_since(start));
  if (ctx.args.keep) {
    std::printf("kept %s\n", ctx.root.c_str());
  } else {
    fs::remove_all(ctx.root);
  }
  return 0;
}
