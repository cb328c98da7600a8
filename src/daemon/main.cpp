// cairnd: runs one cairn peer until SIGINT or SIGTERM.
//
// With no arguments it just works: data in ./cairn-data, gossip on 127.0.0.1:7400, the client protocol
// on 127.0.0.1:7401, HTTP (/health, /metrics) on 127.0.0.1:7402, a single-peer cluster until others
// join it. Settings come from the built-in defaults, then --config FILE (TOML, docs/cairnd.md), then
// flags. When it is ready it prints ONE line on stdout, for scripts and tests:
//   {"event":"ready","replica":"<16 hex>","gossip":"<host>:<port>","client":"<host>:<port>","http":"<host>:<port>"}
// (with port 0 the ports are the ephemeral ones the kernel chose). Logs go to stderr.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cairn/node.h"
#include "cairn_build_info.h"
#include "src/daemon/config.h"
#include "src/util/hex_id.h"
#include "src/util/log.h"

namespace {

using cairn::hex_id;
using cairn::daemon::DaemonConfig;

std::string host_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Flags, each applied over the config file only when given on the command line.
struct Flags {
  std::string config_file;
  std::string data_dir, listen, advertise, client_host, cluster, durability, log_level, ports_file;
  std::string cluster_key_file, client_token_file;
  bool insecure = false;
  std::uint16_t gossip_port = 0, client_port = 0, http_port = 0;
  std::vector<std::string> seeds;
  std::uint64_t gossip_interval_ms = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const DaemonConfig defaults;
  Flags flags;
  CLI::App app{"cairnd: a cairn peer. Keeps a durable CRDT key-value store and syncs it with its cluster.\n"
               "Settings: built-in defaults, then --config FILE (TOML; see docs/cairnd.md), then these flags."};
  app.set_version_flag("--version", std::string("cairnd ") + cairn::build_info::kVersion + " (commit " +
                                        cairn::build_info::kCommit + ")");
  app.add_option("--config", flags.config_file, "TOML config file")->check(CLI::ExistingFile);
  auto* data_dir = app.add_option("--data-dir", flags.data_dir, "Directory of the store (created if missing)")
                       ->default_str(defaults.node.data_dir);
  auto* listen = app.add_option("--listen", flags.listen, "Address to listen on for gossip (IP literal or localhost)")
                     ->default_str(defaults.node.listen_host);
  auto* gossip_port = app.add_option("--gossip-port", flags.gossip_port, "Gossip port, UDP and TCP (0: ephemeral)")
                          ->default_str(std::to_string(defaults.node.gossip_port));
  auto* client_host = app.add_option("--client-listen", flags.client_host,
                                     "Address the client and HTTP ports listen on (loopback unless told otherwise)")
                          ->default_str(defaults.node.client_host);
  auto* client_port = app.add_option("--client-port", flags.client_port, "Client protocol port, TCP (0: ephemeral)")
                          ->default_str(std::to_string(defaults.node.client_port));
  auto* http_port = app.add_option("--http-port", flags.http_port, "HTTP port for /health and /metrics (0: ephemeral)")
                        ->default_str(std::to_string(defaults.node.http_port));
  auto* advertise =
      app.add_option("--advertise", flags.advertise, "Address other peers reach this one at (default: --listen)");
  auto* seeds = app.add_option("--seed", flags.seeds, "A peer to join through, host:port (repeatable)");
  auto* cluster = app.add_option("--cluster", flags.cluster, "Cluster name; peers of other clusters are ignored")
                      ->default_str(defaults.node.cluster_name);
  auto* durability = app.add_option("--durability", flags.durability, "sync, group or nosync (see docs/store.md)")
                         ->check(CLI::IsMember({"sync", "group", "nosync"}))
                         ->default_str("group");
  auto* interval = app.add_option("--gossip-interval-ms", flags.gossip_interval_ms,
                                  "How often deltas are pushed to neighbours")
                       ->default_str(std::to_string(defaults.node.gossip_interval_ms));
  auto* log_level = app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
                        ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
                        ->default_str("info");
  auto* ports_file = app.add_option("--ports-file", flags.ports_file, "Also write the ready line to this file");
  auto* cluster_key_file =
      app.add_option("--cluster-key-file", flags.cluster_key_file,
                     "File of the cluster key(s), one per line, the first seals (default: DATA_DIR/cluster.key, "
                     "created on first start; copy it to every peer)");
  auto* client_token_file = app.add_option("--client-token-file", flags.client_token_file,
                                           "File of the token clients must present (default: DATA_DIR/client.token, "
                                           "created on first start)");
  auto* insecure = app.add_flag("--insecure", flags.insecure,
                                "Send and accept UNSEALED peer traffic: anyone who reaches the gossip port can "
                                "join, read and write (tests and trusted networks only; logged as a warning)");
  CLI11_PARSE(app, argc, argv);

  DaemonConfig config;
  if (!flags.config_file.empty()) {
    if (auto loaded = cairn::daemon::apply_toml_file(flags.config_file, config); !loaded) {
      std::fprintf(stderr, "cairnd: %s\n", loaded.error().message().c_str());
      return 2;
    }
  }
  cairn::NodeOptions& node_options = config.node;
  if (*data_dir) node_options.data_dir = flags.data_dir;
  if (*listen) node_options.listen_host = flags.listen;
  if (*gossip_port) node_options.gossip_port = flags.gossip_port;
  if (*client_host) node_options.client_host = flags.client_host;
  if (*client_port) node_options.client_port = flags.client_port;
  if (*http_port) node_options.http_port = flags.http_port;
  if (*advertise) node_options.advertise_host = flags.advertise;
  if (*seeds) node_options.seeds = flags.seeds;
  if (*cluster) node_options.cluster_name = flags.cluster;
  if (*durability) node_options.store.durability = *cairn::daemon::parse_durability(flags.durability);
  if (*interval) node_options.gossip_interval_ms = flags.gossip_interval_ms;
  if (*log_level) config.log_level = *cairn::log::parse_level(flags.log_level);
  if (*ports_file) config.ports_file = flags.ports_file;
  if (*cluster_key_file) config.cluster_key_file = flags.cluster_key_file;
  if (*client_token_file) config.client_token_file = flags.client_token_file;
  if (*insecure) node_options.insecure = flags.insecure;
  cairn::log::set_level(config.log_level);
  if (auto loaded = cairn::daemon::load_secrets(config); !loaded) {
    std::fprintf(stderr, "cairnd: %s\n", loaded.error().message().c_str());
    return 2;
  }

  // Block SIGINT/SIGTERM in every thread (the node's threads inherit the mask); main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = cairn::Node::start(node_options);
  if (!node) {
    cairn::log::error("cairnd", "cannot start: " + node.error().to_string());
    return 1;
  }
  const std::string gossip_host =
      node_options.advertise_host.empty() ? node_options.listen_host : node_options.advertise_host;
  const nlohmann::ordered_json ready = {
      {"event", "ready"},
      {"replica", hex_id((*node)->replica_id())},
      {"gossip", host_port(gossip_host, (*node)->gossip_port())},
      {"client", host_port(node_options.client_host, (*node)->client_port())},
      {"http", host_port(node_options.client_host, (*node)->http_port())},
  };
  std::printf("%s\n", ready.dump().c_str());
  std::fflush(stdout);
  if (!config.ports_file.empty()) std::ofstream(config.ports_file) << ready.dump() << "\n";
  cairn::log::info("cairnd", "replica " + hex_id((*node)->replica_id()) + " serving " + node_options.data_dir +
                                 " in cluster '" + node_options.cluster_name + "': gossip " +
                                 host_port(gossip_host, (*node)->gossip_port()) + ", clients " +
                                 host_port(node_options.client_host, (*node)->client_port()) + ", http " +
                                 host_port(node_options.client_host, (*node)->http_port()));

  int received = 0;
  sigwait(&stop_signals, &received);
  cairn::log::info("cairnd", std::string(received == SIGINT ? "SIGINT" : "SIGTERM") +
                                 " received: closing client connections, finishing in-flight writes, leaving "
                                 "the cluster, closing the store");
  (*node)->stop();
  cairn::log::info("cairnd", "stopped");
  return 0;
}
