// cairnd's configuration: built-in defaults, then an optional TOML file, then command-line flags
// (each layer overrides the one before). See docs/cairnd.md for every key.
//
//   data_dir = "./cairn-data"          cluster = "cairn"          seeds = ["10.0.0.2:7400"]
//   durability = "group"               log_level = "info"
//   cluster_key_file = "/etc/cairn/cluster.key"   insecure = false      client_token_file = "..."
//   [listen]  host, advertise, gossip_port, client_host, client_port, http_port, resp_port, serve_resp
//   [gossip]  interval_ms, protocol_period_ms, suspicion_timeout_ms
//   [limits]  max_peer_connections, max_peer_frame_bytes, max_members, max_delta_batch_entries,
//             max_delta_batch_bytes, max_client_connections, max_client_frame_bytes,
//             max_client_requests_in_flight   (NodeLimits; docs/security.md)
//
// Unknown keys and values of the wrong type or range are errors that name the key and its line: a
// typo in a config file must not silently fall back to a default.
#pragma once

#include <string>
#include <string_view>

#include "cairn/node.h"
#include "cairn/status.h"
#include "src/util/log.h"

namespace cairn::daemon {

struct DaemonConfig {
  NodeOptions node = defaults();
  log::Level log_level = log::Level::kInfo;
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
