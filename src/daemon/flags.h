// cairnd's command line (CLI11): every flag, each applied over the config file only when given.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "src/daemon/config.h"

namespace cairn::daemon {

// Where CLI11 writes each flag's value, by the config key of its setting (src/daemon/settings.h); only
// flags given on the command line are applied.
struct Flags {
  std::string config_file;
  std::map<std::string, std::string> values;                // kString, kChoice and kInteger settings.
  std::map<std::string, std::vector<std::string>> lists;    // kStrings settings (repeatable flags).
  std::map<std::string, bool> switches;                     // kBool settings (flags without a value).
};

// Declares --config and the flag of every setting that has one (values land in `flags`, which must
// outlive `app`), the defaults shown in --help, and the help's footer: exit codes and signals.
void add_flags(CLI::App& app, Flags& flags);

// The settings cairnd runs with: the built-in defaults, then the config file when --config was
// given, then every flag given on `app`'s command line (parsed already). Secret files are not read
// here (load_secrets). Fails as apply_toml_file does, naming the file, or with kInvalidArgument naming
// a flag whose value is not one its setting accepts (the same bounds as the config file's).
Result<DaemonConfig> settings_from(const CLI::App& app, const Flags& flags);

}  // namespace cairn::daemon
