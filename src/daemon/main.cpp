// cairnd: runs one cairn peer until SIGINT or SIGTERM.
//
// With no arguments it just works: data in ./cairn-data, gossip on 127.0.0.1:7400, the client protocol
// on 127.0.0.1:7401, HTTP (/health, /metrics) on 127.0.0.1:7402, a single-peer cluster until others
// join it. Settings come from the built-in defaults, then --config FILE (TOML, docs/cairnd.md), then
// flags. When it is ready it prints ONE line on stdout, for scripts and tests:
//   {"event":"ready","replica":"<16 hex>","gossip":"<host>:<port>","client":"<host>:<port>","http":"<host>:<port>"}
// (with port 0 the ports are the ephemeral ones the kernel chose). Logs go to stderr. Exit codes are in
// src/daemon/exit_codes.h; SIGHUP reloads the config file (src/daemon/reload.h).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cairn/node.h"
#include "cairn_build_info.h"
#include "src/backup/backup.h"
#include "src/daemon/config.h"
#include "src/daemon/exit_codes.h"
#include "src/daemon/flags.h"
#include "src/daemon/log_format.h"
#include "src/daemon/reload.h"
#include "src/util/hex_id.h"
#include "src/util/log.h"

namespace {

using cairn::hex_id;
using cairn::daemon::DaemonConfig;

std::string host_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// The signals main waits for; blocked in every thread (the node's threads inherit the mask).
sigset_t handled_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  return signals;
}

// Prints the ready line (and writes it to the ports file) and logs what the peer serves.
void announce_ready(const DaemonConfig& config, cairn::Node& node) {
  const cairn::NodeOptions& options = config.node;
  const std::string gossip_host = options.advertise_host.empty() ? options.listen_host : options.advertise_host;
  nlohmann::ordered_json ready = {
      {"event", "ready"},
      {"replica", hex_id(node.replica_id())},
      {"gossip", host_port(gossip_host, node.gossip_port())},
      {"client", host_port(options.client_host, node.client_port())},
      {"http", host_port(options.client_host, node.http_port())},
  };
  if (options.serve_resp) ready["resp"] = host_port(options.client_host, node.resp_port());
  std::printf("%s\n", ready.dump().c_str());
  std::fflush(stdout);
  if (!config.ports_file.empty()) std::ofstream(config.ports_file) << ready.dump() << "\n";
  cairn::log::info("cairnd", "replica " + hex_id(node.replica_id()) + " serving " + options.data_dir +
                                 " in cluster '" + options.cluster_name + "': gossip " +
                                 host_port(gossip_host, node.gossip_port()) + ", clients " +
                                 host_port(options.client_host, node.client_port()) + ", http " +
                                 host_port(options.client_host, node.http_port()) +
                                 (options.serve_resp ? ", resp " + host_port(options.client_host, node.resp_port()) : ""));
}

// Waits for SIGINT or SIGTERM (returning its name), reloading the settings on each SIGHUP.
const char* serve_until_stopped(const CLI::App& app, const cairn::daemon::Flags& flags, DaemonConfig& running,
                                cairn::Node& node) {
  const sigset_t signals = handled_signals();
  for (;;) {
    int received = 0;
    if (sigwait(&signals, &received) != 0) continue;
    if (received == SIGINT) return "SIGINT";
    if (received == SIGTERM) return "SIGTERM";
    if (flags.config_file.empty()) {
      cairn::log::write(cairn::log::Level::kInfo, "cairnd",
                        "SIGHUP: started without --config, so there is nothing to reload");
      continue;
    }
    cairn::daemon::apply_reload(cairn::daemon::settings_from(app, flags), flags.config_file, running, node);
  }
}

// Process-wide signal setup, before any thread starts. cairnd is the application, so it may ignore
// SIGPIPE process-wide: the node's threads block it already (include/cairn/node.h), this also covers
// main's writes to a stdout or stderr pipe whose reader went away. The signals main waits for are
// blocked in every thread (the node's threads inherit the mask), so sigwait takes them.
void set_up_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  const sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// Declares --version and every setting's flag on `app`, writing into `flags`.
void describe_command_line(CLI::App& app, cairn::daemon::Flags& flags) {
  app.set_version_flag("--version", std::string("cairnd ") + cairn::build_info::kVersion + " (commit " +
                                        cairn::build_info::kCommit + ")");
  cairn::daemon::add_flags(app, flags);
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("cairnd: ") + error.what() + " (see cairnd --help)\n";
  });
}

// Parses the command line; returns the exit code when cairnd is done already: 0 after --help or
// --version, kExitUsage on any other parse error (CLI11 has codes of its own).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? cairn::daemon::kExitOk : cairn::daemon::kExitUsage;
  }
  return std::nullopt;
}

// --restore BACKUP: restores the backup into the (new, empty) data directory before anything else
// touches it (docs/operations.md). False (after one line on stderr) when the restore failed.
bool restore_first(const std::string& backup_dir, const std::string& data_dir) {
  auto restored = cairn::backup::restore_backup(backup_dir, data_dir);
  if (!restored) {
    std::fprintf(stderr, "cairnd: cannot restore: %s\n", restored.error().message().c_str());
    return false;
  }
  cairn::log::info("cairnd", "restored backup " + backup_dir + " (of replica " + hex_id(restored->manifest.replica) +
                                 ", taken " + restored->manifest.created_utc + ") into " + data_dir + " as replica " +
                                 hex_id(restored->new_replica) + "; once the original is gone for good, retire it: "
                                 "cairn retire " + hex_id(restored->manifest.replica));
  return true;
}

// The settings (defaults, then the config file, then the flags) with the secrets they name loaded,
// and the log level applied, after restoring `restore_from` when set; nullopt (after one line on
// stderr) when they are not usable. `restore_failed` tells a failed restore from a usage error.
std::optional<DaemonConfig> load_settings(const CLI::App& app, const cairn::daemon::Flags& flags,
                                          const std::string& restore_from, bool& restore_failed) {
  auto settings = cairn::daemon::settings_from(app, flags);
  if (!settings) {
    std::fprintf(stderr, "cairnd: %s\n", settings.error().message().c_str());
    return std::nullopt;
  }
  DaemonConfig config = std::move(*settings);
  cairn::log::set_level(config.log_level);
  cairn::daemon::apply_log_format(config.log_format);
  // Before the secrets: loading them may write files into the data directory, which must be empty.
  if (!restore_from.empty() && !restore_first(restore_from, config.node.data_dir)) {
    restore_failed = true;
    return std::nullopt;
  }
  if (auto loaded = cairn::daemon::load_secrets(config); !loaded) {
    std::fprintf(stderr, "cairnd: %s\n", loaded.error().message().c_str());
    return std::nullopt;
  }
  return config;
}

// Starts the node, serves until SIGINT or SIGTERM, and stops it; returns cairnd's exit code.
int run(const CLI::App& app, const cairn::daemon::Flags& flags, DaemonConfig& config) {
  auto node = cairn::Node::start(config.node);
  if (!node) {
    // One line naming what failed and why ("client port 127.0.0.1:7401: address already in use").
    std::fprintf(stderr, "cairnd: cannot start: %s\n", node.error().message().c_str());
    return cairn::daemon::kExitCannotStart;
  }
  announce_ready(config, **node);
  const char* stop_signal = serve_until_stopped(app, flags, config, **node);
  cairn::log::info("cairnd", std::string(stop_signal) +
                                 " received: closing client connections, finishing in-flight writes, leaving "
                                 "the cluster, closing the store");
  (*node)->stop();
  cairn::log::info("cairnd", "stopped");
  return cairn::daemon::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  set_up_signals();
  CLI::App app{"cairnd: a cairn peer. Keeps a durable CRDT key-value store and syncs it with its cluster.\n"
               "Settings: built-in defaults, then --config FILE (TOML; see docs/cairnd.md), then these flags."};
  cairn::daemon::Flags flags;
  describe_command_line(app, flags);
  // A one-shot action, not a setting (settings.h): in a config file it would run at every start.
  std::string restore_from;
  app.add_option("--restore", restore_from,
                 "Restore this backup (cairn backup) into --data-dir, which must be new or empty, under a new "
                 "replica id, then start (docs/operations.md)");
  if (auto done = parse_command_line(app, argc, argv)) return *done;
  bool restore_failed = false;
  std::optional<DaemonConfig> config = load_settings(app, flags, restore_from, restore_failed);
  if (!config) return restore_failed ? cairn::daemon::kExitCannotStart : cairn::daemon::kExitUsage;
  return run(app, flags, *config);
}
