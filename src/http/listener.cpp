#include "src/http/listener.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "gossip/transport/ip_address.h"
#include "src/http/listener_impl.h"

namespace cairn::http {
namespace {

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

}  // namespace

// ---- Listening ----

Status HttpListener::Impl::listen(const std::string& host, std::uint16_t port) {
  if (uv_.shutting_down)
    return fail(ErrorCode::kUnavailable, "HTTP listener: the event loop is shutting down");
  const std::string where = transport::host_port(host, port);
  auto address = transport::resolve_ip(host, port);
  if (!address) return fail(address.error().code(), where + ": " + address.error().message());
  auto tcp = std::make_unique<uv_tcp_t>();
  if (int rc = uv_tcp_init(&uv_.loop, tcp.get()); rc < 0) return tl::unexpected(transport::uv_error(where, rc));
  tcp->data = this;
  ++open_handles_;
  int rc = uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&*address), 0);
  if (rc == 0) rc = uv_listen(as_stream(tcp.get()), kListenBacklog, on_accept);  // May report EADDRINUSE.
  auto bound = rc == 0 ? bound_port(*tcp) : Result<std::uint16_t>(0);
  if (rc < 0 || !bound) {
    uv_close(as_handle(tcp.release()), on_listener_closed);
    if (!bound) return fail(bound.error().code(), where + ": " + bound.error().message());
    return tl::unexpected(transport::uv_error(where, rc));
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

// ---- Closing ----

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
    closing_ = true;  // The handler is kept (it may be the caller) but never called again.
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
