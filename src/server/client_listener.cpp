#include "src/server/client_listener.h"

#include <array>
#include <cassert>
#include <climits>
#include <functional>
#include <future>
#include <map>
#include <utility>
#include <vector>

#include "gossip/transport/loop_internal.h"
#include "gossip/transport/ip_address.h"
#include "src/server/worker_pool.h"

namespace cairn::server {
namespace {

constexpr int kListenBacklog = 128;
constexpr std::size_t kReadBufferBytes = 64 * 1024;

template <typename Handle>
uv_handle_t* as_handle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}
uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

// True when loop-affine work must be posted to the loop: it was started and this is not its thread
// (once started, only the loop thread touches the loop, until it has stopped for good).
bool runs_elsewhere(transport::EventLoop& loop) {
  transport::EventLoop::Impl& impl = loop.impl();
  std::lock_guard lock(impl.mutex);
  return impl.started && !loop.on_loop_thread();
}

// Runs loop-affine `work` where it may run: here when this is the loop thread or no thread runs the
// loop, else posted to the loop and waited for. kUnavailable when the loop is shutting down.
Status run_on_loop(transport::EventLoop& loop, const std::function<Status()>& work) {
  if (!runs_elsewhere(loop)) return work();
  std::promise<Status> done;
  if (!loop.post([&] { done.set_value(work()); })) {
    return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  }
  return done.get_future().get();
}

}  // namespace

class ClientListener::Impl final : public transport::LoopMember, public std::enable_shared_from_this<Impl> {
 public:
  Impl(transport::EventLoop& loop, Services services, ClientListenerOptions options, std::unique_ptr<WorkerPool> pool)
      : loop_(loop), services_(std::move(services)), options_(options), pool_(std::move(pool)) {}

  Status listen(const std::string& host, std::uint16_t port);  // Loop-affine.
  Status apply_limits(const ClientConnectionLimits& limits);   // Loop-affine.
  void close_on_loop();                                         // Loop-affine.
  void close_for_shutdown() override { close_on_loop(); }
  // Resolves once every handle is closed.
  std::shared_future<void> closed() const { return closed_future_; }

  std::uint16_t port_ = 0;
  SessionCounters counters_;
  WorkerPool& pool() { return *pool_; }
  transport::EventLoop& loop() { return loop_; }

 private:
  struct Connection {
    Impl* owner = nullptr;
    std::uint64_t id = 0;
    uv_tcp_t handle{};
    std::shared_ptr<ClientSession> session;
    bool accepted = false;   // Counted as open.
    bool reading = false;
    bool input_ended = false;  // The client half-closed: never read again.
    bool scheduled = false;  // A step task is queued or running.
    bool closing = false;
    std::size_t unflushed_bytes = 0;  // Handed to uv_write, not yet completed.
  };

  Connection& add_connection();
  void pump(Connection& connection);
  void flush(Connection& connection);
  void schedule(Connection& connection);
  void on_step_done(std::uint64_t id);
  void on_wake(std::uint64_t id);
  void update_reading(Connection& connection);
  void close_connection(Connection& connection);
  void handle_closed();

  static void on_accept(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  static void on_write(void* context, std::size_t bytes, int status);
  static void on_connection_closed(uv_handle_t* handle);

  transport::EventLoop& loop_;
  Services services_;
  ClientListenerOptions options_;
  std::unique_ptr<WorkerPool> pool_;
  uv_tcp_t* listener_ = nullptr;  // Owned; released in its close callback.
  std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::uint64_t next_connection_id_ = 1;
  std::size_t open_handles_ = 0;
  bool registered_ = false;
  bool closing_ = false;
  // Keeps this alive while libuv holds handles pointing into it.
  std::shared_ptr<Impl> self_while_open_;
  std::promise<void> closed_promise_;
  std::shared_future<void> closed_future_ = closed_promise_.get_future().share();
  std::array<char, kReadBufferBytes> read_buffer_{};
};

// ---- Listening ----

Status ClientListener::Impl::listen(const std::string& host, std::uint16_t port) {
  transport::EventLoop::Impl& loop = loop_.impl();
  if (loop.shutting_down) return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  const std::string where = transport::host_port(host, port);
  auto address = transport::resolve_ip(host, port);
  if (!address) return fail(address.error().code(), where + ": " + address.error().message());
  loop.members.insert(this);
  registered_ = true;
  self_while_open_ = shared_from_this();
  auto tcp = std::make_unique<uv_tcp_t>();
  [[maybe_unused]] const int init = uv_tcp_init(&loop.loop, tcp.get());  // Creates no socket yet: cannot fail.
  assert(init == 0);
  tcp->data = this;
  ++open_handles_;
  listener_ = tcp.release();
  int rc = uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) rc = uv_listen(as_stream(listener_), kListenBacklog, on_accept);
  sockaddr_storage bound{};
  if (rc == 0) {
    int length = static_cast<int>(sizeof bound);
    rc = uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &length);
  }
  if (rc < 0) {
    close_on_loop();
    return tl::unexpected(transport::uv_error(where, rc));
  }
  port_ = transport::port_of(bound);
  return ok();
}

Status ClientListener::Impl::apply_limits(const ClientConnectionLimits& limits) {
  if (closing_) return fail(ErrorCode::kUnavailable, "the client listener is closed");
  options_.max_connections = limits.max_connections;
  options_.max_frame_payload_bytes = limits.max_frame_payload_bytes;
  options_.max_in_flight_requests = limits.max_in_flight_requests;
  return ok();
}

void ClientListener::Impl::on_accept(uv_stream_t* server, int status) {
  Impl& self = *static_cast<Impl*>(server->data);
  if (status < 0 || self.closing_) return;  // E.g. EMFILE; the client will retry.
  Connection& connection = self.add_connection();
  if (uv_accept(server, as_stream(&connection.handle)) < 0) return self.close_connection(connection);
  if (self.connections_.size() > self.options_.max_connections) {
    self.counters_.connection_refused();
    return self.close_connection(connection);
  }
  connection.accepted = true;
  self.counters_.connection_accepted();
  uv_tcp_nodelay(&connection.handle, 1);
  self.update_reading(connection);
}

ClientListener::Impl::Connection& ClientListener::Impl::add_connection() {
  auto owned = std::make_unique<Connection>();
  Connection& connection = *owned;
  connection.owner = this;
  connection.id = next_connection_id_++;
  [[maybe_unused]] const int rc = uv_tcp_init(&loop_.impl().loop, &connection.handle);
  assert(rc == 0);
  connection.handle.data = &connection;
  ++open_handles_;
  // A watch's change wakes the loop, which schedules the step that sends it.
  auto wake = [weak = weak_from_this(), id = connection.id, &loop = loop_] {
    loop.post([weak, id] {
      if (auto self = weak.lock()) self->on_wake(id);
    });
  };
  connection.session = std::make_shared<ClientSession>(services_, options_, counters_, std::move(wake));
  connections_.emplace(connection.id, std::move(owned));
  return connection;
}

// ---- Reading ----

void ClientListener::Impl::update_reading(Connection& connection) {
  if (connection.closing || connection.input_ended) return;
  const bool wanted = connection.session->wants_input();
  if (wanted && !connection.reading) {
    if (uv_read_start(as_stream(&connection.handle), on_alloc, on_read) < 0) return close_connection(connection);
    connection.reading = true;
  } else if (!wanted && connection.reading) {
    uv_read_stop(as_stream(&connection.handle));
    connection.reading = false;
  }
}

void ClientListener::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& read_buffer = static_cast<Connection*>(handle->data)->owner->read_buffer_;
  *buffer = uv_buf_init(read_buffer.data(), static_cast<unsigned>(read_buffer.size()));
}

void ClientListener::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  Impl& self = *connection.owner;
  if (nread == 0 || connection.closing) return;
  if (nread == UV_EOF) {
    // The client half-closed: answer what it sent, then close.
    uv_read_stop(stream);
    connection.reading = false;
    connection.input_ended = true;
    connection.session->end_of_input();
    return self.pump(connection);
  }
  if (nread < 0) return self.close_connection(connection);  // A socket error: the client is gone.
  self.counters_.bytes_in(static_cast<std::size_t>(nread));
  connection.session->receive(std::string_view(buffer->base, static_cast<std::size_t>(nread)));
  self.pump(connection);
}

// ---- Work and writing ----

// Writes what the session produced, closes a session that asked for it once all is written, and
// schedules the next step when there is work and room for its output.
void ClientListener::Impl::pump(Connection& connection) {
  if (connection.closing) return;
  flush(connection);
  if (connection.closing) return;
  if (connection.session->closing() && !connection.scheduled && !connection.session->has_work()) {
    if (connection.unflushed_bytes == 0) close_connection(connection);
    return;
  }
  update_reading(connection);
  schedule(connection);
}

void ClientListener::Impl::flush(Connection& connection) {
  std::string bytes = connection.session->take_output();
  if (bytes.empty()) return;
  const std::size_t size = bytes.size();
  if (transport::write_owned(as_stream(&connection.handle), std::move(bytes), &connection, on_write) < 0) {
    return close_connection(connection);
  }
  connection.unflushed_bytes += size;
}

// libuv completes (or cancels) every write before the connection's close callback.
void ClientListener::Impl::on_write(void* context, std::size_t bytes, int status) {
  Connection& connection = *static_cast<Connection*>(context);
  Impl& self = *connection.owner;
  connection.unflushed_bytes -= bytes;
  if (status < 0) return self.close_connection(connection);
  self.counters_.bytes_out(bytes);
  self.pump(connection);
}

void ClientListener::Impl::schedule(Connection& connection) {
  if (connection.scheduled || closing_ || !connection.session->has_work()) return;
  if (connection.unflushed_bytes + connection.session->output_bytes() >= options_.max_buffered_output_bytes) return;
  connection.scheduled = true;
  auto task = [session = connection.session, weak = weak_from_this(), id = connection.id, &loop = loop_] {
    session->step();
    loop.post([weak, id] {
      if (auto self = weak.lock()) self->on_step_done(id);
    });
  };
  if (!pool_->submit(std::move(task))) connection.scheduled = false;
}

// On the loop after a step: resumes decoding held-back input and pumps.
void ClientListener::Impl::on_step_done(std::uint64_t id) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  Connection& connection = *found->second;
  connection.scheduled = false;
  if (connection.closing) {
    connection.session->shutdown();  // Deferred by close_connection while the step ran.
    return;
  }
  connection.session->receive({});
  pump(connection);
}

// On the loop when a watch has news: schedules a step unless one is queued or running already.
void ClientListener::Impl::on_wake(std::uint64_t id) {
  auto found = connections_.find(id);
  if (found != connections_.end()) pump(*found->second);
}

// ---- Closing ----

void ClientListener::Impl::close_connection(Connection& connection) {
  if (connection.closing) return;
  connection.closing = true;
  if (connection.accepted) counters_.connection_closed();
  // A step still running keeps its own reference to the session, which ends its watches when that
  // reference goes; otherwise end them now.
  if (!connection.scheduled) connection.session->shutdown();
  uv_close(as_handle(&connection.handle), on_connection_closed);
}

void ClientListener::Impl::on_connection_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  Impl& self = *connection->owner;
  self.connections_.erase(connection->id);
  self.handle_closed();
}

void ClientListener::Impl::close_on_loop() {
  if (closing_) return;
  closing_ = true;
  if (listener_ != nullptr) {
    uv_close(as_handle(std::exchange(listener_, nullptr)), [](uv_handle_t* handle) {
      Impl& self = *static_cast<Impl*>(handle->data);
      std::unique_ptr<uv_tcp_t> owned(reinterpret_cast<uv_tcp_t*>(handle));
      owned.reset();
      self.handle_closed();
    });
  }
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections_) open.push_back(connection.get());
  for (Connection* connection : open) close_connection(*connection);
  // No store call runs after this: the running steps finish, queued ones are dropped, and every
  // session (also those a step was using) ends its watches.
  pool_->stop();
  for (Connection* connection : open) connection->session->shutdown();
}

void ClientListener::Impl::handle_closed() {
  assert(open_handles_ > 0);
  if (--open_handles_ > 0 || !closing_) return;
  if (registered_) {
    loop_.impl().members.erase(this);
    registered_ = false;
  }
  closed_promise_.set_value();
  // May destroy this: nothing below touches it.
  auto last = std::move(self_while_open_);
}

// ---- ClientListener ----

Result<std::unique_ptr<ClientListener>> ClientListener::start(transport::EventLoop& loop, std::string host,
                                                              std::uint16_t port, Services services,
                                                              ClientListenerOptions options) {
  auto pool = WorkerPool::start(options.worker_threads);
  if (!pool) return fail(pool.error().code(), transport::host_port(host, port) + ": " + pool.error().message());
  auto impl = std::make_shared<Impl>(loop, std::move(services), options, std::move(*pool));
  const Status listening = run_on_loop(loop, [&] { return impl->listen(host, port); });
  if (!listening) {
    impl->pool().stop();
    return tl::unexpected(listening.error());
  }
  return std::unique_ptr<ClientListener>(new ClientListener(std::move(impl)));
}

ClientListener::ClientListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientListener::~ClientListener() { close(); }

std::uint16_t ClientListener::port() const { return impl_->port_; }

ClientListenerStats ClientListener::stats() const { return impl_->counters_.snapshot(); }

Status ClientListener::set_limits(const ClientConnectionLimits& limits) {
  if (limits.max_connections == 0 || limits.max_frame_payload_bytes == 0 || limits.max_in_flight_requests == 0) {
    return fail(ErrorCode::kInvalidArgument, "client limits must be at least 1");
  }
  std::shared_ptr<Impl> impl = impl_;
  return run_on_loop(impl->loop(), [&] { return impl->apply_limits(limits); });
}

void ClientListener::close() {
  transport::EventLoop& loop = impl_->loop();
  if (!runs_elsewhere(loop)) return impl_->close_on_loop();
  std::shared_ptr<Impl> impl = impl_;
  if (loop.post([impl] { impl->close_on_loop(); })) {
    impl->closed().wait();
  } else {
    // The loop is stopping (or stopped): its shutdown closes the listener. The pool is thread-safe.
    impl->pool().stop();
  }
}

}  // namespace cairn::server
