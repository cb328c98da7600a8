// Small helpers every bench prints its figures with: elapsed time, number formatting, machine load.
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace cairn_bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// printf-style formatting of one number, e.g. fmt("%.2fx", ratio).
inline std::string fmt(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// The 1, 5 and 15 minute load averages, for the note every figure carries (these machines are noisy).
inline std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace cairn_bench
