// cairnd's settings table (src/daemon/settings.h): docs/cairnd.md shows exactly the table, and every
// row works through each door it names (the config file, its flag).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "src/daemon/config.h"
#include "src/daemon/flags.h"
#include "src/daemon/settings.h"

namespace {

using cairn::daemon::DaemonConfig;
using cairn::daemon::Setting;
using cairn::daemon::settings;
using cairn::daemon::SettingType;

// The settings table of docs/cairnd.md: from its header row to the first line that is not a row.
std::string documented_table() {
  std::ifstream file(std::string(CAIRN_SOURCE_DIR) + "/docs/cairnd.md");
  REQUIRE(file);
  std::string line, table;
  bool inside = false;
  while (std::getline(file, line)) {
    if (line.rfind("| config key |", 0) == 0) inside = true;
    if (inside && line.rfind("|", 0) != 0) break;
    if (inside) table += line + "\n";
  }
  return table;
}

TEST_CASE("docs/cairnd.md's settings table is the settings table", "[config][settings]") {
  // On a difference, paste settings_markdown() (printed below) into docs/cairnd.md.
  const std::string expected = cairn::daemon::settings_markdown();
  INFO("settings_markdown():\n" << expected);
  CHECK(documented_table() == expected);
}

TEST_CASE("every setting has a distinct key and flag, and its default is within its bounds", "[config][settings]") {
  const DaemonConfig defaults;
  std::vector<std::string> keys, flags;
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    CHECK(std::find(keys.begin(), keys.end(), setting.key) == keys.end());
    keys.push_back(setting.key);
    if (!setting.flag.empty()) {
      CHECK(setting.flag.rfind("--", 0) == 0);
      CHECK(std::find(flags.begin(), flags.end(), setting.flag) == flags.end());
      flags.push_back(setting.flag);
      CHECK_FALSE(setting.help.empty());
    }
    CHECK_FALSE(setting.doc.empty());
    if (setting.type == SettingType::kInteger) {
      const std::int64_t value = std::stoll(setting.show(defaults));
      CHECK(value >= setting.min);
      CHECK(value <= setting.max);
    }
  }
}

// A value of `setting` other than its default, as TOML and as a flag's text.
struct OtherValue {
  std::string toml, flag;
};
OtherValue other_value(const Setting& setting, const DaemonConfig& defaults) {
  switch (setting.type) {
    case SettingType::kString:
      return {"\"/elsewhere\"", "/elsewhere"};
    case SettingType::kStrings:
      return {"[\"10.9.9.9:7400\"]", "10.9.9.9:7400"};
    case SettingType::kBool:
      return {setting.show(defaults) == "true" ? "false" : "true", ""};
    case SettingType::kInteger: {
      const std::int64_t value = std::stoll(setting.show(defaults)) == setting.min ? setting.max : setting.min;
      return {std::to_string(value), std::to_string(value)};
    }
    case SettingType::kChoice: {
      const std::string current = setting.show(defaults);
      const std::string other = setting.choices.front() == current ? setting.choices.back() : setting.choices.front();
      return {"\"" + other + "\"", other};
    }
  }
  return {};
}

// The TOML document setting `key` ("table.name" inside its table) to `value`.
std::string toml_setting(const std::string& key, const std::string& value) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return key + " = " + value + "\n";
  return "[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) + " = " + value + "\n";
}

TEST_CASE("every setting is read from the config file by its key, and only it changes", "[config][settings]") {
  const DaemonConfig defaults;
  for (const Setting& setting : settings()) {
    INFO(setting.key);
    const OtherValue other = other_value(setting, defaults);
    DaemonConfig config;
    REQUIRE(cairn::daemon::apply_toml(toml_setting(setting.key, other.toml), "test.toml", config));
    for (const Setting& each : settings()) {
      INFO("then " << each.key);
      if (&each == &setting) {
        CHECK(each.show(config) != each.show(defaults));
      } else {
        CHECK(each.show(config) == each.show(defaults));
      }
    }
  }
}

TEST_CASE("every flag sets its setting, over the config file", "[config][settings]") {
  const DaemonConfig defaults;
  for (const Setting& setting : settings()) {
    if (setting.flag.empty()) continue;
    INFO(setting.flag);
    const OtherValue other = other_value(setting, defaults);
    CLI::App app;
    cairn::daemon::Flags flags;
    cairn::daemon::add_flags(app, flags);
    std::vector<std::string> arguments{setting.flag};
    if (setting.type != SettingType::kBool) arguments.push_back(other.flag);
    std::reverse(arguments.begin(), arguments.end());  // CLI11 takes them last first.
    app.parse(arguments);
    auto config = cairn::daemon::settings_from(app, flags);
    REQUIRE(config);
    CHECK(setting.show(*config) != setting.show(defaults));
  }
}

TEST_CASE("a flag's value is held to its setting's bounds", "[config][settings]") {
  CLI::App app;
  cairn::daemon::Flags flags;
  cairn::daemon::add_flags(app, flags);
  std::vector<std::string> arguments{"0", "--gossip-interval-ms", "70000", "--gossip-port"};  // Last first.
  app.parse(arguments);
  auto config = cairn::daemon::settings_from(app, flags);
  REQUIRE_FALSE(config);
  CHECK_THAT(config.error().message(), Catch::Contains("'listen.gossip_port' must be an integer from 0 to 65535"));
}

}  // namespace

namespace {

cairn::Result<cairn::daemon::DaemonConfig> with_resp_port(const std::string& value) {
  CLI::App app;
  cairn::daemon::Flags flags;
  cairn::daemon::add_flags(app, flags);
  std::vector<std::string> arguments{value, "--resp-port"};  // Last first.
  app.parse(arguments);
  return cairn::daemon::settings_from(app, flags);
}

TEST_CASE("cairnd's --resp-port takes a port or off, and says so when given neither", "[config][settings]") {
  auto off = with_resp_port("off");
  REQUIRE(off);
  CHECK_FALSE(off->node.serve_resp);

  auto port = with_resp_port("7500");
  REQUIRE(port);
  CHECK(port->node.serve_resp);
  CHECK(port->node.resp_port == 7500);

  auto neither = with_resp_port("of");
  REQUIRE_FALSE(neither);
  CHECK(neither.error().message() == "--resp-port: 'of' is neither a port number nor 'off'");
}

}  // namespace
