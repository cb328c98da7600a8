// The Prometheus text renderer (src/metrics/prometheus.h).
#include "src/metrics/prometheus.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "src/metrics/latency_histogram.h"
#include "src/metrics/process_metrics.h"
#include "tests/support/exposition_check.h"

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

namespace cairn::metrics {

// ---- Histograms (src/metrics/latency_histogram.h) and process metrics (src/metrics/process_metrics.h) ----

TEST_CASE("a latency histogram renders as one histogram family with cumulative buckets, _sum and _count") {
  LatencyByOp histograms;
  observe(histograms, "get", std::chrono::microseconds(30));   // <= 50 us.
  observe(histograms, "get", std::chrono::microseconds(50));   // == 50 us: le is inclusive.
  observe(histograms, "get", std::chrono::milliseconds(3));    // (2.5 ms, 5 ms].
  observe(histograms, "get", std::chrono::seconds(9));         // Above every bound: +Inf only.
  observe(histograms, "put", std::chrono::milliseconds(1));
  std::vector<MetricSample> samples;
  samples.push_back(sample("cairn_before", MetricType::kCounter, {}, 1));
  append_latency_samples("cairn_request_duration_seconds", "Latency.", histograms, samples);
  samples.push_back(sample("cairn_after", MetricType::kGauge, {}, 2));
  const std::string text = render_prometheus(samples);
  INFO(text);

  const test::ExpositionCheck check = test::check_exposition(text);
  CHECK(check.problems.empty());
  for (const std::string& problem : check.problems) UNSCOPED_INFO(problem);
  CHECK(check.types.at("cairn_request_duration_seconds") == "histogram");
  CHECK(text.find("# TYPE cairn_request_duration_seconds histogram\n") != std::string::npos);
  CHECK(text.find("# TYPE cairn_request_duration_seconds_bucket") == std::string::npos);
  const auto bucket = [&](const std::string& op, const std::string& le) {
    const auto found = check.find("cairn_request_duration_seconds_bucket", {{"op", op}, {"le", le}});
    REQUIRE(found.size() == 1);
    return found.front().value;
  };
  CHECK(bucket("get", "5e-05") == 2);
  CHECK(bucket("get", "0.0025") == 2);
  CHECK(bucket("get", "0.005") == 3);
  CHECK(bucket("get", "5") == 3);
  CHECK(bucket("get", "+Inf") == 4);
  CHECK(bucket("put", "0.0005") == 0);
  CHECK(bucket("put", "0.001") == 1);
  CHECK(check.find("cairn_request_duration_seconds_count", {{"op", "get"}}).front().value == 4);
  CHECK(check.find("cairn_request_duration_seconds_sum", {{"op", "get"}}).front().value ==
        Approx(9.00308).epsilon(1e-9));
  CHECK(check.find("cairn_request_duration_seconds_bucket", {{"op", "get"}}).size() ==
        kLatencyBucketsSeconds.size() + 1);
}

TEST_CASE("the exposition checker catches what Prometheus would refuse") {
  CHECK_FALSE(test::check_exposition("# TYPE a counter\nb 1\n").problems.empty());  // Outside its family.
  CHECK_FALSE(test::check_exposition("# TYPE a counter\na{x=\"1} 1\n").problems.empty());
  CHECK_FALSE(test::check_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                                     "h_sum 1\nh_count 1\n")
                  .problems.empty());  // Falling counts.
  CHECK_FALSE(test::check_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")
                  .problems.empty());  // No +Inf.
  CHECK(test::check_exposition("# HELP a Help.\n# TYPE a counter\na{x=\"q\\\"\"} 1\n").problems.empty());
}

TEST_CASE("process metrics are read from /proc with sane values") {
  std::vector<MetricSample> samples;
  append_process_metrics(samples);
  std::map<std::string, double> value;
  for (const MetricSample& each : samples) value[each.name] = each.value;
  REQUIRE(value.size() == 6);
  CHECK(value.at("process_cpu_seconds_total") >= 0);
  CHECK(value.at("process_resident_memory_bytes") > 1e5);  // Any process holds more than 100 KB.
  CHECK(value.at("process_virtual_memory_bytes") >= value.at("process_resident_memory_bytes"));
  CHECK(value.at("process_open_fds") >= 3);  // stdin, stdout, stderr at least.
  CHECK(value.at("process_max_fds") >= value.at("process_open_fds"));
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(value.at("process_start_time_seconds") <= now + 1);
  CHECK(value.at("process_start_time_seconds") > now - 3600);  // This test process started just now.
  CHECK(test::check_exposition(render_prometheus(samples)).problems.empty());
}

}  // namespace cairn::metrics
