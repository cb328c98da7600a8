// Latency histograms of client requests, one per operation, as Prometheus histograms
// (docs/observability.md, "Client requests"). Header-only, so the front doors that count (src/server,
// src/resp) need no library of their own for it.
//
// Buckets, in seconds: 50 us to 5 s in 1-2.5-5 steps. Why these: a read served from LMDB's page cache
// answers in tens of microseconds (50 us is the first bound that separates them from the rest), a
// synced commit takes ~0.2 ms on an idle disk and ~6 ms under load (docs/BENCHMARKS.md), group commits
// of a busy peer tens of ms, and 5 s is the CLI's default timeout: a request slower than that has
// failed for its client, so finer bounds above it would say nothing. Sixteen bounds plus +Inf keep a
// scrape at 19 series per operation.
//
// Not thread-safe by itself: the owners (SessionCounters, RespCounters) observe under their lock.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/metrics.h"

namespace cairn::metrics {

inline constexpr std::array<double, 16> kLatencyBucketsSeconds = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};

struct LatencyHistogram {
  // Observations per bucket, NOT cumulative: in_bucket[i] counts the ones in (bound[i-1], bound[i]];
  // the last slot counts those above every bound.
  std::array<std::uint64_t, kLatencyBucketsSeconds.size() + 1> in_bucket{};
  double sum_seconds = 0;
  std::uint64_t count = 0;

  void observe(std::chrono::nanoseconds elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::size_t bucket = 0;
    while (bucket < kLatencyBucketsSeconds.size() && seconds > kLatencyBucketsSeconds[bucket]) ++bucket;
    ++in_bucket[bucket];
    sum_seconds += seconds;
    ++count;
  }
};

// Histograms by operation name ("put", "get", ... or a RESP command "set").
using LatencyByOp = std::map<std::string, LatencyHistogram, std::less<>>;

inline void observe(LatencyByOp& histograms, std::string_view op, std::chrono::nanoseconds elapsed) {
  auto found = histograms.find(op);
  if (found == histograms.end()) found = histograms.emplace(std::string(op), LatencyHistogram{}).first;
  found->second.observe(elapsed);
}

// Appends `name`_bucket{op,le} (cumulative, le="+Inf" last), `name`_sum{op} and `name`_count{op} for
// every operation, each a MetricType::kHistogram sample, so the renderer writes one family `name`.
inline void append_latency_samples(const std::string& name, const std::string& help, const LatencyByOp& histograms,
                                   std::vector<MetricSample>& out) {
  for (const auto& [op, histogram] : histograms) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < histogram.in_bucket.size(); ++i) {
      cumulative += histogram.in_bucket[i];
      char bound[32];
      if (i < kLatencyBucketsSeconds.size()) {
        std::snprintf(bound, sizeof bound, "%g", kLatencyBucketsSeconds[i]);
      } else {
        std::snprintf(bound, sizeof bound, "+Inf");
      }
      out.push_back(MetricSample{name + "_bucket", help, MetricType::kHistogram, {{"op", op}, {"le", bound}},
                                 static_cast<double>(cumulative)});
    }
    out.push_back(MetricSample{name + "_sum", help, MetricType::kHistogram, {{"op", op}}, histogram.sum_seconds});
    out.push_back(MetricSample{name + "_count", help, MetricType::kHistogram, {{"op", op}},
                               static_cast<double>(histogram.count)});
  }
}

}  // namespace cairn::metrics
