// cairnd's --log-format: the shape of every line on stderr (docs/cairnd.md, "Logs").
//
//   text (default)  2026-11-25T10:41:02.123Z info  cairnd: replica 3f2a… serving ./cairn-data
//   json            {"time":"2026-11-25T10:41:02.123Z","level":"info","component":"cairnd","message":"replica ..."}
//
// One JSON object per line, always these four string fields in this order; the logger has no other
// fields today (a new one would be added after them, so readers should ignore keys they do not know).
// The library's logger (src/util/log.h) knows no JSON: cairnd installs json_line as its line format.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/util/log.h"

namespace cairn::daemon {

enum class LogFormat { kText, kJson };

// "text" / "json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view name);
std::string_view to_string(LogFormat format);

// The JSON line of one event, newline included. Escapes with nlohmann-json; bytes that are not UTF-8
// (a key in a message, say) become U+FFFD rather than making the line unparseable.
std::string json_line(const log::Line& line);

// Makes every later log line of the process `format`. Any thread.
void apply_log_format(LogFormat format);

}  // namespace cairn::daemon
