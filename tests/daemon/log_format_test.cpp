// cairnd's --log-format (src/daemon/log_format.h): the JSON line of one event.
#include "src/daemon/log_format.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cairn::daemon {

TEST_CASE("a JSON log line is one object with time, level, component and message, in that order", "[log]") {
  const std::string message = std::string("quote \" backslash \\ newline \n tab \t nul ") + '\0' + " bad \xff end";
  const std::string line = json_line(log::Line{log::Level::kWarn, "2026-11-25T10:41:02.123Z", "store", message});
  INFO(line);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // One line: the newline in the message is escaped.
  const auto object = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"time", "level", "component", "message"});
  CHECK(object.at("time") == "2026-11-25T10:41:02.123Z");
  CHECK(object.at("level") == "warn");
  CHECK(object.at("component") == "store");
  // Every byte comes back, except the one that is not UTF-8, which is U+FFFD.
  CHECK(object.at("message") == std::string("quote \" backslash \\ newline \n tab \t nul ") + '\0' + " bad \xEF\xBF\xBD end");
}

TEST_CASE("log formats parse by name and the process-wide format switches between text and JSON", "[log]") {
  CHECK(parse_log_format("text") == LogFormat::kText);
  CHECK(parse_log_format("json") == LogFormat::kJson);
  CHECK_FALSE(parse_log_format("JSON"));
  CHECK(to_string(LogFormat::kJson) == "json");
  const log::Line event{log::Level::kInfo, "2026-11-25T10:41:02.123Z", "cairnd", "hello"};
  CHECK(log::text_line(event) == "2026-11-25T10:41:02.123Z info  cairnd: hello\n");
  CHECK(json_line(event) ==
        "{\"time\":\"2026-11-25T10:41:02.123Z\",\"level\":\"info\",\"component\":\"cairnd\",\"message\":\"hello\"}\n");
}

}  // namespace cairn::daemon
