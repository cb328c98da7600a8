#include "src/metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

namespace cairn::metrics {
namespace {

struct ProcStat {
  double cpu_seconds = 0;      // utime + stime.
  double start_ticks = 0;      // Since boot, in clock ticks.
  double virtual_bytes = 0;    // vsize.
  double resident_pages = 0;   // rss.
};

std::optional<std::string> read_file(const char* path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// /proc/self/stat: the command name (field 2) is in parentheses and may hold spaces, so the fields are
// counted from the last ')'. Fields (proc(5), 1-based): 14 utime, 15 stime, 22 starttime, 23 vsize,
// 24 rss.
std::optional<ProcStat> read_proc_stat(double ticks_per_second) {
  const auto text = read_file("/proc/self/stat");
  if (!text) return std::nullopt;
  const auto close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text->substr(close + 1));
  std::string field;
  ProcStat stat;
  double utime = 0, stime = 0;
  for (int number = 3; number <= 24 && fields >> field; ++number) {
    if (number == 14) utime = std::stod(field);
    if (number == 15) stime = std::stod(field);
    if (number == 22) stat.start_ticks = std::stod(field);
    if (number == 23) stat.virtual_bytes = std::stod(field);
    if (number == 24) {
      stat.resident_pages = std::stod(field);
      stat.cpu_seconds = (utime + stime) / ticks_per_second;
      return stat;
    }
  }
  return std::nullopt;
}

// The boot time, seconds since the epoch (/proc/stat's btime).
std::optional<double> boot_time_seconds() {
  const auto text = read_file("/proc/stat");
  if (!text) return std::nullopt;
  const auto at = text->find("\nbtime ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text->substr(at + 7));
}

std::optional<double> open_fds() {
  std::error_code error;
  std::filesystem::directory_iterator entries("/proc/self/fd", error);
  if (error) return std::nullopt;
  double count = 0;
  for (auto it = entries; it != std::filesystem::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  // The iterator's own descriptor is among those listed; the Go and Python clients count it too.
  return count;
}

void gauge(std::vector<MetricSample>& out, const char* name, const char* help, double value) {
  out.push_back(MetricSample{name, help, MetricType::kGauge, {}, value});
}

}  // namespace

void append_process_metrics(std::vector<MetricSample>& out) {
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (const auto stat = read_proc_stat(ticks > 0 ? static_cast<double>(ticks) : 100.0)) {
    out.push_back(MetricSample{"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                               MetricType::kCounter, {}, stat->cpu_seconds});
    gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", stat->virtual_bytes);
    gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
          stat->resident_pages * static_cast<double>(page > 0 ? page : 4096));
    if (const auto boot = boot_time_seconds(); boot && ticks > 0) {
      gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            *boot + stat->start_ticks / static_cast<double>(ticks));
    }
  }
  if (const auto fds = open_fds()) gauge(out, "process_open_fds", "Number of open file descriptors.", *fds);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
          limit.rlim_cur == RLIM_INFINITY ? 0.0 : static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace cairn::metrics
