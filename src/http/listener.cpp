#include "src/http/listener.h"

#include <algorithm>
#include <utility>

#include "src/http/listener_impl.h"

namespace cairn::http {

// ---- Listening ----

Status HttpListener::Impl::listen(const std::string& host, std::uint16_t port) {
  if (closing_) return fail(ErrorCode::kUnavailable, "HTTP listener: the event loop is shutting down");
  auto bound = server_.listen(host, port);
  if (!bound) return tl::unexpected(bound.error());
  port_ = *bound;
  const std::uint64_t shortest =
      options_.idle_timeout_ms == 0 ? kLingerMs : std::min(options_.idle_timeout_ms, kLingerMs);
  sweep_timer_ = loop_.every(std::clamp<std::uint64_t>(shortest / 4, 10, 1000), [this] { sweep(); });
  return ok();
}

void HttpListener::Impl::on_open(net::ConnectionId id, bool) {
  auto owned = std::make_unique<Connection>(options_.request_limits);
  Connection& connection = *owned;
  connection.id = id;
  connection.last_activity_ms = loop_.now_ms();
  connections_.emplace(id, std::move(owned));
  bump(counters_.open_connections);
  bump(counters_.connections_accepted);
  update_reading(connection);
}

// ---- Closing ----

// The handler is kept (it may be the caller) but never called again.
void HttpListener::Impl::on_server_closing() {
  closing_ = true;
  loop_.cancel(std::exchange(sweep_timer_, 0));
}

void HttpListener::Impl::close(std::function<void()> on_closed) { server_.close_all(std::move(on_closed)); }

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

Result<std::unique_ptr<HttpListener>> HttpListener::start(net::EventLoop& loop, std::string host,
                                                          std::uint16_t port, Handler handler,
                                                          HttpListenerOptions options) {
  if (!handler) return fail(ErrorCode::kInvalidArgument, "HTTP listener: no handler");
  if (options.max_connections == 0)
    return fail(ErrorCode::kInvalidArgument, "HTTP listener: max_connections is 0");
  auto impl = std::make_unique<Impl>(loop, std::move(handler), options);
  // On failure the Impl goes, and its stream server finishes closing in the background.
  if (auto listening = impl->listen(host, port); !listening) return tl::unexpected(listening.error());
  return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// The stream server closes in the background, never calling the handler again.
HttpListener::~HttpListener() = default;

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
