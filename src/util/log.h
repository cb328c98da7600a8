// Leveled logging to stderr for the daemon and the node: one line per event, written whole.
//
//   2026-11-25T10:41:02.123Z info  cairnd: replica 3f2a… serving ./cairn-data
//
// The level is process-wide (set once at start-up from --log-level); a message below it costs one
// relaxed atomic load. Lines are written with a single write(2), so lines of concurrent threads never
// interleave.
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
