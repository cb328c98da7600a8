// RespListener: the RESP2 port (docs/resp.md): a net::SessionServer (src/net/session_server.h) whose
// connections each get a RespSession (session.h), with the sessions' store calls on the listener's
// own worker pool, never on the loop thread.
//
// Behaviour is the session's (authentication, protocol errors, replies in order) and the session
// server's (coalesced writes, backpressure): a connection's unsent output is bounded by
// RespListenerOptions::max_buffered_output_bytes (no further command runs for it while over), one
// reply by RespOptions::max_collected_reply_bytes; after a protocol error or QUIT the connection closes
// once the reply is written. A connection over max_connections is closed at once and counted.
//
// Threads: start(), close() and the destructor from any thread, under the rule of ClientListener
// (src/server/client_listener.h): off the loop thread while the loop runs or after it stopped.
// port() and stats() from any thread.
//
// Lifetime: the EventLoop and the Store must outlive the listener; once close() returns no store call
// runs any more (the RESP state that holds store cursors goes with the listener).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cairn/metrics.h"
#include "cairn/node.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "src/net/event_loop.h"
#include "src/metrics/latency_histogram.h"
#include "src/resp/command.h"

namespace cairn::resp {

struct RespListenerOptions {
  RespOptions session;  // The client token, the request limits, the reply limits.
  std::size_t max_connections = 1024;
  // A connection's replies not yet taken by the kernel; past it no further command runs for it.
  std::size_t max_buffered_output_bytes = std::size_t{4} << 20;
  unsigned worker_threads = 8;
  std::uint64_t seed = 0;  // SCAN cursors and RANDOMKEY (RespShared); 0: from std::random_device.
  std::function<NodeStatus()> status;                // INFO replication; may be empty.
  std::function<std::vector<MetricSample>()> metrics;  // INFO cairn; may be empty.
};

struct RespListenerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;
  std::uint64_t open_connections = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  // RespStats::latency_by_command of every session (src/resp/counters.h).
  metrics::LatencyByOp latency_by_command;
};

class RespListener {
 public:
  // Binds `host`:`port` (IP literal or "localhost"; 0: ephemeral) and starts accepting. Errors as
  // ClientListener::start's ("127.0.0.1:7403: address already in use (EADDRINUSE)").
  static Result<std::unique_ptr<RespListener>> start(net::EventLoop& loop, std::string host, std::uint16_t port,
                                                     Store& store, RespListenerOptions options = {});
  ~RespListener();
  RespListener(const RespListener&) = delete;
  RespListener& operator=(const RespListener&) = delete;

  std::uint16_t port() const;
  RespListenerStats stats() const;
  // Stops accepting, closes every connection, joins the worker pool. Idempotent.
  void close();

  class Impl;

 private:
  explicit RespListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace cairn::resp
