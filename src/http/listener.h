// HttpListener: the HTTP/1.1 server behind /health and /metrics, on a net::StreamServer.
//
// Requests. Each connection is read by a RequestReader; keep-alive and pipelined requests are answered
// in order. A method other than GET or HEAD is answered 405 (with "Allow: GET, HEAD") without calling
// the handler; HEAD gets the handler's GET answer without its body. Everything else goes to the
// handler (route() gives one that answers 404 for unknown paths). A stream the reader refuses gets
// its status (400, 413, 431, 505) with "Connection: close"; so does the last request of a connection
// that asked to close. After such a final answer the listener shuts down its side, reads and discards
// what the client still sends (so that closing does not reset the connection before the client has
// read the answer) and closes at the client's EOF or after kLingerMs.
//
// Limits. At most max_connections are open at once; one accepted beyond is closed at once and
// counted. A connection with no request in progress for idle_timeout_ms is closed. While a connection
// has more than max_queued_response_bytes of answers the client has not taken, it is not read (the
// client's pipelined requests wait in the kernel).
//
// Threads. start(), close(), closed(), port() and the destructor are loop-affine (see
// src/net/event_loop.h): call them on the loop thread or while no thread runs the loop.
// stats() may be called from any thread. The handler runs on the loop thread and must be quick: it
// holds up every socket of the loop while it runs (read atomics or a snapshot; never the store).
//
// Lifetime. The EventLoop must outlive the listener; the loop's shutdown closes it. Destroying an open
// listener closes it and lets libuv finish in the background, never calling the handler again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "src/net/event_loop.h"
#include "src/http/message.h"
#include "src/http/request_reader.h"

namespace cairn::http {

inline constexpr std::size_t kMaxHttpConnections = 64;
inline constexpr std::uint64_t kHttpIdleTimeoutMs = 30'000;
inline constexpr std::size_t kMaxQueuedResponseBytes = std::size_t{4} << 20;
// How long a connection lingers after its final answer, waiting for the client's EOF.
inline constexpr std::uint64_t kLingerMs = 2'000;

struct HttpListenerOptions {
  std::size_t max_connections = kMaxHttpConnections;
  std::uint64_t idle_timeout_ms = kHttpIdleTimeoutMs;  // 0: never time out.
  std::size_t max_queued_response_bytes = kMaxQueuedResponseBytes;
  RequestLimits request_limits;
};

// Counts since start(); a snapshot.
struct HttpListenerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;    // Beyond max_connections.
  std::uint64_t connections_timed_out = 0;  // Idle beyond idle_timeout_ms, or lingering beyond kLingerMs.
  std::uint64_t requests = 0;               // Complete requests answered (405s included).
  std::uint64_t bad_requests = 0;           // Streams refused by the reader (400, 413, 431, 505).
  std::uint64_t handler_failures = 0;       // Handler threw; answered 500.
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t open_connections = 0;  // Now.
};

class HttpListener {
 public:
  // Called on the loop thread for each GET or HEAD request.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Listens on `host`:`port` (an IPv4 or IPv6 literal, or "localhost" for 127.0.0.1; no DNS; port 0:
  // an ephemeral port, see port()). Fails with kInvalidArgument for a bad host, an empty handler or
  // max_connections 0, kUnavailable when the address is in use or the loop is shutting down, kIo for
  // other socket errors; nothing stays open after a failure. A failure to listen starts with the
  // address ("127.0.0.1:7402: address already in use (EADDRINUSE)"). Loop-affine.
  static Result<std::unique_ptr<HttpListener>> start(net::EventLoop& loop, std::string host,
                                                     std::uint16_t port, Handler handler,
                                                     HttpListenerOptions options = {});

  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // The bound port.
  std::uint16_t port() const;

  // Stops listening and closes every connection at once (answers not yet written are dropped); calls
  // `on_closed` (if set) on the loop thread once libuv has released every handle, and at once when
  // nothing is open. The handler is not called again. Idempotent.
  void close(std::function<void()> on_closed = nullptr);
  bool closed() const;

  // Thread-safe.
  HttpListenerStats stats() const;

  class Impl;

 private:
  explicit HttpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A handler serving exact paths (the request's path, query ignored) and answering 404 otherwise.
HttpListener::Handler route(std::vector<std::pair<std::string, HttpListener::Handler>> routes);

}  // namespace cairn::http
