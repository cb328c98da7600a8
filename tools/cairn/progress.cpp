#include "tools/cairn/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cairn::cli {
namespace {

std::string amount(std::uint64_t value, bool bytes) {
  if (!bytes) return std::to_string(value);
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(value) / (1024.0 * 1024.0));
  return text;
}

}  // namespace

Progress::Progress(std::string what, bool unit_bytes)
    : what_(std::move(what)), unit_bytes_(unit_bytes), shown_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  if (drawn_) std::fputs("\n", stderr);
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
  if (!shown_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  std::string line = "\r" + what_ + ": " + amount(done, unit_bytes_);
  if (total > 0) {
    // The total may be an estimate (a backup is compacted below the file's size): never past 100%.
    const std::uint64_t shown_done = std::min(done, total);
    const int width = 30;
    const int filled = static_cast<int>(shown_done * width / total);
    line += " / " + amount(total, unit_bytes_) + " [" + std::string(static_cast<std::size_t>(filled), '#') +
            std::string(static_cast<std::size_t>(width - filled), ' ') + "] " +
            std::to_string(shown_done * 100 / total) + "%";
  }
  line += "\x1b[K";  // Clears what a longer earlier line left.
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace cairn::cli
