// Leveled logging to stderr for the daemon and the node: one line per event, written whole.
//
//   2026-11-25T10:41:02.123Z info  cairnd: replica 3f2a… serving ./cairn-data
//
// The level is process-wide (set once at start-up from --log-level); a message below it costs one
// relaxed atomic load. Lines are written with a single write(2), so lines of concurrent threads never
// interleave. The line's shape is process-wide too: the text above unless the program sets another
// (cairnd's --log-format json, src/daemon/log_format.h), so the library needs no JSON writer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
// "debug", "info", "warn", "error" (also "warning"); nullopt for anything else.
std::optional<Level> parse_level(std::string_view name);
std::string_view to_string(Level level);

// One event, as a line format sees it. The views live only during the call.
struct Line {
  Level level = Level::kInfo;
  std::string_view time;  // UTC, "2026-11-25T10:41:02.123Z".
  std::string_view component;
  std::string_view message;
};
// Returns the whole line, its newline included. Called on the thread that logs, possibly on several
// threads at once: it must be thread-safe (a pure function is).
using LineFormat = std::string (*)(const Line& line);
// The text line shown at the top of the file.
std::string text_line(const Line& line);
// Sets the format of every line from now on; nullptr restores text_line. Any thread.
void set_line_format(LineFormat format);

// Writes one line: UTC time, level, component, message.
void write(Level level, std::string_view component, std::string_view message);

inline void debug(std::string_view component, std::string_view message) {
  if (enabled(Level::kDebug)) write(Level::kDebug, component, message);
}
inline void info(std::string_view component, std::string_view message) {
  if (enabled(Level::kInfo)) write(Level::kInfo, component, message);
}
inline void warn(std::string_view component, std::string_view message) {
  if (enabled(Level::kWarn)) write(Level::kWarn, component, message);
}
inline void error(std::string_view component, std::string_view message) {
  if (enabled(Level::kError)) write(Level::kError, component, message);
}

}  // namespace cairn::log
