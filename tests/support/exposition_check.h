// A checker of the Prometheus text exposition format 0.0.4 for tests: every line is a HELP, a TYPE or
// a sample of the family the last TYPE named; a family's samples are contiguous and typed once; sample
// names, label names and values are well formed; a histogram's buckets, per label set, have rising
// `le` bounds ending in +Inf, cumulative counts that never fall, and a last bucket equal to _count,
// next to a _sum. Returns the problems found, one per string (empty: valid), and the parsed samples.
#pragma once

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::test {

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ExpositionCheck {
  std::vector<std::string> problems;
  std::vector<ParsedSample> samples;
  std::map<std::string, std::string> types;  // Family -> counter, gauge, histogram, ...

  // The samples named `name` whose labels include every one of `labels`.
  std::vector<ParsedSample> find(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    std::vector<ParsedSample> found;
    for (const ParsedSample& sample : samples) {
      if (sample.name != name) continue;
      bool all = true;
      for (const auto& [key, value] : labels) {
        auto it = sample.labels.find(key);
        all = all && it != sample.labels.end() && it->second == value;
      }
      if (all) found.push_back(sample);
    }
    return found;
  }
};

inline double parse_exposition_value(const std::string& text, bool& ok) {
  ok = true;
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    ok = used == text.size();
    return value;
  } catch (...) {
    ok = false;
    return 0;
  }
}

inline ExpositionCheck check_exposition(const std::string& text) {
  ExpositionCheck check;
  static const std::regex type_line(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex help_line(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex sample_line(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
  static const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\["\\n])*)\"(,|$))");
  std::string family;  // The family of the last TYPE line.
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  const auto problem = [&](const std::string& what) {
    check.problems.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
  };
  while (std::getline(lines, line)) {
    ++number;
    std::smatch match;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, help_line)) problem("malformed HELP");
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, match, type_line)) {
        problem("malformed TYPE");
        continue;
      }
      family = match[1];
      if (check.types.count(family) != 0) problem("family typed twice");
      check.types[family] = match[2];
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    if (!std::regex_match(line, match, sample_line)) {
      problem("malformed sample");
      continue;
    }
    ParsedSample sample;
    sample.name = match[1];
    std::string labels = match[3];
    while (!labels.empty()) {
      std::smatch pair;
      if (!std::regex_search(labels, pair, label) || pair.position(0) != 0) {
        problem("malformed labels");
        break;
      }
      sample.labels[pair[1]] = pair[2];
      labels = pair.suffix();
    }
    bool ok = false;
    sample.value = parse_exposition_value(match[4], ok);
    if (!ok) problem("malformed value");
    const std::string& type = check.types.count(family) ? check.types[family] : std::string();
    const bool in_family = sample.name == family ||
                           (type == "histogram" && (sample.name == family + "_bucket" || sample.name == family + "_sum" ||
                                                    sample.name == family + "_count"));
    if (!in_family) problem("sample outside its family's TYPE group (family " + family + ")");
    check.samples.push_back(std::move(sample));
  }

  // Histograms: per family and label set (without le), buckets rise to +Inf == _count, with a _sum.
  for (const auto& [name, type] : check.types) {
    if (type != "histogram") continue;
    std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
    std::map<std::map<std::string, std::string>, double> counts;
    std::set<std::map<std::string, std::string>> sums;
    for (const ParsedSample& sample : check.samples) {
      std::map<std::string, std::string> key = sample.labels;
      if (sample.name == name + "_bucket") {
        const auto le = key.find("le");
        if (le == key.end()) {
          check.problems.push_back(name + ": a bucket without le");
          continue;
        }
        bool ok = false;
        const double bound = parse_exposition_value(le->second, ok);
        if (!ok) check.problems.push_back(name + ": le '" + le->second + "' is not a number");
        key.erase(le);
        buckets[key].push_back({bound, sample.value});
      } else if (sample.name == name + "_count") {
        counts[key] = sample.value;
      } else if (sample.name == name + "_sum") {
        sums.insert(key);
      }
    }
    if (buckets.empty()) check.problems.push_back(name + ": a histogram without buckets");
    for (const auto& [key, series] : buckets) {
      for (std::size_t i = 1; i < series.size(); ++i) {
        if (!(series[i].first > series[i - 1].first)) check.problems.push_back(name + ": le bounds do not rise");
        if (series[i].second < series[i - 1].second) check.problems.push_back(name + ": bucket counts fall");
      }
      if (!std::isinf(series.back().first)) check.problems.push_back(name + ": the last bucket is not +Inf");
      if (!counts.count(key) || counts.at(key) != series.back().second) {
        check.problems.push_back(name + ": _count differs from the +Inf bucket");
      }
      if (!sums.count(key)) check.problems.push_back(name + ": no _sum");
    }
  }
  return check;
}

}  // namespace cairn::test
