#include "src/daemon/flags.h"

#include <charconv>

#include "src/daemon/settings.h"

namespace cairn::daemon {
namespace {

constexpr const char* kFooter =
    "Exit codes:\n"
    "  0  stopped cleanly after SIGINT or SIGTERM (or --help)\n"
    "  1  cannot start: a port in use, the data directory held by another process, an unreadable store,\n"
    "     a malformed cluster key (one line on stderr names what and why)\n"
    "  2  usage: an unknown flag or a bad value, a config file missing or invalid, a key or token file\n"
    "     that cannot be read\n"
    "Signals:\n"
    "  SIGINT, SIGTERM  finish in-flight writes, leave the cluster, close the store, exit 0\n"
    "  SIGHUP           re-read --config: log_level, log_format and the client limits change at\n"
    "                   once, other changes are logged as needing a restart; a bad file changes nothing\n"
    "  SIGPIPE          ignored (a client that hangs up only closes its connection)\n"
    "  Killed by any other signal N, cairnd's exit status in a shell is 128+N (SIGKILL: 137).\n"
    "See docs/cairnd.md.";

// The value a given flag holds, typed as its setting reads it.
Result<SettingValue> flag_value(const Setting& setting, const Flags& flags) {
  switch (setting.type) {
    case SettingType::kBool:
      return SettingValue(flags.switches.at(setting.key));
    case SettingType::kStrings:
      return SettingValue(flags.lists.at(setting.key));
    case SettingType::kInteger: {
      const std::string& text = flags.values.at(setting.key);
      if (setting.set_served && text == "off") return SettingValue(text);  // settings_from() switches it off.
      std::int64_t number = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        const char* wanted = setting.set_served ? "' is neither a port number nor 'off'" : "' is not an integer";
        return fail(ErrorCode::kInvalidArgument, setting.flag + ": '" + text + wanted);
      }
      return SettingValue(number);
    }
    case SettingType::kString:
    case SettingType::kChoice:
      break;
  }
  return SettingValue(flags.values.at(setting.key));
}

}  // namespace

void add_flags(CLI::App& app, Flags& flags) {
  const DaemonConfig defaults;
  app.add_option("--config", flags.config_file, "TOML config file")->check(CLI::ExistingFile);
  for (const Setting& setting : settings()) {
    if (setting.flag.empty()) continue;
    if (setting.type == SettingType::kBool) {
      app.add_flag(setting.flag, flags.switches[setting.key], setting.help);
      continue;
    }
    CLI::Option* option = setting.type == SettingType::kStrings
                              ? app.add_option(setting.flag, flags.lists[setting.key], setting.help)
                              : app.add_option(setting.flag, flags.values[setting.key], setting.help);
    if (setting.type == SettingType::kChoice) option->check(CLI::IsMember(setting.choices));
    if (setting.type == SettingType::kInteger) option->type_name(setting.set_served ? "INT|off" : "INT");
    // A default worth showing: not an empty text (a default derived from another setting, or none).
    if (const std::string shown = setting.show(defaults); setting.type != SettingType::kStrings && !shown.empty()) {
      option->default_str(shown);
    }
  }
  app.footer(kFooter);
}

Result<DaemonConfig> settings_from(const CLI::App& app, const Flags& flags) {
  DaemonConfig config;
  if (!flags.config_file.empty()) {
    if (auto loaded = apply_toml_file(flags.config_file, config); !loaded) return tl::unexpected(loaded.error());
  }
  for (const Setting& setting : settings()) {
    if (setting.flag.empty() || app.count(setting.flag) == 0) continue;
    auto value = flag_value(setting, flags);
    if (!value) return tl::unexpected(value.error());
    if (setting.set_served) {
      const bool off = std::holds_alternative<std::string>(*value);  // flag_value() passed "off" through.
      setting.set_served(config, !off);
      if (off) continue;
    }
    if (auto valid = check_setting_value(setting, *value); !valid) {
      return fail(ErrorCode::kInvalidArgument, setting.flag + ": " + valid.error().message());
    }
    setting.assign(config, *value);
  }
  return config;
}

}  // namespace cairn::daemon
