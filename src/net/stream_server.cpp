#include "src/net/stream_server.h"

#include <array>
#include <cassert>
#include <climits>
#include <map>
#include <utility>
#include <vector>

#include "src/net/ip_address.h"
#include "src/net/loop_internal.h"

namespace cairn::net {
namespace {

constexpr std::size_t kReadBufferBytes = 64 * 1024;

template <typename Handle>
uv_handle_t* as_handle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}
uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

}  // namespace

class StreamServer::Impl final : public LoopMember {
 public:
  Impl(EventLoop& loop, StreamHandler& handler, StreamServerOptions options)
      : uv_(LoopAccess::of(loop)), handler_(&handler), options_(options) {
    uv_.members.insert(this);
  }
  ~Impl() {
    uv_.members.erase(this);
    uv_.forget_flush(this);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port, const std::string& label);
  Result<ConnectionId> connect(const std::string& host, std::uint16_t port);
  void stop_listening() {
    if (listener_ != nullptr) uv_close(as_handle(std::exchange(listener_, nullptr)), on_listener_closed);
  }
  bool write(ConnectionId id, std::string bytes);
  std::size_t queued_bytes(ConnectionId id) const;
  void set_reading(ConnectionId id, bool reading);
  void shutdown(ConnectionId id);
  void close_after_writes(ConnectionId id);
  void close(ConnectionId id);
  bool is_open(ConnectionId id) const { return open_connection(id) != nullptr; }
  std::string remote(ConnectionId id) const;
  void close_all(std::function<void()> on_closed);
  // Called by ~StreamServer: closes, forgets the handler and every on_closed, and returns true when
  // handles are still closing (the Impl then deletes itself once the last one has closed).
  bool abandon();

  void close_for_shutdown() override { close_all(nullptr); }
  void flush_output() override;

  bool closing_ = false;
  StreamServerStats stats_;

 private:
  struct Connection {
    Impl* owner = nullptr;
    ConnectionId id = 0;
    bool inbound = false;
    bool counted = false;   // An accepted inbound connection (not a refused one).
    bool opened = false;    // on_open() ran: on_closing() is owed.
    bool connected = false;
    bool reading = false;
    bool ended = false;     // The peer's EOF came.
    bool closing = false;
    bool flush_requested = false;
    bool close_when_written = false;
    bool shutdown_wanted = false;
    bool shutdown_sent = false;
    std::vector<std::string> pending;  // write() calls of this pass, in order.
    std::size_t pending_bytes = 0;
    std::size_t in_flight_bytes = 0;  // Handed to libuv, not yet completed.
    std::string remote;
    uv_tcp_t handle{};
    uv_connect_t connect_request{};
    uv_shutdown_t shutdown_request{};
  };
  // One coalesced write: the buffers stay alive until libuv is done with them.
  struct WriteBatch {
    uv_write_t request{};
    Connection* connection = nullptr;
    std::vector<std::string> buffers;
    std::size_t bytes = 0;
  };

  Connection* open_connection(ConnectionId id) const;
  Connection& add_connection(bool inbound);
  void opened(Connection& connection);
  void start_reading(Connection& connection);
  void request_flush(Connection& connection);
  void flush_connection(Connection& connection);
  void begin_close(Connection& connection, CloseReason reason);
  void maybe_close_written(Connection& connection);
  void handle_closed();
  void maybe_finish_close();

  static void on_accept(uv_stream_t* server, int status);
  static void on_connect(uv_connect_t* request, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  static void on_write(uv_write_t* request, int status);
  static void on_shutdown(uv_shutdown_t* request, int status);
  static void on_connection_closed(uv_handle_t* handle);
  static void on_listener_closed(uv_handle_t* handle);

  EventLoop::Impl& uv_;
  StreamHandler* handler_;  // Null once abandoned.
  StreamServerOptions options_;
  uv_tcp_t* listener_ = nullptr;  // Owned; released in its close callback.
  std::map<ConnectionId, std::unique_ptr<Connection>> connections_;  // Open or closing.
  ConnectionId next_id_ = 1;
  std::vector<ConnectionId> to_flush_;  // Connections with output gathered in this pass.
  std::size_t open_handles_ = 0;        // Initialised and not yet closed.
  std::vector<std::function<void()>> on_closed_;
  bool abandoned_ = false;
  bool finished_ = false;  // on_server_closed() ran.
  std::array<char, kReadBufferBytes> read_buffer_{};  // Each read is consumed before the next.

 public:
  void set_max_inbound_connections(std::size_t max) { options_.max_inbound_connections = max; }
};

// ---- Listening and connecting ----

Result<std::uint16_t> StreamServer::Impl::listen(const std::string& host, std::uint16_t port,
                                                 const std::string& label) {
  if (closing_ || uv_.shutting_down) return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  if (listener_ != nullptr) {
    return fail(ErrorCode::kInvalidArgument, "listen: already listening on " + host_port(host, port));
  }
  const std::string where = host_port(host, port);
  auto address = resolve_ip(host, port);
  if (!address) return fail(address.error().code(), where + ": " + address.error().message());
  auto tcp = std::make_unique<uv_tcp_t>();
  if (int rc = uv_tcp_init(&uv_.loop, tcp.get()); rc < 0) return tl::unexpected(uv_error(where + label, rc));
  tcp->data = this;
  ++open_handles_;
  int rc = uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&*address), 0);
  // libuv may report a bind error (EADDRINUSE) only from uv_listen.
  if (rc == 0) rc = uv_listen(as_stream(tcp.get()), options_.listen_backlog, on_accept);
  sockaddr_storage bound{};
  if (rc == 0) {
    int length = static_cast<int>(sizeof bound);
    rc = uv_tcp_getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  }
  if (rc < 0) {
    uv_close(as_handle(tcp.release()), on_listener_closed);
    return tl::unexpected(uv_error(where + label, rc));
  }
  listener_ = tcp.release();
  return port_of(bound);
}

void StreamServer::Impl::on_accept(uv_stream_t* server, int status) {
  Impl& self = *static_cast<Impl*>(server->data);
  if (status < 0 || self.closing_) return;  // E.g. EMFILE; the client will retry.
  Connection& connection = self.add_connection(/*inbound=*/true);
  if (uv_accept(server, as_stream(&connection.handle)) < 0) return self.begin_close(connection, CloseReason::kError);
  if (self.stats_.inbound_connections >= self.options_.max_inbound_connections) {
    // Counted first: uv_close closes the socket at once, and the client may look at the count then.
    if (self.handler_ != nullptr) self.handler_->on_refused();
    return self.begin_close(connection, CloseReason::kLocal);
  }
  connection.counted = true;
  ++self.stats_.inbound_connections;
  connection.connected = true;
  sockaddr_storage peer{};
  int length = static_cast<int>(sizeof peer);
  connection.remote = uv_tcp_getpeername(&connection.handle, reinterpret_cast<sockaddr*>(&peer), &length) == 0
                          ? address_text(reinterpret_cast<const sockaddr*>(&peer))
                          : "unknown";
  self.opened(connection);
}

Result<ConnectionId> StreamServer::Impl::connect(const std::string& host, std::uint16_t port) {
  if (closing_ || uv_.shutting_down) return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  auto address = resolve_ip(host, port);
  if (!address) return fail(address.error().code(), host_port(host, port) + ": " + address.error().message());
  Connection& connection = add_connection(/*inbound=*/false);
  connection.remote = host_port(host, port);
  const ConnectionId id = connection.id;
  if (uv_tcp_connect(&connection.connect_request, &connection.handle, reinterpret_cast<const sockaddr*>(&*address),
                     on_connect) < 0) {
    begin_close(connection, CloseReason::kConnectFailed);
  }
  return id;
}

void StreamServer::Impl::on_connect(uv_connect_t* request, int status) {
  Connection& connection = *static_cast<Connection*>(request->data);
  Impl& self = *connection.owner;
  if (connection.closing) return;  // Cancelled by a close.
  if (status < 0) return self.begin_close(connection, CloseReason::kConnectFailed);
  connection.connected = true;
  self.opened(connection);
  if (!connection.closing && !connection.pending.empty()) self.request_flush(connection);
}

StreamServer::Impl::Connection& StreamServer::Impl::add_connection(bool inbound) {
  auto owned = std::make_unique<Connection>();
  Connection& connection = *owned;
  connection.owner = this;
  connection.id = next_id_++;
  connection.inbound = inbound;
  // uv_tcp_init (unlike uv_tcp_init_ex) creates no socket yet and cannot fail.
  [[maybe_unused]] const int rc = uv_tcp_init(&uv_.loop, &connection.handle);
  assert(rc == 0);
  connection.handle.data = &connection;
  connection.connect_request.data = &connection;
  connection.shutdown_request.data = &connection;
  ++open_handles_;
  connections_.emplace(connection.id, std::move(owned));
  return connection;
}

// Starts reading, then tells the handler (which may stop the reading or close at once).
void StreamServer::Impl::opened(Connection& connection) {
  if (options_.no_delay) uv_tcp_nodelay(&connection.handle, 1);
  connection.opened = true;
  start_reading(connection);
  if (!connection.closing && handler_ != nullptr) handler_->on_open(connection.id, connection.inbound);
}

// ---- Reading ----

void StreamServer::Impl::start_reading(Connection& connection) {
  if (connection.reading || connection.ended || connection.closing || connection.close_when_written) return;
  if (uv_read_start(as_stream(&connection.handle), on_alloc, on_read) < 0) {
    return begin_close(connection, CloseReason::kError);
  }
  connection.reading = true;
}

void StreamServer::Impl::set_reading(ConnectionId id, bool reading) {
  Connection* connection = open_connection(id);
  if (connection == nullptr || !connection->connected) return;
  if (reading) return start_reading(*connection);
  if (!connection->reading) return;
  uv_read_stop(as_stream(&connection->handle));
  connection->reading = false;
}

void StreamServer::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& read_buffer = static_cast<Connection*>(handle->data)->owner->read_buffer_;
  *buffer = uv_buf_init(read_buffer.data(), static_cast<unsigned>(read_buffer.size()));
}

void StreamServer::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  Impl& self = *connection.owner;
  if (nread == 0 || connection.closing) return;  // 0: nothing to read now (EAGAIN).
  if (nread == UV_EOF) {
    uv_read_stop(stream);  // libuv has stopped already; this keeps our flag and libuv's in step.
    connection.reading = false;
    connection.ended = true;
    if (self.handler_ != nullptr) self.handler_->on_end(connection.id);
    return;
  }
  if (nread < 0) return self.begin_close(connection, CloseReason::kError);
  if (self.handler_ != nullptr) {
    self.handler_->on_data(connection.id, std::string_view(buffer->base, static_cast<std::size_t>(nread)));
  }
}

// ---- Writing ----

bool StreamServer::Impl::write(ConnectionId id, std::string bytes) {
  Connection* connection = open_connection(id);
  if (connection == nullptr || bytes.size() > UINT_MAX) return false;
  connection->pending_bytes += bytes.size();
  connection->pending.push_back(std::move(bytes));
  if (connection->connected) request_flush(*connection);
  return true;
}

std::size_t StreamServer::Impl::queued_bytes(ConnectionId id) const {
  auto found = connections_.find(id);
  if (found == connections_.end()) return 0;
  return found->second->pending_bytes + found->second->in_flight_bytes;
}

void StreamServer::Impl::request_flush(Connection& connection) {
  if (connection.flush_requested) return;
  connection.flush_requested = true;
  to_flush_.push_back(connection.id);
  uv_.request_flush(this);
}

// The end of the loop pass: each connection's gathered output leaves in one write.
void StreamServer::Impl::flush_output() {
  for (ConnectionId id : std::exchange(to_flush_, {})) {
    Connection* connection = open_connection(id);
    if (connection == nullptr) continue;
    connection->flush_requested = false;
    if (connection->connected) flush_connection(*connection);
  }
}

void StreamServer::Impl::flush_connection(Connection& connection) {
  if (!connection.pending.empty()) {
    auto batch = std::make_unique<WriteBatch>();
    batch->connection = &connection;
    batch->buffers = std::exchange(connection.pending, {});
    batch->bytes = std::exchange(connection.pending_bytes, 0);
    batch->request.data = batch.get();
    std::vector<uv_buf_t> buffers;
    buffers.reserve(batch->buffers.size());
    for (std::string& bytes : batch->buffers) {
      buffers.push_back(uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size())));
    }
    // libuv copies the buffer array; the bytes stay in `batch` until on_write.
    if (uv_write(&batch->request, as_stream(&connection.handle), buffers.data(),
                 static_cast<unsigned>(buffers.size()), on_write) < 0) {
      if (handler_ != nullptr) handler_->on_written(connection.id, batch->buffers.size(), batch->bytes, false);
      return begin_close(connection, CloseReason::kError);
    }
    connection.in_flight_bytes += batch->bytes;
    (void)batch.release();  // Owned by libuv until on_write.
  }
  if (connection.shutdown_wanted && !connection.shutdown_sent) {
    // libuv runs the shutdown after every write queued before it.
    connection.shutdown_sent = true;
    if (uv_shutdown(&connection.shutdown_request, as_stream(&connection.handle), on_shutdown) < 0) {
      if (handler_ != nullptr) handler_->on_shutdown(connection.id, false);
    }
  }
}

// libuv completes (or cancels, with UV_ECANCELED) every write before the connection's close callback,
// so the connection is still alive here.
void StreamServer::Impl::on_write(uv_write_t* request, int status) {
  std::unique_ptr<WriteBatch> batch(static_cast<WriteBatch*>(request->data));
  Connection& connection = *batch->connection;
  Impl& self = *connection.owner;
  connection.in_flight_bytes -= batch->bytes;
  if (self.handler_ != nullptr) {
    self.handler_->on_written(connection.id, batch->buffers.size(), batch->bytes, status == 0);
  }
  if (connection.closing) return;
  if (status < 0) return self.begin_close(connection, CloseReason::kError);
  self.maybe_close_written(connection);
}

void StreamServer::Impl::on_shutdown(uv_shutdown_t* request, int status) {
  Connection& connection = *static_cast<Connection*>(request->data);
  Impl& self = *connection.owner;
  if (connection.closing || self.handler_ == nullptr) return;
  self.handler_->on_shutdown(connection.id, status == 0);
}

void StreamServer::Impl::shutdown(ConnectionId id) {
  Connection* connection = open_connection(id);
  if (connection == nullptr || connection->shutdown_wanted) return;
  connection->shutdown_wanted = true;
  if (connection->connected) request_flush(*connection);
}

// ---- Closing ----

void StreamServer::Impl::close_after_writes(ConnectionId id) {
  Connection* connection = open_connection(id);
  if (connection == nullptr) return;
  connection->close_when_written = true;
  if (connection->reading) {
    uv_read_stop(as_stream(&connection->handle));
    connection->reading = false;
  }
  maybe_close_written(*connection);
}

void StreamServer::Impl::maybe_close_written(Connection& connection) {
  if (connection.close_when_written && connection.pending.empty() && connection.in_flight_bytes == 0) {
    begin_close(connection, CloseReason::kLocal);
  }
}

void StreamServer::Impl::close(ConnectionId id) {
  if (Connection* connection = open_connection(id)) begin_close(*connection, CloseReason::kLocal);
}

void StreamServer::Impl::begin_close(Connection& connection, CloseReason reason) {
  if (connection.closing) return;
  connection.closing = true;
  const std::size_t unsent = connection.pending.size();
  connection.pending.clear();
  connection.pending_bytes = 0;
  // The handler first: uv_close closes the socket at once, and the peer may look at counts then.
  const bool owed = connection.opened || !connection.inbound;
  if (owed && handler_ != nullptr) handler_->on_closing(connection.id, reason, unsent);
  // Cancels the pending connect, writes and shutdown (their callbacks run first, with UV_ECANCELED).
  uv_close(as_handle(&connection.handle), on_connection_closed);
}

void StreamServer::Impl::on_connection_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  Impl& self = *connection->owner;
  if (connection->counted) --self.stats_.inbound_connections;
  self.connections_.erase(connection->id);
  self.handle_closed();
}

void StreamServer::Impl::on_listener_closed(uv_handle_t* handle) {
  Impl& self = *static_cast<Impl*>(handle->data);
  std::unique_ptr<uv_tcp_t> owned(reinterpret_cast<uv_tcp_t*>(handle));
  owned.reset();
  self.handle_closed();
}

void StreamServer::Impl::handle_closed() {
  assert(open_handles_ > 0);
  --open_handles_;
  ++stats_.handles_closed;
  maybe_finish_close();
}

void StreamServer::Impl::close_all(std::function<void()> on_closed) {
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (!closing_) {
    closing_ = true;
    if (handler_ != nullptr) handler_->on_server_closing();
    stop_listening();
    std::vector<Connection*> open;
    for (auto& [id, owned] : connections_) open.push_back(owned.get());
    for (Connection* connection : open) begin_close(*connection, CloseReason::kLocal);
  }
  maybe_finish_close();
}

void StreamServer::Impl::maybe_finish_close() {
  if (!closing_ || open_handles_ != 0) return;
  if (abandoned_) {
    // The server is gone and libuv has released the last handle: nothing refers to this any more.
    const std::unique_ptr<Impl> last_reference(this);
    return;
  }
  // The handler or a callback may destroy the server, and with it this Impl: nothing below touches
  // `this` after the callbacks are taken.
  auto callbacks = std::exchange(on_closed_, {});
  StreamHandler* handler = std::exchange(finished_, true) ? nullptr : handler_;
  if (handler != nullptr) handler->on_server_closed();
  for (auto& callback : callbacks) callback();
}

bool StreamServer::Impl::abandon() {
  handler_ = nullptr;
  on_closed_.clear();
  close_all(nullptr);
  if (open_handles_ == 0) return false;
  abandoned_ = true;
  return true;
}

StreamServer::Impl::Connection* StreamServer::Impl::open_connection(ConnectionId id) const {
  auto found = connections_.find(id);
  if (found == connections_.end() || found->second->closing) return nullptr;
  return found->second.get();
}

std::string StreamServer::Impl::remote(ConnectionId id) const {
  auto found = connections_.find(id);
  return found == connections_.end() ? "unknown" : found->second->remote;
}

// ---- StreamServer ----

StreamServer::StreamServer(EventLoop& loop, StreamHandler& handler, StreamServerOptions options)
    : impl_(new Impl(loop, handler, options)) {}

StreamServer::~StreamServer() {
  if (!impl_->abandon()) delete impl_;  // Otherwise it deletes itself once libuv has closed its handles.
}

Result<std::uint16_t> StreamServer::listen(const std::string& host, std::uint16_t port, const std::string& label) {
  return impl_->listen(host, port, label);
}
void StreamServer::stop_listening() { impl_->stop_listening(); }
Result<ConnectionId> StreamServer::connect(const std::string& host, std::uint16_t port) {
  return impl_->connect(host, port);
}
bool StreamServer::write(ConnectionId id, std::string bytes) { return impl_->write(id, std::move(bytes)); }
std::size_t StreamServer::queued_bytes(ConnectionId id) const { return impl_->queued_bytes(id); }
void StreamServer::set_reading(ConnectionId id, bool reading) { impl_->set_reading(id, reading); }
void StreamServer::shutdown(ConnectionId id) { impl_->shutdown(id); }
void StreamServer::close_after_writes(ConnectionId id) { impl_->close_after_writes(id); }
void StreamServer::close(ConnectionId id) { impl_->close(id); }
bool StreamServer::is_open(ConnectionId id) const { return impl_->is_open(id); }
std::string StreamServer::remote(ConnectionId id) const { return impl_->remote(id); }
void StreamServer::close_all(std::function<void()> on_closed) { impl_->close_all(std::move(on_closed)); }
bool StreamServer::closing() const { return impl_->closing_; }
void StreamServer::set_max_inbound_connections(std::size_t max) { impl_->set_max_inbound_connections(max); }
StreamServerStats StreamServer::stats() const { return impl_->stats_; }

}  // namespace cairn::net
