// The Prometheus text renderer (src/metrics/prometheus.h).
#include "src/metrics/prometheus.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

namespace cairn::metrics {
namespace {

MetricSample sample(std::string name, MetricType type,
                    std::vector<std::pair<std::string, std::string>> labels, double value,
                    std::string help = "") {
  return MetricSample{std::move(name), std::move(help), type, std::move(labels), value};
}

}  // namespace

TEST_CASE("samples render as exposition format 0.0.4, grouped by name in first-seen order") {
  const std::vector<MetricSample> samples = {
      sample("cairn_operations_total", MetricType::kCounter, {{"op", "put"}}, 12,
             "Store operations by kind."),
      sample("cairn_peers", MetricType::kGauge, {{"state", "alive"}}, 2, "Peers by membership state."),
      sample("cairn_operations_total", MetricType::kCounter, {{"op", "get"}}, 40,
             "ignored: the first help wins"),
      sample("cairn_lmdb_map_size_bytes", MetricType::kGauge, {}, 268435456, "The LMDB map size."),
      sample("cairn_peers", MetricType::kGauge, {{"state", "suspect"}}, 0),
  };
  CHECK(render_prometheus(samples) ==
        "# HELP cairn_operations_total Store operations by kind.\n"
        "# TYPE cairn_operations_total counter\n"
        "cairn_operations_total{op=\"put\"} 12\n"
        "cairn_operations_total{op=\"get\"} 40\n"
        "# HELP cairn_peers Peers by membership state.\n"
        "# TYPE cairn_peers gauge\n"
        "cairn_peers{state=\"alive\"} 2\n"
        "cairn_peers{state=\"suspect\"} 0\n"
        "# HELP cairn_lmdb_map_size_bytes The LMDB map size.\n"
        "# TYPE cairn_lmdb_map_size_bytes gauge\n"
        "cairn_lmdb_map_size_bytes 268435456\n");
  CHECK(render_prometheus({}).empty());
}

TEST_CASE("label values and help text are escaped") {
  const std::vector<MetricSample> samples = {
      sample("m", MetricType::kGauge, {{"a", "back\\slash"}, {"b", "say \"hi\""}, {"c", "two\nlines"}}, 1,
             "help with \\ and\nnewline and \"quotes\""),
  };
  CHECK(render_prometheus(samples) ==
        "# HELP m help with \\\\ and\\nnewline and \"quotes\"\n"
        "# TYPE m gauge\n"
        "m{a=\"back\\\\slash\",b=\"say \\\"hi\\\"\",c=\"two\\nlines\"} 1\n");
}

TEST_CASE("characters not allowed in names become underscores") {
  const std::vector<MetricSample> samples = {
      sample("9bad-name:x", MetricType::kCounter, {{"la-bel:y", "v"}, {"", "w"}}, 3),
  };
  CHECK(render_prometheus(samples) ==
        "# TYPE _bad_name:x counter\n"
        "_bad_name:x{la_bel_y=\"v\",_=\"w\"} 3\n");
}

TEST_CASE("values are written exactly: integers without exponent, special values spelled per spec") {
  CHECK(format_sample_value(0) == "0");
  CHECK(format_sample_value(-0.0) == "0");
  CHECK(format_sample_value(1) == "1");
  CHECK(format_sample_value(-3) == "-3");
  CHECK(format_sample_value(1e6) == "1000000");
  CHECK(format_sample_value(68719476736.0) == "68719476736");
  CHECK(format_sample_value(9007199254740993.0) == "9007199254740992");  // Nearest double to 2^53 + 1.
  CHECK(format_sample_value(1e19) == "10000000000000000000");
  CHECK(format_sample_value(18446744073709551616.0) == "1.8446744073709552e+19");  // 2^64: not below it.
  CHECK(format_sample_value(0.25) == "0.25");
  CHECK(format_sample_value(-2.5) == "-2.5");
  CHECK(format_sample_value(1.5e-7) == "1.5e-07");
  CHECK(format_sample_value(0.1) == "0.1");
  CHECK(format_sample_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  // Every finite value reads back exactly.
  for (const double value : {0.1, 1.0 / 3, 123456.789, 6.02214076e23, 5e-324, 1.7976931348623157e308}) {
    CHECK(std::strtod(format_sample_value(value).c_str(), nullptr) == value);
  }
}

}  // namespace cairn::metrics
