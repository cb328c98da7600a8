// Internal to src/http: the state behind HttpListener, shared by listener.cpp (listening, accepting,
// closing, the public methods) and connection.cpp (reading, answering, writing, timing out). Names
// libuv types, so only those two files include it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gossip/transport/loop_internal.h"
#include "src/http/listener.h"

namespace cairn::http {

inline constexpr int kListenBacklog = 128;
inline constexpr std::size_t kReadBufferBytes = 64 * 1024;

inline uv_handle_t* as_handle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }
inline uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

class HttpListener::Impl final : public transport::LoopMember {
 public:
  Impl(transport::EventLoop& loop, Handler handler, HttpListenerOptions options)
      : loop_(loop), uv_(loop.impl()), handler_(std::move(handler)), options_(options) {
    uv_.members.insert(this);
  }
  ~Impl() { uv_.members.erase(this); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  void close(std::function<void()> on_closed);
  void close_for_shutdown() override { close(nullptr); }
  // Called by ~HttpListener: closes, forgets the handler and every on_closed, and returns true when
  // handles are still closing (the Impl then deletes itself once the last one has closed).
  bool abandon();
  HttpListenerStats stats() const;

  std::uint16_t port_ = 0;
  bool closing_ = false;

 private:
  struct Connection {
    Connection(Impl& impl, RequestLimits limits) : owner(impl), reader(limits) {}
    Impl& owner;
    uv_tcp_t handle{};
    uv_shutdown_t shutdown{};
    RequestReader reader;
    std::string pending;                   // Read but not yet fed to the reader (backpressure, pipelining).
    std::size_t queued_bytes = 0;          // Answers written but not yet taken by the kernel.
    std::uint64_t last_activity_ms = 0;    // Last byte read, or last answer taken by the kernel.
    std::uint64_t request_started_ms = 0;  // When the request in progress began.
    std::uint64_t finished_ms = 0;         // When the final answer was queued.
    bool counted = false;                  // Accepted within max_connections (not refused).
    bool reading = false;
    bool finishing = false;    // The final answer is queued: reads are discarded until EOF.
    bool peer_closed = false;  // The client's EOF came: answer what was asked, then close.
    bool shutdown_sent = false;
    bool shutdown_done = false;
    bool closing = false;
  };
  // Relaxed atomics: stats() reads them from any thread.
  struct Counters {
    std::atomic<std::uint64_t> connections_accepted{0}, connections_refused{0}, connections_timed_out{0},
        requests{0}, bad_requests{0}, handler_failures{0}, bytes_received{0}, bytes_sent{0},
        open_connections{0};
  };

  void process(Connection& connection);
  void on_peer_closed(Connection& connection);
  void answer(Connection& connection, const HttpRequest& request);
  HttpResponse call_handler(const HttpRequest& request);
  void refuse(Connection& connection);
  void finish(Connection& connection);
  void maybe_shutdown(Connection& connection);
  void update_reading(Connection& connection);
  void write(Connection& connection, std::string bytes);
  void sweep();
  void close_connection(Connection& connection);
  void handle_closed();
  void maybe_finish_close();

  static void on_accept(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  static void on_write(void* context, std::size_t bytes, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  static void on_connection_closed(uv_handle_t* handle);
  static void on_listener_closed(uv_handle_t* handle);

  transport::EventLoop& loop_;
  transport::EventLoop::Impl& uv_;
  Handler handler_;
  HttpListenerOptions options_;
  uv_tcp_t* listener_ = nullptr;                                    // Owned; released in its close callback.
  std::map<Connection*, std::unique_ptr<Connection>> connections_;  // Open or closing.
  std::size_t open_handles_ = 0;                                    // Initialised and not yet closed.
  transport::EventLoop::TimerId sweep_timer_ = 0;
  std::vector<std::function<void()>> on_closed_;
  bool abandoned_ = false;
  Counters counters_;
  std::array<char, kReadBufferBytes> read_buffer_{};  // Each read is consumed before the next.
};

}  // namespace cairn::http
