// SessionServer<Session>: a StreamServer whose every connection is driven by a sans-I/O session (the
// client protocol's ClientSession, RESP's RespSession), with the session's blocking work on a TaskPool.
// The client listener and the RESP listener are this plus their session and counters.
//
// A Session provides: receive(bytes), end_of_input(), wants_input(), has_work(), closing(),
// take_output(), output_bytes(), step() (may block: runs on the pool, never on the loop), shutdown()
// (idempotent; not concurrently with step()). See src/server/client_session.h for the contract.
//
// Driving. Bytes read go to receive(); what take_output() returns is written (coalesced per loop pass
// by the stream server). While a session has work and its unsent output is under
// Options::max_buffered_output_bytes, one step() at a time runs for it on the pool; its end is posted
// back to the loop, which writes the output and schedules the next. A session that offers
// next_step_is_quick() has its quick steps (O(1) reads) run on the loop instead, with no thread hop. Reading follows wants_input()
// (backpressure). A session that is closing() is closed once its last reply is written. A client that
// half-closes gets the replies to what it sent, then the connection closes.
//
// Lifetime (on top of the stream server's scheme). Connections are known by id; a step's completion
// looks its connection up by id and finds nothing once it closed. The session of a connection closed
// while its step runs is shut down when the step ends. The SessionServer keeps itself alive (a
// shared_ptr to itself) while its sockets are open, so a listener may drop its reference on the loop
// thread while libuv still closes handles.
//
// Threads: listen(), close_on_loop(), set_max_connections() are loop-affine; listen_anywhere(),
// close_anywhere(), closed() and pool() any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "cairn/status.h"
#include "src/net/event_loop.h"
#include "src/net/stream_server.h"
#include "src/net/task_pool.h"

namespace cairn::net {

template <typename Session>
class SessionServer final : public StreamHandler, public std::enable_shared_from_this<SessionServer<Session>> {
 public:
  // Called on the loop thread. make_session gets the `wake` closure a session calls (from any thread)
  // when it has new work of its own (a watch's change).
  struct Hooks {
    std::function<std::shared_ptr<Session>(std::function<void()> wake)> make_session;
    std::function<void()> accepted, closed, refused;
    std::function<void(std::size_t)> bytes_in, bytes_out;
  };
  struct Options {
    std::size_t max_connections = 1024;
    std::size_t max_buffered_output_bytes = std::size_t{4} << 20;
  };

  SessionServer(EventLoop& loop, Options options, Hooks hooks, std::unique_ptr<TaskPool> pool)
      : loop_(loop), options_(options), hooks_(std::move(hooks)), pool_(std::move(pool)) {}

  // Loop-affine. Listens (see StreamServer::listen) and returns the bound port; after a failure the
  // server is closed.
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port) {
    if (closing_) return fail(ErrorCode::kUnavailable, "the listener is closed");
    server_ = std::make_unique<StreamServer>(loop_, *this,
                                             StreamServerOptions{.max_inbound_connections = options_.max_connections});
    self_while_open_ = this->shared_from_this();
    auto bound = server_->listen(host, port);
    if (!bound) close_on_loop();
    return bound;
  }

  // Any thread but one the loop waits on: listen() on the loop (see EventLoop::run_affine). After a
  // failure the pool is stopped too.
  Result<std::uint16_t> listen_anywhere(const std::string& host, std::uint16_t port) {
    std::uint16_t bound_port = 0;
    const Status listening = loop_.run_affine([&]() -> Status {
      auto bound = listen(host, port);
      if (!bound) return tl::unexpected(bound.error());
      bound_port = *bound;
      return ok();
    });
    if (!listening) {
      pool_->stop();
      return tl::unexpected(listening.error());
    }
    return bound_port;
  }

  // Loop-affine. Stops accepting, closes every connection, stops the pool (running steps finish,
  // queued ones are dropped) and shuts every session down. Idempotent.
  void close_on_loop() {
    if (server_ != nullptr) return server_->close_all(nullptr);  // on_server_closing() does the rest.
    if (!std::exchange(closing_, true)) {
      pool_->stop();
      closed_promise_.set_value();
    }
  }

  // Any thread but one the loop waits on: closes as close_on_loop(), on the loop. Called off the loop
  // thread while the loop runs, returns once libuv has released every handle; on the loop thread, the
  // handles finish closing after the current callback. When the loop is stopping or stopped (its
  // shutdown has closed the sockets), only stops the pool, which is thread-safe.
  void close_anywhere() {
    const auto keep = this->shared_from_this();
    const bool caller_on_loop = loop_.on_loop_thread();
    bool ran_on_loop = false;  // Posted to the running loop (or called on it).
    const Status closing = loop_.run_affine([&] {
      ran_on_loop = loop_.on_loop_thread();
      close_on_loop();
      return ok();
    });
    if (!closing) return pool_->stop();
    if (ran_on_loop && !caller_on_loop) closed_future_.wait();
  }

  // Loop-affine. Applies to connections accepted from now on.
  void set_max_connections(std::size_t max) {
    options_.max_connections = max;
    if (server_ != nullptr) server_->set_max_inbound_connections(max);
  }

  bool closing() const { return closing_; }
  // Resolves once every handle is released.
  std::shared_future<void> closed() const { return closed_future_; }
  TaskPool& pool() { return *pool_; }

  // StreamHandler: the loop thread.
  void on_open(ConnectionId id, bool) override {
    if (hooks_.accepted) hooks_.accepted();
    auto wake = [weak = this->weak_from_this(), id, &loop = loop_] {
      loop.post([weak, id] {
        if (auto self = weak.lock()) self->pump(id);
      });
    };
    connections_[id].session = hooks_.make_session(std::move(wake));
    pump(id);
  }
  void on_data(ConnectionId id, std::string_view bytes) override {
    Connection* connection = find(id);
    if (connection == nullptr) return;
    if (hooks_.bytes_in) hooks_.bytes_in(bytes.size());
    connection->session->receive(bytes);
    pump(id);
  }
  void on_end(ConnectionId id) override {
    Connection* connection = find(id);
    if (connection == nullptr) return;
    connection->input_ended = true;
    connection->session->end_of_input();
    pump(id);
  }
  void on_written(ConnectionId id, std::size_t, std::size_t bytes, bool ok) override {
    if (!ok) return;
    if (hooks_.bytes_out) hooks_.bytes_out(bytes);
    pump(id);
  }
  void on_closing(ConnectionId id, CloseReason, std::size_t) override {
    auto found = connections_.find(id);
    if (found == connections_.end()) return;
    if (hooks_.closed) hooks_.closed();
    found->second.closed = true;
    // A step still running keeps its own reference to the session: on_step_done shuts it down.
    if (found->second.scheduled) return;
    found->second.session->shutdown();
    connections_.erase(found);
  }
  void on_refused() override {
    if (hooks_.refused) hooks_.refused();
  }
  void on_server_closing() override {
    closing_ = true;
    // No store call runs after this: the running steps finish, queued ones are dropped, and every
    // session (also those a step was using) ends its watches.
    pool_->stop();
    for (auto& [id, connection] : connections_) connection.session->shutdown();
  }
  void on_server_closed() override {
    closed_promise_.set_value();
    // May destroy this (and the stream server calling): nothing below touches it.
    auto last = std::move(self_while_open_);
  }

 private:
  struct Connection {
    std::shared_ptr<Session> session;
    bool input_ended = false;  // The client half-closed: never read again.
    bool scheduled = false;    // A step task is queued or running.
    bool closed = false;       // The stream server closed it (the entry waits for the step).
  };

  Connection* find(ConnectionId id) {
    auto found = connections_.find(id);
    return found == connections_.end() || found->second.closed ? nullptr : &found->second;
  }

  // Writes what the session produced, closes a session that asked for it once all is written, and
  // schedules the next step when there is work and room for its output.
  void pump(ConnectionId id) {
    Connection* connection = find(id);
    if (connection == nullptr) return;
    Session& session = *connection->session;
    run_quick_steps(id, *connection);
    if (std::string bytes = session.take_output(); !bytes.empty()) server_->write(id, std::move(bytes));
    if (session.closing() && !connection->scheduled && !session.has_work()) {
      return server_->close_after_writes(id);  // May close at once: nothing below.
    }
    if (!connection->input_ended) server_->set_reading(id, session.wants_input());  // May close.
    if ((connection = find(id)) != nullptr) schedule(id, *connection);
  }

  // A session that can tell a quick step (an O(1) read, never an fsync: Session::next_step_is_quick())
  // runs it here on the loop thread, with no thread hop, a bounded number per pump so the loop stays
  // fair to other connections; everything else goes to the pool.
  void run_quick_steps(ConnectionId id, Connection& connection) {
    if constexpr (requires(const Session& s) { s.next_step_is_quick(); }) {
      Session& session = *connection.session;
      for (int steps = 0; steps < kMaxQuickStepsPerPump && !connection.scheduled && !closing_ &&
                          server_->queued_bytes(id) + session.output_bytes() < options_.max_buffered_output_bytes &&
                          session.next_step_is_quick();
           ++steps) {
        session.step();
        session.receive({});
      }
    } else {
      (void)id, (void)connection;
    }
  }

  void schedule(ConnectionId id, Connection& connection) {
    if (connection.scheduled || closing_ || !connection.session->has_work()) return;
    if (server_->queued_bytes(id) + connection.session->output_bytes() >= options_.max_buffered_output_bytes) return;
    connection.scheduled = true;
    auto task = [session = connection.session, weak = this->weak_from_this(), id, &loop = loop_] {
      session->step();
      loop.post([weak, id] {
        if (auto self = weak.lock()) self->on_step_done(id);
      });
    };
    if (!pool_->submit(std::move(task))) connection.scheduled = false;
  }

  // On the loop after a step: resumes decoding held-back input and pumps.
  void on_step_done(ConnectionId id) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return;
    Connection& connection = found->second;
    connection.scheduled = false;
    if (connection.closed) {
      connection.session->shutdown();  // Deferred by on_closing while the step ran.
      connections_.erase(found);
      return;
    }
    connection.session->receive({});
    pump(id);
  }

  static constexpr int kMaxQuickStepsPerPump = 64;

  EventLoop& loop_;
  Options options_;
  Hooks hooks_;
  std::unique_ptr<TaskPool> pool_;
  std::map<ConnectionId, Connection> connections_;
  bool closing_ = false;
  std::shared_ptr<SessionServer> self_while_open_;  // While the stream server holds handles.
  std::promise<void> closed_promise_;
  std::shared_future<void> closed_future_ = closed_promise_.get_future().share();
  // Last, so it goes first.
  std::unique_ptr<StreamServer> server_;
};

}  // namespace cairn::net
