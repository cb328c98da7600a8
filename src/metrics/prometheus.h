// Renders metric samples as the Prometheus text exposition format, version 0.0.4: what /metrics serves.
//
// Output. Samples are grouped by metric family, in the order each family first appears; within a
// family, samples keep their order. A family is the sample's name, except for MetricType::kHistogram
// samples, whose family is their name without its _bucket, _sum or _count suffix (so a histogram `x`
// is one "# TYPE x histogram" group of x_bucket, x_sum and x_count lines, as the format requires). Each group starts with "# HELP" (only when the help text is not empty) and
// "# TYPE", taken from the group's first sample. A sample line is `name{label="value",...} value`,
// without braces when there are no labels. Label values escape backslash, double quote and newline;
// help text escapes backslash and newline. Values: finite integral values below 2^64 in magnitude are
// written as integers without exponent ("1048576", "-3"); other finite values in the shortest form
// that reads back exactly ("0.25", "1.5e-07"); non-finite ones as "NaN", "+Inf" and "-Inf".
//
// Names are the caller's contract (include/cairn/metrics.h). A character that Prometheus does not allow
// in a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name ([a-zA-Z_][a-zA-Z0-9_]*) is replaced by
// '_', so that one bad name cannot make the whole scrape unparseable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cairn/metrics.h"

namespace cairn::metrics {

// The Content-Type of the text format.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Pure: no I/O, no clock. Returns "" for no samples.
std::string render_prometheus(const std::vector<MetricSample>& samples);

// The value as the format writes it (see above); exposed for tests and other renderers.
std::string format_sample_value(double value);

// One sample's line as render_prometheus writes it, without the newline: `name{label="value"} value`
// (what `cairn stats` prints).
std::string format_sample_line(const MetricSample& sample);

}  // namespace cairn::metrics
