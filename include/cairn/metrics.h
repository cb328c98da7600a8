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

enum class MetricType { kCounter, kGauge };

struct MetricSample {
  std::string name;  // Prometheus name, e.g. "cairn_operations_total".
  std::string help;  // One line for "# HELP".
  MetricType type = MetricType::kCounter;
  std::vector<std::pair<std::string, std::string>> labels;  // e.g. {{"op", "put"}}.
  double value = 0;
};

}  // namespace cairn
