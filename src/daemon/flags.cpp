#include "src/daemon/flags.h"

#include "src/util/log.h"

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
    "  SIGHUP           re-read --config: log_level and the client limits change at once, other\n"
    "                   changes are logged as needing a restart; a bad file changes nothing\n"
    "  SIGPIPE          ignored (a client that hangs up only closes its connection)\n"
    "  Killed by any other signal N, cairnd's exit status in a shell is 128+N (SIGKILL: 137).\n"
    "See docs/cairnd.md.";

}  // namespace

void add_flags(CLI::App& app, Flags& flags) {
  const NodeOptions defaults = DaemonConfig::defaults();
  app.add_option("--config", flags.config_file, "TOML config file")->check(CLI::ExistingFile);
  app.add_option("--data-dir", flags.data_dir, "Directory of the store (created if missing)")
      ->default_str(defaults.data_dir);
  app.add_option("--listen", flags.listen, "Address to listen on for gossip (IP literal or localhost)")
      ->default_str(defaults.listen_host);
  app.add_option("--gossip-port", flags.gossip_port, "Gossip port, UDP and TCP (0: ephemeral)")
      ->default_str(std::to_string(defaults.gossip_port));
  app.add_option("--client-listen", flags.client_host,
                 "Address the client and HTTP ports listen on (loopback unless told otherwise)")
      ->default_str(defaults.client_host);
  app.add_option("--client-port", flags.client_port, "Client protocol port, TCP (0: ephemeral)")
      ->default_str(std::to_string(defaults.client_port));
  app.add_option("--http-port", flags.http_port, "HTTP port for /health and /metrics (0: ephemeral)")
      ->default_str(std::to_string(defaults.http_port));
  app.add_option("--resp-port", flags.resp_port,
                 "RESP2 port for redis-cli and Redis clients, TCP (0: ephemeral; off: not served)")
      ->check(CLI::Range(0, 65535) | CLI::IsMember({"off"}))
      ->default_str(std::to_string(defaults.resp_port));
  app.add_option("--advertise", flags.advertise, "Address other peers reach this one at (default: --listen)");
  app.add_option("--seed", flags.seeds, "A peer to join through, host:port (repeatable)");
  app.add_option("--cluster", flags.cluster, "Cluster name; peers of other clusters are ignored")
      ->default_str(defaults.cluster_name);
  app.add_option("--durability", flags.durability, "sync, group or nosync (see docs/store.md)")
      ->check(CLI::IsMember({"sync", "group", "nosync"}))
      ->default_str("group");
  app.add_option("--gossip-interval-ms", flags.gossip_interval_ms, "How often deltas are pushed to neighbours")
      ->default_str(std::to_string(defaults.gossip_interval_ms));
  app.add_option("--log-level", flags.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->default_str("info");
  app.add_option("--ports-file", flags.ports_file, "Also write the ready line to this file");
  app.add_option("--cluster-key-file", flags.cluster_key_file,
                 "File of the cluster key(s), one per line, the first seals (default: DATA_DIR/cluster.key, "
                 "created on first start; copy it to every peer)");
  app.add_option("--client-token-file", flags.client_token_file,
                 "File of the token clients must present (default: DATA_DIR/client.token, created on first start)");
  app.add_flag("--insecure", flags.insecure,
               "Send and accept UNSEALED peer traffic: anyone who reaches the gossip port can join, read and "
               "write (tests and trusted networks only; logged as a warning)");
  app.footer(kFooter);
}

Result<DaemonConfig> settings_from(const CLI::App& app, const Flags& flags) {
  DaemonConfig config;
  if (!flags.config_file.empty()) {
    if (auto loaded = apply_toml_file(flags.config_file, config); !loaded) return tl::unexpected(loaded.error());
  }
  const auto given = [&app](const char* flag) { return app.count(flag) > 0; };
  NodeOptions& node = config.node;
  if (given("--data-dir")) node.data_dir = flags.data_dir;
  if (given("--listen")) node.listen_host = flags.listen;
  if (given("--gossip-port")) node.gossip_port = flags.gossip_port;
  if (given("--client-listen")) node.client_host = flags.client_host;
  if (given("--client-port")) node.client_port = flags.client_port;
  if (given("--http-port")) node.http_port = flags.http_port;
  if (given("--resp-port")) {
    node.serve_resp = flags.resp_port != "off";
    if (node.serve_resp) node.resp_port = static_cast<std::uint16_t>(std::stoul(flags.resp_port));
  }
  if (given("--advertise")) node.advertise_host = flags.advertise;
  if (given("--seed")) node.seeds = flags.seeds;
  if (given("--cluster")) node.cluster_name = flags.cluster;
  if (given("--durability")) node.store.durability = *parse_durability(flags.durability);
  if (given("--gossip-interval-ms")) node.gossip_interval_ms = flags.gossip_interval_ms;
  if (given("--log-level")) config.log_level = *log::parse_level(flags.log_level);
  if (given("--ports-file")) config.ports_file = flags.ports_file;
  if (given("--cluster-key-file")) config.cluster_key_file = flags.cluster_key_file;
  if (given("--client-token-file")) config.client_token_file = flags.client_token_file;
  if (given("--insecure")) node.insecure = flags.insecure;
  return config;
}

}  // namespace cairn::daemon
