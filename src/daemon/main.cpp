// cairnd: runs one cairn peer until SIGINT or SIGTERM.
//
// With no arguments it just works: data in ./cairn-data, gossip on 127.0.0.1:7400, a single-peer
// cluster until others join it. When it is ready it prints ONE line on stdout, for scripts and tests:
//   {"event":"ready","replica":"<16 hex digits>","gossip":"<host>:<port>"}
// (with --gossip-port 0 the port is the ephemeral one the kernel chose). Logs go to stderr.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cairn/node.h"

int main(int argc, char** argv) {
  cairn::NodeOptions options;
  std::string durability = "group";
  std::string ports_file;
  CLI::App app{"cairnd: a cairn peer. Keeps a durable CRDT key-value store and syncs it with its cluster."};
  app.add_option("--data-dir", options.data_dir, "Directory of the store (created if missing)")->capture_default_str();
  app.add_option("--listen", options.listen_host, "Address to listen on for gossip (IP literal or localhost)")
      ->capture_default_str();
  app.add_option("--gossip-port", options.gossip_port, "Gossip port, UDP and TCP (0: ephemeral)")->capture_default_str();
  app.add_option("--advertise", options.advertise_host, "Address other peers reach this one at (default: --listen)");
  app.add_option("--seed", options.seeds, "A peer to join through, host:port (repeatable)");
  app.add_option("--cluster", options.cluster_name, "Cluster name; peers of other clusters are ignored")
      ->capture_default_str();
  app.add_option("--durability", durability, "sync, group or nosync (see docs/store.md)")
      ->check(CLI::IsMember({"sync", "group", "nosync"}))
      ->capture_default_str();
  app.add_option("--gossip-interval-ms", options.gossip_interval_ms, "How often deltas are pushed to neighbours")
      ->capture_default_str();
  app.add_option("--ports-file", ports_file, "Also write the ready line to this file");
  CLI11_PARSE(app, argc, argv);
  options.store.durability = durability == "sync"     ? cairn::Durability::kSync
                             : durability == "nosync" ? cairn::Durability::kNoSync
                                                      : cairn::Durability::kGroup;

  // Block SIGINT/SIGTERM in every thread (the node's threads inherit the mask); main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = cairn::Node::start(options);
  if (!node) {
    std::fprintf(stderr, "cairnd: cannot start: %s\n", node.error().to_string().c_str());
    return 1;
  }
  const std::string host = options.advertise_host.empty() ? options.listen_host : options.advertise_host;
  char ready[256];
  std::snprintf(ready, sizeof ready, "{\"event\":\"ready\",\"replica\":\"%016" PRIx64 "\",\"gossip\":\"%s:%u\"}",
                (*node)->replica_id(), host.c_str(), static_cast<unsigned>((*node)->gossip_port()));
  std::printf("%s\n", ready);
  std::fflush(stdout);
  if (!ports_file.empty()) std::ofstream(ports_file) << ready << "\n";
  std::fprintf(stderr, "cairnd: replica %016" PRIx64 " serving %s on %s:%u in cluster '%s'\n", (*node)->replica_id(),
               options.data_dir.c_str(), host.c_str(), static_cast<unsigned>((*node)->gossip_port()),
               options.cluster_name.c_str());

  int received = 0;
  sigwait(&stop_signals, &received);
  std::fprintf(stderr, "cairnd: %s received: leaving the cluster and closing the store\n",
               received == SIGINT ? "SIGINT" : "SIGTERM");
  (*node)->stop();
  std::fprintf(stderr, "cairnd: stopped\n");
  return 0;
}
