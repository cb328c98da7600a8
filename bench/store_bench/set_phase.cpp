// store_bench phase 4: sadd and sismember latency on one huge set against many small ones.
#include <algorithm>
#include <cstdio>

#include "bench/store_bench/store_bench.h"

namespace store_bench {
namespace {

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

}  // namespace

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

}  // namespace store_bench
