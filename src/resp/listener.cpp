#include "src/resp/listener.h"

#include <random>
#include <utility>

#include "src/net/ip_address.h"
#include "src/net/session_server.h"
#include "src/net/task_pool.h"
#include "src/resp/session.h"
#include "src/resp/store_batch_writer.h"

namespace cairn::resp {

// What every session of the listener borrows. Shared with the session server's hooks and with each
// session, so it outlives the last session (which may finish on a worker after the listener is gone).
struct RespListenerState {
  RespListenerState(Store& store, RespListenerOptions options_in, std::uint64_t seed)
      : batch(store),
        services{store, batch, std::move(options_in.status), std::move(options_in.metrics)},
        options(std::move(options_in.session)),
        shared(seed) {}
  StoreBatchWriter batch;
  Services services;
  RespOptions options;
  RespShared shared;
  std::atomic<std::uint64_t> accepted{0}, refused{0}, open{0}, bytes_in{0}, bytes_out{0};
};

class RespListener::Impl {
 public:
  using Server = net::SessionServer<RespSession>;

  Impl(net::EventLoop& loop, Store& store, RespListenerOptions options, std::unique_ptr<net::TaskPool> pool)
      : loop_(loop) {
    const std::uint64_t seed = options.seed != 0 ? options.seed : (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
    const Server::Options server_options{.max_connections = options.max_connections,
                                         .max_buffered_output_bytes = options.max_buffered_output_bytes};
    state_ = std::make_shared<RespListenerState>(store, std::move(options), seed);
    Server::Hooks hooks;
    hooks.make_session = [state = state_](std::function<void()> wake) {
      // The deleter keeps the state alive as long as the session.
      return std::shared_ptr<RespSession>(new RespSession(state->services, state->options, state->shared,
                                                          std::move(wake)),
                                          [state](RespSession* session) { delete session; });
    };
    const auto add = [](std::atomic<std::uint64_t>& counter, std::uint64_t by) {
      counter.fetch_add(by, std::memory_order_relaxed);
    };
    hooks.accepted = [state = state_, add] { add(state->accepted, 1), add(state->open, 1); };
    hooks.closed = [state = state_] { state->open.fetch_sub(1, std::memory_order_relaxed); };
    hooks.refused = [state = state_, add] { add(state->refused, 1); };
    hooks.bytes_in = [state = state_, add](std::size_t bytes) { add(state->bytes_in, bytes); };
    hooks.bytes_out = [state = state_, add](std::size_t bytes) { add(state->bytes_out, bytes); };
    server_ = std::make_shared<Server>(loop, server_options, std::move(hooks), std::move(pool));
  }

  net::EventLoop& loop_;
  std::shared_ptr<RespListenerState> state_;
  std::uint16_t port_ = 0;
  std::shared_ptr<Server> server_;
};

Result<std::unique_ptr<RespListener>> RespListener::start(net::EventLoop& loop, std::string host, std::uint16_t port,
                                                          Store& store, RespListenerOptions options) {
  auto pool = net::TaskPool::start(options.worker_threads);
  if (!pool) return fail(pool.error().code(), net::host_port(host, port) + ": " + pool.error().message());
  auto impl = std::make_shared<Impl>(loop, store, std::move(options), std::move(*pool));
  auto bound = impl->server_->listen_anywhere(host, port);
  if (!bound) return tl::unexpected(bound.error());
  impl->port_ = *bound;
  return std::unique_ptr<RespListener>(new RespListener(std::move(impl)));
}

RespListener::RespListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RespListener::~RespListener() { close(); }

std::uint16_t RespListener::port() const { return impl_->port_; }

RespListenerStats RespListener::stats() const {
  const RespListenerState& state = *impl_->state_;
  const auto get = [](const std::atomic<std::uint64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  return RespListenerStats{get(state.accepted), get(state.refused),  get(state.open),
                           get(state.bytes_in), get(state.bytes_out), state.shared.counters.snapshot().latency_by_command};
}

void RespListener::close() {
  impl_->server_->close_anywhere();
}

}  // namespace cairn::resp
