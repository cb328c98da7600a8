// Internal to src/http: the state behind HttpListener, shared by listener.cpp (listening, closing, the
// public methods) and connection.cpp (reading, answering, writing, timing out). The sockets are a
// net::StreamServer's; connections are known by their net::ConnectionId.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "src/http/listener.h"
#include "src/net/stream_server.h"

namespace cairn::http {

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

class HttpListener::Impl final : public net::StreamHandler {
 public:
  Impl(net::EventLoop& loop, Handler handler, HttpListenerOptions options)
      : loop_(loop),
        handler_(std::move(handler)),
        options_(options),
        server_(loop, *this, net::StreamServerOptions{.max_inbound_connections = options.max_connections}) {}
  ~Impl() { loop_.cancel(std::exchange(sweep_timer_, 0)); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  void close(std::function<void()> on_closed);
  HttpListenerStats stats() const;

  std::uint16_t port_ = 0;
  bool closing_ = false;

  // net::StreamHandler.
  void on_open(net::ConnectionId id, bool inbound) override;
  void on_data(net::ConnectionId id, std::string_view bytes) override;
  void on_end(net::ConnectionId id) override;
  void on_written(net::ConnectionId id, std::size_t messages, std::size_t bytes, bool ok) override;
  void on_closing(net::ConnectionId id, net::CloseReason reason, std::size_t unsent_messages) override;
  void on_refused() override { bump(counters_.connections_refused); }
  void on_shutdown(net::ConnectionId id, bool ok) override;
  void on_server_closing() override;

 private:
  struct Connection {
    explicit Connection(RequestLimits limits) : reader(limits) {}
    net::ConnectionId id = 0;
    RequestReader reader;
    std::string pending;                   // Read but not yet fed to the reader (backpressure, pipelining).
    std::uint64_t last_activity_ms = 0;    // Last byte read, or last answer taken by the kernel.
    std::uint64_t request_started_ms = 0;  // When the request in progress began.
    std::uint64_t finished_ms = 0;         // When the final answer was queued.
    bool reading = true;       // The stream server reads a new connection.
    bool finishing = false;    // The final answer is queued: reads are discarded until EOF.
    bool peer_closed = false;  // The client's EOF came: answer what was asked, then close.
    bool shutdown_sent = false;
    bool shutdown_done = false;
  };
  // Relaxed atomics: stats() reads them from any thread.
  struct Counters {
    std::atomic<std::uint64_t> connections_accepted{0}, connections_refused{0}, connections_timed_out{0},
        requests{0}, bad_requests{0}, handler_failures{0}, bytes_received{0}, bytes_sent{0},
        open_connections{0};
  };

  Connection* find(net::ConnectionId id);
  void process(Connection& connection);
  void answer(Connection& connection, const HttpRequest& request);
  HttpResponse call_handler(const HttpRequest& request);
  void refuse(Connection& connection);
  void finish(Connection& connection);
  void maybe_shutdown(Connection& connection);
  void update_reading(Connection& connection);
  void write(Connection& connection, std::string bytes);
  void sweep();

  net::EventLoop& loop_;
  Handler handler_;
  HttpListenerOptions options_;
  std::map<net::ConnectionId, std::unique_ptr<Connection>> connections_;  // Open ones.
  net::EventLoop::TimerId sweep_timer_ = 0;
  Counters counters_;
  // Last, so it goes first (and calls nothing here once destroyed).
  net::StreamServer server_;
};

}  // namespace cairn::http
