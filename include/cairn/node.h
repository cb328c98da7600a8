// cairn::Node: a peer run in-process. It owns a store, a libuv event loop thread for the network, and
// the gossip protocol (membership, ring neighbours, delta dissemination), and keeps the store in sync
// with the cluster while the application reads and writes through store().
//
// Threads. start() and stop() may be called from any thread (not from a subscriber callback). store()
// is the ordinary thread-safe Store. The event loop thread only moves bytes. The protocol runs on two
// worker threads of its own: one for everything that calls the store (and may wait for an fsync), one
// for failure detection, which never does; so a slow disk or a 16 MiB merge neither stalls the network
// nor makes the peer look dead to its neighbours (docs/gossip.md).
//
// Signals. A client or peer that hangs up while the node writes to it must not end the application:
// every thread the node creates (the event loop, the client workers, the two protocol lanes, the store's
// writer) blocks SIGPIPE in itself as it starts, so such a write fails with EPIPE and only that
// connection closes. The node never changes the process's signal dispositions nor the mask of the
// application's threads; an application may still ignore SIGPIPE process-wide if it likes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cairn/defaults.h"
#include "cairn/metrics.h"
#include "cairn/options.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn {

// What one peer spends at most on others: each limit bounds memory or work an outsider (or a faulty
// peer or client) can make it spend. docs/security.md lists each one with the test that checks it.
struct NodeLimits {
  // Gossip. Inbound gossip TCP connections open at once; one beyond is closed at once.
  std::size_t max_peer_connections = kDefaultMaxPeerConnections;
  // A peer frame's payload (sealed bytes); a stream frame announcing more closes its connection, a
  // datagram is dropped. At most 24 MiB (the protocol's limit). Every peer of a cluster needs the same
  // value, above its largest delta-group (a 16 MiB value and its metadata).
  std::size_t max_peer_frame_bytes = kProtocolMaxFramePayloadBytes;
  // Members the membership table holds; further unknown peers are ignored and counted.
  std::size_t max_members = kDefaultMaxMembers;
  // Delta-log entries and bytes in one push to a neighbour (a single larger entry still goes alone).
  // A received push may carry at most 4096 entries (the protocol's limit).
  std::size_t max_delta_batch_entries = kDefaultMaxDeltaBatchEntries;
  std::size_t max_delta_batch_bytes = kDefaultMaxDeltaBatchBytes;
  // Clients. Connections open at once; one beyond is closed at once.
  std::size_t max_client_connections = kDefaultMaxClientConnections;
  // A request frame's payload; a larger one gets an error reply and its payload is skipped.
  std::size_t max_client_frame_bytes = kDefaultMaxClientFrameBytes;
  // Requests of one connection queued or running; beyond, the connection is not read until some are
  // answered (backpressure, not an error).
  std::size_t max_client_requests_in_flight = kDefaultMaxClientRequestsInFlight;
};

struct NodeOptions {
  std::string data_dir = "./cairn-data";
  // Where to listen for gossip (UDP and TCP on the same port). An IPv4/IPv6 literal or "localhost".
  std::string listen_host = "127.0.0.1";
  std::uint16_t gossip_port = kDefaultGossipPort;  // 0: an ephemeral port; gossip_port() tells which.
  // The client protocol (TCP) and HTTP (/health, /metrics) listeners. They bind to client_host
  // (loopback by default: clients on other hosts must be allowed explicitly). Port 0: ephemeral;
  // disabled when the matching enable flag is off (an embedding app usually needs neither).
  bool serve_clients = false;
  std::string client_host = "127.0.0.1";
  std::uint16_t client_port = kDefaultClientPort;
  bool serve_http = false;
  std::uint16_t http_port = kDefaultHttpPort;
  // The RESP2 port (docs/resp.md: redis-cli and every Redis client), on client_host, AUTH with the
  // client token (created as for serve_clients). Off unless serve_resp; cairnd serves it on 7403
  // unless told `--resp-port off`.
  bool serve_resp = false;
  std::uint16_t resp_port = kDefaultRespPort;
  // The address other peers should use to reach this one; empty: listen_host.
  std::string advertise_host;
  // Peers to join through, as "host:port".
  std::vector<std::string> seeds;
  // Peers of other clusters are ignored.
  std::string cluster_name = "cairn";
  // Peer traffic is sealed (authenticated and encrypted, docs/security.md) under the cluster key. Each
  // key is 64 hex digits; frames are sealed with the first and accepted under any (key rotation).
  // Empty: the keys in data_dir/cluster.key, which is created with one random key (mode 0600) on first
  // start; copy that file to every peer of the cluster.
  std::vector<std::string> cluster_keys;
  // Send peer frames unsealed and accept unsealed ones: anyone who can reach the gossip port can join,
  // read and write. Only for tests and trusted networks; logged as a warning. Sealed frames are still
  // accepted under cluster_keys, if given.
  bool insecure = false;
  // The token clients must present (docs/client-protocol.md). Empty: the one in data_dir/client.token,
  // created (random, mode 0600) on first start when serve_clients is on.
  std::string client_token;
  StoreOptions store;
  std::uint64_t gossip_interval_ms = kDefaultGossipIntervalMs;   // How often new deltas go to neighbours.
  std::uint64_t protocol_period_ms = kDefaultProtocolPeriodMs;  // SWIM probe period.
  std::uint64_t suspicion_timeout_ms = kDefaultSuspicionTimeoutMs;
  // A member dead or left this long is retired (docs/metadata-gc.md); 0: only `cairn retire` retires.
  std::uint64_t retire_after_ms = kDefaultRetireAfterMs;
  NodeLimits limits;
};

// A snapshot of what the node knows, for status displays.
struct NodeStatus {
  std::uint64_t replica_id = 0;
  std::uint16_t gossip_port = 0;
  struct Member {
    std::uint64_t id = 0;
    std::string address;  // host:port
    std::string state;    // "alive", "suspect", "dead", "left"
    std::uint64_t incarnation = 0;
    std::uint64_t last_heard_ms_ago = 0;  // Since the last message from it (0: never heard directly).
    bool neighbour = false;               // A current gossip neighbour.
    // For a neighbour: delta-log entries of ours it has not acknowledged yet (replication lag).
    std::uint64_t lag_entries = 0;
    std::vector<std::uint64_t> ring_positions;  // Its virtual nodes' positions on the hash ring.
  };
  std::vector<Member> members;       // Other peers.
  std::vector<std::uint64_t> neighbours;  // Current gossip neighbours.
  std::vector<std::uint64_t> ring_positions;  // This peer's virtual nodes on the ring.
  std::uint64_t frames_dropped = 0;  // Malformed, oversized, wrong-version or foreign frames.
  // Retirements this peer proposed (`cairn retire`, or a member dead past the horizon) that are not
  // decided yet, and the members each waits for (docs/metadata-gc.md); this peer's own id when it has
  // seen a dot of the replica past a gap.
  struct PendingRetirement {
    std::uint64_t replica = 0;
    std::uint64_t proposed_ms_ago = 0;
    bool by_operator = false;
    std::vector<std::uint64_t> waiting_for;
  };
  std::vector<PendingRetirement> pending_retirements;
  // This peer as other members see it: the gossip address it advertises (host:port) and its current
  // incarnation (raised each time it refutes a suspicion of itself).
  std::string address;
  std::uint64_t incarnation = 0;
  // The seeds this peer was started with ("host:port", as given).
  std::vector<std::string> seeds;
  // True while this peer expects company (it has seeds, or members that did not leave) but reaches
  // nobody: no seed answers and no member is alive or suspect; `isolated_ms` says for how long.
  bool isolated = false;
  std::uint64_t isolated_ms = 0;
  // What GET /health answers (docs/observability.md): "ok"; "degraded" (it serves, but see
  // `health_reasons`: writes failing, nobody reachable, a protocol thread stalled); or "unavailable"
  // (no write can succeed until the peer restarts). Computed when status() is called.
  std::string health = "ok";
  std::vector<std::string> health_reasons;
};

class Node {
 public:
  // Opens the store in options.data_dir, binds the gossip port (UDP and TCP), the HTTP and client
  // ports when enabled, and joins through the seeds. Fails with the store's errors (kUnavailable when
  // another process holds data_dir), kUnavailable when a port is taken or its address is not local
  // (the message names the port, the address and the reason: "client port 127.0.0.1:7401: address
  // already in use (EADDRINUSE)"), kInvalidArgument for a bad seed, listen address or a malformed
  // cluster key, kIo when data_dir/cluster.key or client.token cannot be read or created, kUnavailable
  // when a thread or the event loop cannot be created. After a failure nothing stays open: every
  // socket, thread and the store (with its lock) started so far is released before start() returns.
  static Result<std::unique_ptr<Node>> start(const NodeOptions& options);

  // Stops as stop() does.
  virtual ~Node() = default;

  // The node's store: read and write it as usual; writes reach the cluster by gossip.
  virtual Store& store() = 0;
  virtual std::uint16_t gossip_port() const = 0;
  // The bound client, HTTP and RESP ports (0 when not serving them).
  virtual std::uint16_t client_port() const = 0;
  virtual std::uint16_t http_port() const = 0;
  virtual std::uint16_t resp_port() const = 0;
  // This peer's replica id; a new one if the cluster retired the old one while this peer was away.
  virtual std::uint64_t replica_id() const = 0;
  virtual NodeStatus status() = 0;
  // Every metric of the node now (what /metrics serves).
  virtual std::vector<MetricSample> metrics() = 0;

  // Proposes retiring the dead or stopped peer `replica` (docs/metadata-gc.md): decided once every
  // peer that may hold its writes agrees on its last write (status().pending_retirements says what a
  // proposal waits for), then known cluster-wide. kInvalidArgument for this peer
  // or a reachable one, kNotFound for a peer never known here, kUnavailable once stopped.
  virtual Status retire(std::uint64_t replica) = 0;

  // Applies the client limits of `limits` (max_client_connections, max_client_frame_bytes,
  // max_client_requests_in_flight) while the node runs, without a restart: connections accepted from
  // now on get the new frame and in-flight limits (open ones keep theirs), and the next accept counts
  // the open connections against the new max_client_connections. The other fields of NodeLimits size
  // structures fixed at start and are ignored here (they need a restart). Any thread.
  // kInvalidArgument for a limit of 0, kUnavailable once stopped or when the node serves no clients.
  virtual Status set_client_limits(const NodeLimits& limits) = 0;

  // Leaves the cluster gracefully (announces it), closes the network and the store. Idempotent.
  virtual void stop() = 0;
};

}  // namespace cairn
