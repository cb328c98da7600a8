#include "src/node/node_metrics.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

#include "gossip/wire.h"
#include "src/metrics/latency_histogram.h"
#include "src/util/hex_id.h"

namespace cairn::node {
namespace {

void counter(std::vector<MetricSample>& out, std::string name, std::string help, double value,
             std::vector<std::pair<std::string, std::string>> labels = {}) {
  out.push_back(MetricSample{std::move(name), std::move(help), MetricType::kCounter, std::move(labels), value});
}

void gauge(std::vector<MetricSample>& out, std::string name, std::string help, double value,
           std::vector<std::pair<std::string, std::string>> labels = {}) {
  out.push_back(MetricSample{std::move(name), std::move(help), MetricType::kGauge, std::move(labels), value});
}

}  // namespace

void add_protocol_metrics(const ProtocolSnapshot& snapshot, std::vector<MetricSample>& out) {
  const gossip::DisseminationStats& deltas = snapshot.dissemination;
  counter(out, "cairn_deltas_sent_total", "Delta-groups pushed to gossip neighbours (resends included).",
          static_cast<double>(deltas.entries_sent));
  counter(out, "cairn_delta_bytes_sent_total", "Bytes of delta-groups pushed to gossip neighbours.",
          static_cast<double>(deltas.bytes_sent));
  counter(out, "cairn_deltas_received_total", "Delta-groups received from gossip neighbours.",
          static_cast<double>(deltas.entries_received));
  counter(out, "cairn_delta_bytes_received_total", "Bytes of delta-groups received from gossip neighbours.",
          static_cast<double>(deltas.bytes_received));
  counter(out, "cairn_deltas_new_total", "Received delta-groups that held something new here.",
          static_cast<double>(deltas.entries_new));

  const gossip::AntiEntropyStats& repair = snapshot.anti_entropy;
  counter(out, "cairn_anti_entropy_rounds_total", "Anti-entropy rounds this peer started.",
          static_cast<double>(repair.rounds_started));
  counter(out, "cairn_anti_entropy_rounds_completed_total", "Anti-entropy rounds completed, by outcome.",
          static_cast<double>(repair.rounds_completed - std::min(repair.rounds_completed, repair.rounds_in_sync)),
          {{"outcome", "repaired"}});
  counter(out, "cairn_anti_entropy_rounds_completed_total", "Anti-entropy rounds completed, by outcome.",
          static_cast<double>(repair.rounds_in_sync), {{"outcome", "in_sync"}});
  counter(out, "cairn_anti_entropy_rounds_failed_total", "Anti-entropy rounds that timed out or failed.",
          static_cast<double>(repair.rounds_failed));
  counter(out, "cairn_anti_entropy_bytes_total", "Bytes of anti-entropy frames, by direction.",
          static_cast<double>(repair.bytes_sent), {{"direction", "sent"}});
  counter(out, "cairn_anti_entropy_bytes_total", "Bytes of anti-entropy frames, by direction.",
          static_cast<double>(repair.bytes_received), {{"direction", "received"}});
  counter(out, "cairn_anti_entropy_records_total", "Records shipped by anti-entropy, by direction.",
          static_cast<double>(repair.records_sent), {{"direction", "sent"}});
  counter(out, "cairn_anti_entropy_records_total", "Records shipped by anti-entropy, by direction.",
          static_cast<double>(repair.records_received), {{"direction", "received"}});

  const gossip::StabilityStats& stability = snapshot.stability;
  counter(out, "cairn_context_reports_total", "Causal context reports exchanged with members, by direction.",
          static_cast<double>(stability.reports_sent), {{"direction", "sent"}});
  counter(out, "cairn_context_reports_total", "Causal context reports exchanged with members, by direction.",
          static_cast<double>(stability.reports_received), {{"direction", "received"}});
  counter(out, "cairn_counter_resets_compacted_total",
          "Counter reset entries dropped once no replica could need them.",
          static_cast<double>(stability.resets_dropped));
  counter(out, "cairn_retirements_total", "Peers retired, by who decided.",
          static_cast<double>(stability.retirements_decided), {{"decided_by", "this_peer"}});
  counter(out, "cairn_retirements_total", "Peers retired, by who decided.",
          static_cast<double>(stability.retirements_learned), {{"decided_by", "another_peer"}});
  counter(out, "cairn_retired_notices_sent_total", "Frames from retired peers answered with a retired notice.",
          static_cast<double>(stability.retired_notices_sent));

  std::map<std::string, double> peers_by_state{{"alive", 0}, {"suspect", 0}, {"dead", 0}, {"left", 0}};
  for (const NodeStatus::Member& member : snapshot.status.members) peers_by_state[member.state] += 1;
  for (const auto& [state, count] : peers_by_state) {
    gauge(out, "cairn_peers", "Other cluster members this peer knows, by state.", count, {{"state", state}});
  }
  for (const NodeStatus::Member& member : snapshot.status.members) {
    if (!member.neighbour) continue;
    gauge(out, "cairn_replication_lag_entries",
          "Delta-log entries of this peer a gossip neighbour has not acknowledged yet.",
          static_cast<double>(member.lag_entries), {{"neighbour", hex_id(member.id)}});
  }

  const std::array reasons{gossip::FrameError::kBadMagic,  gossip::FrameError::kWrongVersion,
                           gossip::FrameError::kUnknownType, gossip::FrameError::kOversized,
                           gossip::FrameError::kTruncated,  gossip::FrameError::kUndecodable,
                           gossip::FrameError::kUnsealed,   gossip::FrameError::kUnknownKey,
                           gossip::FrameError::kUnauthenticated, gossip::FrameError::kReplayed};
  static_assert(reasons.size() == gossip::kFrameErrorCount);
  for (gossip::FrameError reason : reasons) {
    counter(out, "cairn_frames_dropped_total", "Peer frames dropped before any other work, by reason.",
            static_cast<double>(snapshot.peer.frames_dropped[static_cast<std::size_t>(reason)]),
            {{"reason", std::string(gossip::to_string(reason))}});
  }
  counter(out, "cairn_frames_dropped_total", "Peer frames dropped before any other work, by reason.",
          static_cast<double>(snapshot.peer.frames_from_other_clusters), {{"reason", "other_cluster"}});
  counter(out, "cairn_frames_dropped_total", "Peer frames dropped before any other work, by reason.",
          static_cast<double>(snapshot.peer.frames_other_partition_count), {{"reason", "other_partition_count"}});
  counter(out, "cairn_frames_dropped_total", "Peer frames dropped before any other work, by reason.",
          static_cast<double>(snapshot.frames_dropped_busy), {{"reason", "worker_busy"}});
  counter(out, "cairn_gossip_frames_sent_total", "Peer frames sent (datagrams and stream frames).",
          static_cast<double>(snapshot.peer.frames_sent));
  counter(out, "cairn_gossip_bytes_sent_total", "Bytes of peer frames sent.", static_cast<double>(snapshot.peer.bytes_sent));
  counter(out, "cairn_gossip_frames_received_total", "Peer frames received.",
          static_cast<double>(snapshot.peer.frames_received));
  counter(out, "cairn_gossip_bytes_received_total", "Bytes of peer frames received.",
          static_cast<double>(snapshot.peer.bytes_received));
  counter(out, "cairn_membership_suspicions_total", "Members this peer suspected after an unanswered probe.",
          static_cast<double>(snapshot.membership.suspicions));
  counter(out, "cairn_membership_deaths_total", "Members this peer declared dead after an expired suspicion.",
          static_cast<double>(snapshot.membership.deaths));
}

void add_store_metrics(const StoreUsage& usage, std::vector<MetricSample>& out) {
  for (const auto& [operation, count] : usage.operations.named()) {
    counter(out, "cairn_operations_total", "Store operations by kind (local calls and merged deltas).",
            static_cast<double>(count), {{"op", std::string(operation)}});
  }
  gauge(out, "cairn_delta_log_entries", "Delta-groups in the delta log, not yet trimmed.",
        static_cast<double>(usage.delta_log_entries));
  gauge(out, "cairn_lmdb_map_size_bytes", "The LMDB memory map's current size.", static_cast<double>(usage.map_size_bytes));
  gauge(out, "cairn_lmdb_used_bytes", "Bytes of the LMDB map in use (high-water mark of pages written).",
        static_cast<double>(usage.used_bytes));
  gauge(out, "cairn_lmdb_file_bytes", "Size of the LMDB data file on disk.", static_cast<double>(usage.file_bytes));
  counter(out, "cairn_store_commit_failures_total",
          "Store commits that failed (disk full, map full, I/O error): the writes in them failed.",
          static_cast<double>(usage.writes.failed_commits));
  counter(out, "cairn_store_commits_total", "Successful store commits (each one LMDB transaction, one fsync in group/sync).",
          static_cast<double>(usage.commits));
  counter(out, "cairn_store_committed_writes_total",
          "Writes held by successful store commits; divided by cairn_store_commits_total: writes per commit.",
          static_cast<double>(usage.committed_writes));
  counter(out, "cairn_store_failed_record_checks_total",
          "Store reads and writes refused because a record or the causal context failed an invariant check.",
          static_cast<double>(usage.failed_record_checks));
  gauge(out, "cairn_store_writes_failing", "1 while the last store commit failed (writes fail now), else 0.",
        usage.writes.failing ? 1.0 : 0.0);
}

void add_client_metrics(const server::ClientListenerStats& stats, std::vector<MetricSample>& out) {
  gauge(out, "cairn_client_connections", "Client protocol connections open now.",
        static_cast<double>(stats.connections_open));
  counter(out, "cairn_client_connections_accepted_total", "Client protocol connections accepted.",
          static_cast<double>(stats.connections_accepted));
  counter(out, "cairn_client_connections_refused_total", "Client connections closed at once: over the limit.",
          static_cast<double>(stats.connections_refused));
  for (const auto& [op, count] : stats.requests_by_op) {
    counter(out, "cairn_client_requests_total", "Client requests by operation.", static_cast<double>(count),
            {{"op", op}});
  }
  for (const auto& [code, count] : stats.error_replies_by_code) {
    counter(out, "cairn_client_errors_total", "Client requests answered with an error, by error code.",
            static_cast<double>(count), {{"code", code}});
  }
  for (const auto& [reason, count] : stats.bad_frames_by_reason) {
    counter(out, "cairn_client_bad_frames_total", "Client frames that were not a valid request, by reason.",
            static_cast<double>(count), {{"reason", reason}});
  }
  counter(out, "cairn_client_auth_failures_total",
          "Client connections closed because they did not present the client token (missing or wrong).",
          static_cast<double>(stats.authentication_failures));
  counter(out, "cairn_client_bytes_received_total", "Bytes received from clients.", static_cast<double>(stats.bytes_in));
  counter(out, "cairn_client_bytes_sent_total", "Bytes sent to clients.", static_cast<double>(stats.bytes_out));
  metrics::append_latency_samples("cairn_client_request_duration_seconds",
                                  "Client protocol requests: seconds from the request read to its reply, by operation.",
                                  stats.latency_by_op, out);
}

void add_resp_metrics(const resp::RespListenerStats& stats, std::vector<MetricSample>& out) {
  metrics::append_latency_samples("cairn_resp_command_duration_seconds",
                                  "RESP commands: seconds from the command read to its reply, by command.",
                                  stats.latency_by_command, out);
}

}  // namespace cairn::node
