#include "src/daemon/log_format.h"

#include <nlohmann/json.hpp>

namespace cairn::daemon {

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string_view to_string(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

std::string json_line(const log::Line& line) {
  const nlohmann::ordered_json object = {
      {"time", line.time},
      {"level", log::to_string(line.level)},
      {"component", line.component},
      {"message", line.message},
  };
  // replace: invalid UTF-8 becomes U+FFFD instead of an exception (a log line must never throw).
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void apply_log_format(LogFormat format) {
  log::set_line_format(format == LogFormat::kJson ? &json_line : nullptr);
}

}  // namespace cairn::daemon
