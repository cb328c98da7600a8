#include "src/server/client_listener.h"

#include <memory>
#include <utility>

#include "src/net/ip_address.h"
#include "src/net/session_server.h"
#include "src/net/task_pool.h"

namespace cairn::server {

// What the sessions share: shared with the session server's hooks, so it lives as long as either the
// listener or the session server (which may finish closing after the listener is gone).
struct ClientListenerState {
  ClientListenerState(Services services_in, ClientListenerOptions options_in)
      : services(std::move(services_in)), options(options_in) {}
  Services services;
  ClientListenerOptions options;  // What new sessions get; changed by set_limits() on the loop thread.
  SessionCounters counters;
};

class ClientListener::Impl {
 public:
  using Server = net::SessionServer<ClientSession>;

  Impl(net::EventLoop& loop, Services services, ClientListenerOptions options, std::unique_ptr<net::TaskPool> pool)
      : loop_(loop), state_(std::make_shared<ClientListenerState>(std::move(services), options)) {
    Server::Hooks hooks;
    // Sessions are made on the loop thread, which is also where set_limits() changes the options.
    hooks.make_session = [state = state_](std::function<void()> wake) {
      return std::make_shared<ClientSession>(state->services, state->options, state->counters, std::move(wake));
    };
    hooks.accepted = [state = state_] { state->counters.connection_accepted(); };
    hooks.closed = [state = state_] { state->counters.connection_closed(); };
    hooks.refused = [state = state_] { state->counters.connection_refused(); };
    hooks.bytes_in = [state = state_](std::size_t bytes) { state->counters.bytes_in(bytes); };
    hooks.bytes_out = [state = state_](std::size_t bytes) { state->counters.bytes_out(bytes); };
    server_ = std::make_shared<Server>(
        loop, Server::Options{.max_connections = options.max_connections,
                              .max_buffered_output_bytes = options.max_buffered_output_bytes},
        std::move(hooks), std::move(pool));
  }

  net::EventLoop& loop_;
  std::shared_ptr<ClientListenerState> state_;
  std::uint16_t port_ = 0;
  std::shared_ptr<Server> server_;
};

Result<std::unique_ptr<ClientListener>> ClientListener::start(net::EventLoop& loop, std::string host,
                                                              std::uint16_t port, Services services,
                                                              ClientListenerOptions options) {
  auto pool = net::TaskPool::start(options.worker_threads);
  if (!pool) return fail(pool.error().code(), net::host_port(host, port) + ": " + pool.error().message());
  auto impl = std::make_shared<Impl>(loop, std::move(services), options, std::move(*pool));
  auto bound = impl->server_->listen_anywhere(host, port);
  if (!bound) return tl::unexpected(bound.error());
  impl->port_ = *bound;
  return std::unique_ptr<ClientListener>(new ClientListener(std::move(impl)));
}

ClientListener::ClientListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClientListener::~ClientListener() { close(); }

std::uint16_t ClientListener::port() const { return impl_->port_; }

ClientListenerStats ClientListener::stats() const { return impl_->state_->counters.snapshot(); }

Status ClientListener::set_limits(const ClientConnectionLimits& limits) {
  if (limits.max_connections == 0 || limits.max_frame_payload_bytes == 0 || limits.max_in_flight_requests == 0) {
    return fail(ErrorCode::kInvalidArgument, "client limits must be at least 1");
  }
  std::shared_ptr<Impl> impl = impl_;
  return impl->loop_.run_affine([&]() -> Status {
    if (impl->server_->closing()) return fail(ErrorCode::kUnavailable, "the client listener is closed");
    ClientListenerOptions& options = impl->state_->options;
    options.max_connections = limits.max_connections;
    options.max_frame_payload_bytes = limits.max_frame_payload_bytes;
    options.max_in_flight_requests = limits.max_in_flight_requests;
    impl->server_->set_max_connections(limits.max_connections);
    return ok();
  });
}

void ClientListener::close() {
  impl_->server_->close_anywhere();
}

}  // namespace cairn::server
