#include "src/http/listener.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstring>
#include <map>
#include <utility>

#include "gossip/transport/loop_internal.h"

namespace cairn::http {
namespace {

constexpr int kListenBacklog = 128;
constexpr std::size_t kReadBufferBytes = 64 * 1024;

uv_handle_t* as_handle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }
uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

// An IPv4 or IPv6 literal, or "localhost" (127.0.0.1). No DNS: the loop must never block on a resolver.
Result<sockaddr_storage> parse_address(const std::string& host, std::uint16_t port) {
  const std::string literal = host == "localhost" ? "127.0.0.1" : host;
  sockaddr_storage address{};
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (literal.find('\0') != std::string::npos) {
    // Falls through to the refusal below: a C string would silently end at the NUL.
  } else if (uv_ip4_addr(literal.c_str(), port, &v4) == 0) {
    std::memcpy(&address, &v4, sizeof v4);
    return address;
  } else if (uv_ip6_addr(literal.c_str(), port, &v6) == 0) {
    std::memcpy(&address, &v6, sizeof v6);
    return address;
  }
  return fail(ErrorCode::kInvalidArgument,
              "HTTP listener: '" + host + "' is not an IP address or \"localhost\"");
}

Result<std::uint16_t> bound_port(uv_tcp_t& tcp) {
  sockaddr_storage bound{};
  int length = static_cast<int>(sizeof bound);
  if (int rc = uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&bound), &length); rc < 0) {
    return tl::unexpected(transport::uv_error("uv_tcp_getsockname", rc));
  }
  if (bound.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &bound, sizeof v6);
    return ntohs(v6.sin6_port);
  }
  sockaddr_in v4{};
  std::memcpy(&v4, &bound, sizeof v4);
  return ntohs(v4.sin_port);
}

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

}  // namespace

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
  struct WriteRequest {
    Connection* connection = nullptr;
    std::string bytes;
    uv_write_t request{};
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
  static void on_write(uv_write_t* request, int status);
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

// ---- Listening ----

Status HttpListener::Impl::listen(const std::string& host, std::uint16_t port) {
  if (uv_.shutting_down)
    return fail(ErrorCode::kUnavailable, "HTTP listener: the event loop is shutting down");
  auto address = parse_address(host, port);
  if (!address) return tl::unexpected(address.error());
  auto tcp = std::make_unique<uv_tcp_t>();
  if (int rc = uv_tcp_init(&uv_.loop, tcp.get()); rc < 0)
    return tl::unexpected(transport::uv_error("uv_tcp_init", rc));
  tcp->data = this;
  ++open_handles_;
  int rc = uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) rc = uv_listen(as_stream(tcp.get()), kListenBacklog, on_accept);  // May report EADDRINUSE.
  auto bound = rc == 0 ? bound_port(*tcp) : Result<std::uint16_t>(0);
  if (rc < 0 || !bound) {
    uv_close(as_handle(tcp.release()), on_listener_closed);
    if (!bound) return tl::unexpected(bound.error());
    return tl::unexpected(transport::uv_error("HTTP listen on " + host + ":" + std::to_string(port), rc));
  }
  listener_ = tcp.release();
  port_ = *bound;
  const std::uint64_t shortest =
      options_.idle_timeout_ms == 0 ? kLingerMs : std::min(options_.idle_timeout_ms, kLingerMs);
  sweep_timer_ = loop_.every(std::clamp<std::uint64_t>(shortest / 4, 10, 1000), [this] { sweep(); });
  return ok();
}

void HttpListener::Impl::on_accept(uv_stream_t* server, int status) {
  Impl& self = *static_cast<Impl*>(server->data);
  if (status < 0 || self.closing_) return;  // E.g. EMFILE; the client will retry.
  auto owned = std::make_unique<Connection>(self, self.options_.request_limits);
  Connection& connection = *owned;
  // uv_tcp_init (unlike uv_tcp_init_ex) creates no socket yet and cannot fail.
  [[maybe_unused]] const int rc = uv_tcp_init(&self.uv_.loop, &connection.handle);
  assert(rc == 0);
  connection.handle.data = &connection;
  connection.shutdown.data = &connection;
  ++self.open_handles_;
  self.connections_.emplace(&connection, std::move(owned));
  if (uv_accept(server, as_stream(&connection.handle)) < 0) {
    self.close_connection(connection);
    return;
  }
  if (self.counters_.open_connections.load(std::memory_order_relaxed) >= self.options_.max_connections) {
    bump(self.counters_.connections_refused);
    self.close_connection(connection);
    return;
  }
  connection.counted = true;
  bump(self.counters_.open_connections);
  bump(self.counters_.connections_accepted);
  connection.last_activity_ms = self.loop_.now_ms();
  uv_tcp_nodelay(&connection.handle, 1);
  self.update_reading(connection);
}

// ---- Reading and answering ----

void HttpListener::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& read_buffer = static_cast<Connection*>(handle->data)->owner.read_buffer_;
  *buffer = uv_buf_init(read_buffer.data(), static_cast<unsigned>(read_buffer.size()));
}

void HttpListener::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  Impl& self = connection.owner;
  if (nread == 0 || connection.closing) return;  // 0: nothing to read now (EAGAIN).
  if (nread == UV_EOF) {
    self.on_peer_closed(connection);
    return;
  }
  if (nread < 0) {  // A socket error: nothing more can be sent either.
    self.close_connection(connection);
    return;
  }
  bump(self.counters_.bytes_received, static_cast<std::uint64_t>(nread));
  connection.last_activity_ms = self.loop_.now_ms();
  if (connection.finishing) return;  // Discarded: the final answer is out.
  connection.pending.append(buffer->base, static_cast<std::size_t>(nread));
  self.process(connection);
}

// Feeds pending bytes to the reader and answers each complete request, in order, until the bytes run
// out, the connection is finishing, or too many answers wait for the client.
void HttpListener::Impl::process(Connection& connection) {
  std::size_t offset = 0;
  while (!connection.closing && !connection.finishing && offset < connection.pending.size() &&
         connection.queued_bytes <= options_.max_queued_response_bytes) {
    const bool was_in_request = connection.reader.in_request();
    const std::size_t consumed = connection.reader.feed(std::string_view(connection.pending).substr(offset));
    offset += consumed;
    if (!was_in_request && connection.reader.in_request()) connection.request_started_ms = loop_.now_ms();
    if (auto request = connection.reader.take_request()) {
      answer(connection, *request);
    } else if (connection.reader.failed()) {
      refuse(connection);
    } else if (consumed == 0) {
      break;  // Cannot happen (the reader consumes what it does not stop at); never spin.
    }
  }
  if (connection.closing) return;
  connection.pending.erase(0, connection.finishing ? connection.pending.size() : offset);
  const bool held_back = connection.queued_bytes > options_.max_queued_response_bytes;
  // After the client's EOF no request can complete beyond what is pending: once that is answered, the
  // connection is finished.
  if (connection.peer_closed && !connection.finishing && !held_back) finish(connection);
  update_reading(connection);
}

// A client may shut down its side right after sending its requests (half-close): their answers are
// still written before the connection closes.
void HttpListener::Impl::on_peer_closed(Connection& connection) {
  connection.peer_closed = true;
  connection.reading = false;  // libuv stops reading at EOF.
  if (!connection.finishing) {
    process(connection);
  } else if (connection.shutdown_done) {
    close_connection(connection);
  }  // Otherwise on_shutdown closes it.
}

void HttpListener::Impl::answer(Connection& connection, const HttpRequest& request) {
  bump(counters_.requests);
  const bool head = request.method == "HEAD";
  HttpResponse response;
  if (!head && request.method != "GET") {
    response = text_response(405);
    response.headers.emplace_back("Allow", "GET, HEAD");
  } else {
    response = call_handler(request);
  }
  const bool keep_alive = request.keep_alive && !closing_;
  write(connection, serialize_response(response, keep_alive, /*include_body=*/!head));
  if (!keep_alive) finish(connection);
}

HttpResponse HttpListener::Impl::call_handler(const HttpRequest& request) {
  try {
    if (handler_) return handler_(request);
  } catch (...) {  // No exception may unwind through libuv's C frames.
  }
  bump(counters_.handler_failures);
  return text_response(500);
}

void HttpListener::Impl::refuse(Connection& connection) {
  bump(counters_.bad_requests);
  write(connection,
        serialize_response(text_response(connection.reader.error_status()), /*keep_alive=*/false));
  finish(connection);
}

// The final answer is queued: shut our side down once it is written, then drain until the client's EOF.
void HttpListener::Impl::finish(Connection& connection) {
  connection.finishing = true;
  connection.finished_ms = loop_.now_ms();
  maybe_shutdown(connection);
}

void HttpListener::Impl::maybe_shutdown(Connection& connection) {
  if (!connection.finishing || connection.shutdown_sent || connection.closing || connection.queued_bytes != 0)
    return;
  connection.shutdown_sent = true;
  if (uv_shutdown(&connection.shutdown, as_stream(&connection.handle), on_shutdown) < 0)
    close_connection(connection);
}

void HttpListener::Impl::on_shutdown(uv_shutdown_t* request, int status) {
  Connection& connection = *static_cast<Connection*>(request->data);
  if (connection.closing) return;
  connection.shutdown_done = true;
  // Done unless the client may still send (it is drained until its EOF or kLingerMs).
  if (status < 0 || connection.peer_closed) connection.owner.close_connection(connection);
}

// Reads while the connection drains after its final answer, or while its unsent answers are within
// the limit (the client reads what it asked for).
void HttpListener::Impl::update_reading(Connection& connection) {
  if (connection.closing || connection.peer_closed) return;
  const bool wanted = connection.finishing || connection.queued_bytes <= options_.max_queued_response_bytes;
  if (wanted == connection.reading) return;
  connection.reading = wanted;
  const int rc = wanted ? uv_read_start(as_stream(&connection.handle), on_alloc, on_read)
                        : uv_read_stop(as_stream(&connection.handle));
  if (rc < 0) close_connection(connection);
}

void HttpListener::Impl::write(Connection& connection, std::string bytes) {
  auto request = std::make_unique<WriteRequest>();
  request->connection = &connection;
  request->bytes = std::move(bytes);
  request->request.data = request.get();
  const uv_buf_t buffer = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  if (uv_write(&request->request, as_stream(&connection.handle), &buffer, 1, on_write) < 0) {
    close_connection(connection);
    return;
  }
  connection.queued_bytes += request->bytes.size();
  (void)request.release();  // Owned by libuv until on_write.
}

// libuv completes (or cancels) every write before the connection's close callback: it is alive here.
void HttpListener::Impl::on_write(uv_write_t* raw, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(raw->data));
  Connection& connection = *request->connection;
  Impl& self = connection.owner;
  connection.queued_bytes -= request->bytes.size();
  if (connection.closing) return;
  if (status < 0) {
    self.close_connection(connection);
    return;
  }
  bump(self.counters_.bytes_sent, request->bytes.size());
  connection.last_activity_ms = self.loop_.now_ms();
  if (connection.finishing) {
    self.maybe_shutdown(connection);
  } else {
    self.process(connection);  // Answers pipelined requests held back while the client was behind.
  }
}

// Closes connections that lingered too long after their final answer, sat idle, or took too long
// to send one request.
void HttpListener::Impl::sweep() {
  const std::uint64_t now = loop_.now_ms();
  const std::uint64_t idle = options_.idle_timeout_ms;
  std::vector<Connection*> expired;
  for (auto& [raw, owned] : connections_) {
    const Connection& c = *raw;
    if (c.closing) continue;
    const bool lingered = c.finishing && now - c.finished_ms >= kLingerMs;
    const bool idled =
        !c.finishing && idle != 0 &&
        (now - c.last_activity_ms >= idle || (c.reader.in_request() && now - c.request_started_ms >= idle));
    if (lingered || idled) expired.push_back(raw);
  }
  for (Connection* connection : expired) {
    bump(counters_.connections_timed_out);
    close_connection(*connection);
  }
}

// ---- Closing ----

void HttpListener::Impl::close_connection(Connection& connection) {
  if (connection.closing) return;
  connection.closing = true;
  // Stops reading and cancels pending writes and the shutdown (their callbacks run first).
  uv_close(as_handle(&connection.handle), on_connection_closed);
}

void HttpListener::Impl::on_connection_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  Impl& self = connection->owner;
  if (connection->counted) self.counters_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  self.connections_.erase(connection);
  self.handle_closed();
}

void HttpListener::Impl::on_listener_closed(uv_handle_t* handle) {
  Impl& self = *static_cast<Impl*>(handle->data);
  std::unique_ptr<uv_tcp_t> owned(reinterpret_cast<uv_tcp_t*>(handle));
  owned.reset();
  self.handle_closed();
}

void HttpListener::Impl::handle_closed() {
  assert(open_handles_ > 0);
  --open_handles_;
  maybe_finish_close();
}

void HttpListener::Impl::close(std::function<void()> on_closed) {
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (!closing_) {
    closing_ = true;
    handler_ = nullptr;
    loop_.cancel(std::exchange(sweep_timer_, 0));
    if (listener_ != nullptr) uv_close(as_handle(std::exchange(listener_, nullptr)), on_listener_closed);
    std::vector<Connection*> open;
    for (auto& [raw, owned] : connections_) open.push_back(raw);
    for (Connection* connection : open) close_connection(*connection);
  }
  maybe_finish_close();
}

void HttpListener::Impl::maybe_finish_close() {
  if (!closing_ || open_handles_ != 0) return;
  auto callbacks = std::exchange(on_closed_, {});
  if (abandoned_) {
    // The listener is gone and libuv has released the last handle: nothing refers to this any more.
    const std::unique_ptr<Impl> last_reference(this);
    return;
  }
  // A callback may destroy the listener, and with it this Impl: nothing below touches `this`.
  for (auto& callback : callbacks) callback();
}

bool HttpListener::Impl::abandon() {
  on_closed_.clear();
  close(nullptr);
  if (open_handles_ == 0) return false;
  abandoned_ = true;
  return true;
}

HttpListenerStats HttpListener::Impl::stats() const {
  const auto get = [](const std::atomic<std::uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  const Counters& c = counters_;
  return HttpListenerStats{get(c.connections_accepted),  get(c.connections_refused),
                           get(c.connections_timed_out), get(c.requests),
                           get(c.bad_requests),          get(c.handler_failures),
                           get(c.bytes_received),        get(c.bytes_sent),
                           get(c.open_connections)};
}

// ---- HttpListener ----

Result<std::unique_ptr<HttpListener>> HttpListener::start(transport::EventLoop& loop, std::string host,
                                                          std::uint16_t port, Handler handler,
                                                          HttpListenerOptions options) {
  if (!handler) return fail(ErrorCode::kInvalidArgument, "HTTP listener: no handler");
  if (options.max_connections == 0)
    return fail(ErrorCode::kInvalidArgument, "HTTP listener: max_connections is 0");
  auto impl = std::make_unique<Impl>(loop, std::move(handler), options);
  if (auto listening = impl->listen(host, port); !listening) {
    if (impl->abandon()) (void)impl.release();  // Deletes itself once libuv has closed its handle.
    return tl::unexpected(listening.error());
  }
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpListener::~HttpListener() {
  if (impl_->abandon()) (void)impl_.release();  // Deletes itself once libuv has closed its handles.
}

std::uint16_t HttpListener::port() const { return impl_->port_; }

void HttpListener::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }

bool HttpListener::closed() const { return impl_->closing_; }

HttpListenerStats HttpListener::stats() const { return impl_->stats(); }

HttpListener::Handler route(std::vector<std::pair<std::string, HttpListener::Handler>> routes) {
  return [routes = std::move(routes)](const HttpRequest& request) {
    for (const auto& [path, handler] : routes) {
      if (path == request.path && handler) return handler(request);
    }
    return text_response(404);
  };
}

}  // namespace cairn::http
