#include "src/util/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace cairn::log {
namespace {

std::atomic<int> current_level{static_cast<int>(Level::kInfo)};
std::atomic<LineFormat> current_format{nullptr};

// "2026-11-25T10:41:02.123Z"
std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  std::string result(text, length);
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));
  return result + fraction;
}

}  // namespace

void set_level(Level level) { current_level.store(static_cast<int>(level), std::memory_order_relaxed); }
Level level() { return static_cast<Level>(current_level.load(std::memory_order_relaxed)); }
bool enabled(Level level) { return static_cast<int>(level) >= current_level.load(std::memory_order_relaxed); }

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return std::nullopt;
}

std::string_view to_string(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string text_line(const Line& line) {
  std::string text(line.time);
  text += ' ';
  std::string_view name = to_string(line.level);
  text += name;
  text.append(6 - name.size(), ' ');  // Align messages: the longest level name is 5 letters.
  text += line.component;
  text += ": ";
  text += line.message;
  text += '\n';
  return text;
}

void set_line_format(LineFormat format) { current_format.store(format, std::memory_order_relaxed); }

void write(Level level, std::string_view component, std::string_view message) {
  const std::string time = utc_timestamp();
  const Line event{level, time, component, message};
  const LineFormat format = current_format.load(std::memory_order_relaxed);
  const std::string line = format != nullptr ? format(event) : text_line(event);
  // One write(2) per line keeps concurrent lines whole; a short write to stderr is not retried (a log
  // line is not worth blocking for).
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace cairn::log
