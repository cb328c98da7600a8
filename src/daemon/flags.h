// cairnd's command line (CLI11): every flag, each applied over the config file only when given.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "src/daemon/config.h"

namespace cairn::daemon {

// Where CLI11 writes each flag's value; only flags given on the command line are applied.
struct Flags {
  std::string config_file;
  std::string data_dir, listen, advertise, client_host, cluster, durability, log_level, ports_file;
  std::string cluster_key_file, client_token_file;
  std::string resp_port;  // A port, or "off".
  bool insecure = false;
  std::uint16_t gossip_port = 0, client_port = 0, http_port = 0;
  std::vector<std::string> seeds;
  std::uint64_t gossip_interval_ms = 0;
};

// Declares every flag of cairnd on `app` (values land in `flags`, which must outlive `app`), the
// defaults shown in --help, and the help's footer: exit codes and signals.
void add_flags(CLI::App& app, Flags& flags);

// The settings cairnd runs with: the built-in defaults, then the config file when --config was
// given, then every flag given on `app`'s command line (parsed already). Secret files are not read
// here (load_secrets). Fails as apply_toml_file does, naming the file.
Result<DaemonConfig> settings_from(const CLI::App& app, const Flags& flags);

}  // namespace cairn::daemon
