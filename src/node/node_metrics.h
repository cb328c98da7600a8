// Turns a node's snapshots into the metric samples /metrics serves (docs/observability.md lists them).
#pragma once

#include <optional>
#include <vector>

#include "cairn/metrics.h"
#include "cairn/store.h"
#include "src/node/protocol_snapshot.h"
#include "src/resp/listener.h"
#include "src/server/client_session.h"

namespace cairn::node {

// Samples of the gossip protocol: deltas, frames, peers by state, replication lag per neighbour.
void add_protocol_metrics(const ProtocolSnapshot& snapshot, std::vector<MetricSample>& out);

// Samples of the store: operations by kind, delta log length, LMDB map size and use.
void add_store_metrics(const StoreUsage& usage, std::vector<MetricSample>& out);

// Samples of the client listener: open connections, requests by operation, errors, bad frames, bytes,
// and the latency histogram of requests by operation.
void add_client_metrics(const server::ClientListenerStats& stats, std::vector<MetricSample>& out);

// Samples of the RESP listener: the latency histogram of commands by name.
void add_resp_metrics(const resp::RespListenerStats& stats, std::vector<MetricSample>& out);

}  // namespace cairn::node
