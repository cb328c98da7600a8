// Every cairnd setting, stated once: its config key, its flag, its type and bounds, whether SIGHUP
// applies it while cairnd runs, its help, and where it lives in DaemonConfig. Defaults are not
// restated here: they are DaemonConfig's, whose node options take theirs from NodeOptions and
// NodeLimits (include/cairn/node.h, include/cairn/defaults.h).
//
// This table drives the flags (flags.cpp), the config file reader (config.cpp), the SIGHUP reload
// (reload.cpp) and docs/cairnd.md's settings table (settings_markdown(), which a test compares with
// the document). Adding a setting is adding one row to the table in settings.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "cairn/status.h"
#include "src/daemon/config.h"

namespace cairn::daemon {

enum class SettingType {
  kString,   // A TOML string; a flag's text.
  kStrings,  // A TOML array of strings; a repeatable flag.
  kBool,     // true or false; a flag without a value.
  kInteger,  // A TOML integer within [min, max]; a flag's decimal text.
  kChoice,   // A string naming one of `choices`.
};

// A value as read from a config file or a flag, before it is checked against its setting: a string
// (kString, kChoice), strings (kStrings), a bool (kBool) or an integer (kInteger).
using SettingValue = std::variant<std::string, std::vector<std::string>, bool, std::int64_t>;

struct Setting {
  std::string key;   // The config key: "name" at the top level, "table.name" inside a table.
  std::string flag;  // "--name"; empty: the setting has no flag (config file only).
  SettingType type = SettingType::kString;
  std::int64_t min = 0, max = 0;     // kInteger: the accepted range.
  std::vector<std::string> choices;  // kChoice: the accepted names.
  bool reloadable = false;           // SIGHUP applies it while cairnd runs; otherwise it needs a restart.
  std::string help;                  // One line for --help.
  std::string doc;                   // docs/cairnd.md's "meaning" column (Markdown).
  // docs/cairnd.md's "default" column: empty for the default value itself in code font; otherwise
  // this text, with "%v" standing for the default value (e.g. "`%v` (7 days)").
  std::string doc_default;
  // The value in `config` as text: --help's default, the reload's before and after, the docs.
  std::function<std::string(const DaemonConfig&)> show;
  // Stores a value check_setting_value() accepted.
  std::function<void(DaemonConfig&, const SettingValue&)> assign;
  // A port that can be switched off (the RESP port): its flag also takes `off`, and a flag given sets
  // whether it is served (`--resp-port off` false, `--resp-port N` true). Empty for every other setting.
  std::function<void(DaemonConfig&, bool served)> set_served;
  // Copies this setting's value from one configuration to another (what a reload applies).
  std::function<void(const DaemonConfig& from, DaemonConfig& to)> copy;
};

// Every setting, in docs/cairnd.md's order. Built once; safe to call from any thread.
const std::vector<Setting>& settings();

// The setting of config key `key`, or nullptr.
const Setting* find_setting(std::string_view key);

// Checks that `value` fits `setting`: the type's alternative, an integer within bounds, a known
// choice. kInvalidArgument saying what the value must be; the message starts with the setting's key
// in quotes ("'listen.gossip_port' must be an integer from 0 to 65535"), for a choice with the bare
// key ("durability must be sync, group or nosync, not 'fast'").
Status check_setting_value(const Setting& setting, const SettingValue& value);

// docs/cairnd.md's settings table (header row included, one line per setting, each ending "\n").
std::string settings_markdown();

}  // namespace cairn::daemon
