// store_bench phases 3 and 5: gets, a whole-store scan and Store::open against raw LMDB.
#include <algorithm>
#include <cstdio>

#include "bench/store_bench/store_bench.h"

namespace store_bench {
namespace {

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

}  // namespace

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

}  // namespace store_bench
