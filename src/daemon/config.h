// cairnd's configuration: built-in defaults, then an optional TOML file, then command-line flags
// (each layer overrides the one before). Every key, its type, bounds and flag are in the settings
// table (src/daemon/settings.h); docs/cairnd.md shows it. Keys are top-level (`data_dir = ...`) or in
// one of the tables [listen], [gossip] and [limits] (`listen.gossip_port` is `gossip_port` in
// [listen]).
//
// Unknown keys and values of the wrong type or range are errors that name the key and its line: a
// typo in a config file must not silently fall back to a default.
#pragma once

#include <string>
#include <string_view>

#include "cairn/node.h"
#include "cairn/status.h"
#include "src/daemon/log_format.h"
#include "src/util/log.h"

namespace cairn::daemon {

struct DaemonConfig {
  NodeOptions node = defaults();
  log::Level log_level = log::Level::kInfo;
  LogFormat log_format = LogFormat::kText;
  std::string ports_file;  // Also write the ready line here (for scripts); empty: don't.
  // The cluster keys' file (one key per line, the first seals); empty: data_dir/cluster.key, created
  // on first start. Read by load_secrets() into node.cluster_keys.
  std::string cluster_key_file;
  // The client token's file; empty: data_dir/client.token, created on first start.
  std::string client_token_file;

  // The node options a daemon starts with: NodeOptions' defaults with the client and HTTP listeners on.
  static NodeOptions defaults();
};

// Reads a TOML document into `config`, overriding only the keys it sets. `origin` names the document
// in error messages (the file's path). kInvalidArgument for a syntax error, an unknown key, or a value
// of the wrong type or out of range.
Status apply_toml(std::string_view document, std::string_view origin, DaemonConfig& config);

// Reads the file at `path` and applies it as apply_toml does; kNotFound / kIo when it cannot be read.
Status apply_toml_file(const std::string& path, DaemonConfig& config);

// Reads cluster_key_file and client_token_file (when set) into config.node. kNotFound / kIo when a
// file cannot be read, kInvalidArgument when it holds no key or token.
Status load_secrets(DaemonConfig& config);

// "sync" / "group" / "nosync".
Result<Durability> parse_durability(std::string_view name);

}  // namespace cairn::daemon
