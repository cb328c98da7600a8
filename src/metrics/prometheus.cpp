#include "src/metrics/prometheus.h"

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <system_error>

namespace cairn::metrics {
namespace {

bool is_letter_or_underscore(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `name` with every character Prometheus does not allow there replaced by '_'. A metric name may also
// hold ':'; neither may start with a digit, and neither may be empty.
std::string sanitized_name(std::string_view name, bool allow_colon) {
  std::string out(name.empty() ? "_" : name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool allowed = is_letter_or_underscore(c) || (allow_colon && c == ':') || (i > 0 && is_digit(c));
    if (!allowed) out[i] = '_';
  }
  return out;
}

// Escapes backslash and newline, and double quote too when `quote` (label values).
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_sample_line(std::string& out, const std::string& name, const MetricSample& sample) {
  out += name;
  if (!sample.labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [label, value] : sample.labels) {
      if (!first) out += ',';
      first = false;
      out += sanitized_name(label, /*allow_colon=*/false);
      out += "=\"";
      append_escaped(out, value, /*quote=*/true);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_sample_value(sample.value);
  out += '\n';
}

// The family a sample belongs to: its name, or for a histogram's series its name without the
// _bucket, _sum or _count suffix.
std::string family_name(const MetricSample& sample) {
  std::string name = sanitized_name(sample.name, /*allow_colon=*/true);
  if (sample.type != MetricType::kHistogram) return name;
  for (const std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return name;
}

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return "0";  // Also -0.
  // 2^64 bounds every integer a counter can hold; integral values beyond are written in general form,
  // where the exponent keeps them short.
  constexpr double kTwoTo64 = 18446744073709551616.0;
  const bool integral = std::trunc(value) == value && std::fabs(value) < kTwoTo64;
  std::array<char, 64> buffer{};  // Shortest round-trip needs at most 24 characters; fixed, at most 21.
  const auto format = integral ? std::chars_format::fixed : std::chars_format::general;
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format);
  if (error != std::errc()) return "NaN";  // Cannot happen with this buffer; never emit garbage.
  return std::string(buffer.data(), end);
}

std::string format_sample_line(const MetricSample& sample) {
  std::string line;
  append_sample_line(line, sanitized_name(sample.name, /*allow_colon=*/true), sample);
  line.pop_back();  // The newline.
  return line;
}

std::string render_prometheus(const std::vector<MetricSample>& samples) {
  // Groups (families) in order of first appearance, each a list of indices into `samples`.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  std::map<std::string, std::size_t, std::less<>> group_of_name;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::string name = family_name(samples[i]);
    auto [found, inserted] = group_of_name.try_emplace(name, groups.size());
    if (inserted) groups.emplace_back(std::move(name), std::vector<std::size_t>{});
    groups[found->second].second.push_back(i);
  }

  std::string out;
  for (const auto& [name, members] : groups) {
    const MetricSample& first = samples[members.front()];
    if (!first.help.empty()) {
      out += "# HELP " + name + ' ';
      append_escaped(out, first.help, /*quote=*/false);
      out += '\n';
    }
    out += "# TYPE " + name + ' ' + type_name(first.type) + '\n';
    for (const std::size_t index : members) {
      append_sample_line(out, sanitized_name(samples[index].name, /*allow_colon=*/true), samples[index]);
    }
  }
  return out;
}

}  // namespace cairn::metrics
