// Cluster options with every protocol timer scaled down (half-second probes, two-second suspicion,
// five-second anti-entropy rounds, reports every second), for simulator tests that partition, crash
// and heal peers and want the outcome within a few virtual minutes. No faults: tests add their own.
#pragma once

#include <cstdint>
#include <string>

#include "gossip/sim/cluster.h"

namespace cairn::sim {

inline ClusterOptions fast_cluster_options(int peers, std::uint64_t seed, std::string cluster_name) {
  ClusterOptions options;
  options.peers = peers;
  options.seed = seed;
  options.seed_peers = 2;
  options.peer.cluster_name = std::move(cluster_name);
  options.peer.gossip_interval_ms = 100;
  options.peer.membership.protocol_period_ms = 500;
  options.peer.membership.ping_timeout_ms = 150;
  options.peer.membership.suspicion_timeout_ms = 2000;
  options.peer.membership.dead_probe_interval_ms = 1000;
  options.peer.dissemination.resend_after_ms = 400;
  options.peer.anti_entropy.periodic_interval_ms = 5000;
  options.peer.anti_entropy.round_timeout_ms = 2000;
  options.peer.anti_entropy.retry_after_ms = 500;
  options.peer.stability.report_interval_ms = 1000;
  options.peer.stability.compaction_interval_ms = 2000;
  options.peer.stability.retire_after_ms = 0;  // Only where a test says so.
  return options;
}

}  // namespace cairn::sim
