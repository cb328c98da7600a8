// The client protocol's TCP listener (docs/client-protocol.md): a net::SessionServer
// (src/net/session_server.h) whose connections each get a ClientSession (client_session.h), with the
// sessions' store calls on its worker pool.
//
// Connections. Each accepted connection is read as a stream of request frames; replies are written in
// the order the requests came (pipelining). A connection over ClientListenerOptions::max_connections is
// closed at once and counted. Backpressure: while a connection has max_in_flight_requests unanswered
// requests the listener stops reading it; while max_buffered_output_bytes of its replies are not yet
// taken by the kernel, no further step (request, stream batch, watch batch) runs for it. A session that
// must close (a corrupt stream) is closed once its last reply is written. A client that half-closes
// (shuts down its sending side) still gets the replies to every request it sent, its watches end, and
// then the connection closes; a connection that fails is closed at once (queued work dropped, watches
// ended).
//
// Threads. The libuv handles live on the loop thread. Store calls run on the listener's own worker
// pool (ClientListenerOptions::worker_threads): never on the loop thread, one step at a time per
// connection (so a connection's requests run in order), and their results are posted back to the loop.
// Watch callbacks run on the store's writer thread and only queue the change and post a wake-up.
//   start()  any thread: on the loop thread, before the loop starts, or while it runs (it then posts
//            the work to the loop and waits for it).
//   port(), stats(), close()  any thread. close() off the loop thread must run while the loop runs or
//            after EventLoop::stop() has returned (the loop's shutdown then has closed the listener).
//
// Lifetime. The EventLoop and `Services::store` must outlive the listener; the loop's shutdown closes
// it too. Once close() returns, no store call runs any more and none will (the worker pool is joined,
// every session has ended its watches), so the store may be closed. Off the loop thread, close() also
// waits until libuv has released every handle; on the loop thread the handles finish closing after the
// current callback (the listener keeps what they need alive itself). Destroy the listener (which
// closes it) on the loop thread, or off it under the same rule as close().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cairn/status.h"
#include "src/net/event_loop.h"
#include "src/server/client_session.h"

namespace cairn::server {

// The limits a running listener can change (set_limits()); ClientListenerOptions holds their values
// at start and every other setting.
struct ClientConnectionLimits {
  std::size_t max_connections = 0;
  std::size_t max_frame_payload_bytes = 0;
  std::size_t max_in_flight_requests = 0;
};

class ClientListener {
 public:
  // Binds `host`:`port` (an IPv4 or IPv6 literal, or "localhost"; port 0: ephemeral) and starts
  // accepting. kUnavailable when the address is in use or the loop is shutting down, kInvalidArgument
  // for a host that is not an IP literal, kIo for other socket errors; the message starts with the
  // address ("127.0.0.1:7401: address already in use (EADDRINUSE)"). Nothing stays open after a failure.
  static Result<std::unique_ptr<ClientListener>> start(net::EventLoop& loop, std::string host,
                                                       std::uint16_t port, Services services,
                                                       ClientListenerOptions options = {});
  ~ClientListener();

  ClientListener(const ClientListener&) = delete;
  ClientListener& operator=(const ClientListener&) = delete;

  // The bound port.
  std::uint16_t port() const;
  // A snapshot of the counters. Thread-safe.
  ClientListenerStats stats() const;
  // Stops accepting, closes every connection, joins the worker pool. Idempotent. See the top of the file.
  void close();
  // Replaces the limits: connections accepted from now on get the new frame and in-flight limits
  // (open ones keep theirs); the next accept counts the open connections against max_connections.
  // Any thread, under the same rule as start(); returns once applied. kInvalidArgument for a limit of
  // 0, kUnavailable once the listener or its loop is closing.
  Status set_limits(const ClientConnectionLimits& limits);

  class Impl;

 private:
  explicit ClientListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace cairn::server
