// One reading of one metric: what /metrics renders as Prometheus text, `cairn stats` shows and
// Node::metrics() returns to an embedding application.
//
// A Node collects its readings into a vector of samples on demand; the renderers (Prometheus text,
// the client protocol's stats reply) know nothing of where the numbers come from.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cairn {

// kHistogram: one series of a Prometheus histogram; a histogram `x` is the samples x_bucket (with an
// `le` label), x_sum and x_count, all of this type, rendered as one family `x`.
enum class MetricType { kCounter, kGauge, kHistogram };

struct MetricSample {
  std::string name;  // Prometheus name, e.g. "cairn_operations_total".
  std::string help;  // One line for "# HELP".
  MetricType type = MetricType::kCounter;
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. {{"op", "put"}}.
  double value = 0;
};

}  // namespace cairn
