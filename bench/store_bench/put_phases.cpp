// store_bench phases 1 and 2: puts under Durability::kGroup and kNoSync against raw LMDB committing the
// same puts in as many transactions.
#include <algorithm>
#include <cstdio>
#include <optional>

#include "bench/store_bench/store_bench.h"

namespace store_bench {
namespace {

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


}  // namespace

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


}  // namespace store_bench
