// StreamServer: the one TCP stream core under every listener of a peer (the gossip transport, the
// client listener, the HTTP listener, the RESP listener): accept, connect, read, coalesced write,
// half-close and close, on an EventLoop. What the bytes mean is the handler's business.
//
// Lifetime: one scheme for every connection.
//   - The server owns every connection. The handler knows a connection only by its ConnectionId (never
//     reused by a server), never by a pointer, so nothing it keeps can dangle.
//   - A connection is open from on_open() until the server calls on_closing() for it: when the handler
//     calls close(), when the peer's socket fails, when close_after_writes() has written everything,
//     or when the server closes. From on_closing() on, the id is dead: write() returns false (the
//     reply for a connection already closed is dropped, and the caller counts it if it cares), every
//     other call with it is a no-op. Writes already handed to the kernel complete or are cancelled
//     (on_written with ok=false), then libuv releases the handle and the server frees the connection.
//   - The handler (borrowed) is called only on the loop thread, and never after close_all()'s on_closed
//     ran or after the server was destroyed; it may call any method of the server from a callback,
//     close() included, but must not destroy the server there.
//
// Writes coalesce: write() appends to the connection's output; at the end of the loop pass (see
// event_loop.h) everything a connection gathered in the pass leaves in one uv_write with one buffer
// per write() call. So a pipeline of replies finished in one pass costs one system call, and the order
// of write() calls is the order on the wire.
//
// Limits. At most max_inbound_connections accepted connections exist at once (open or still closing);
// one accepted beyond is closed at once and reported by on_refused(). Reading is the handler's to
// throttle (set_reading()); queued_bytes() says how much of a connection's output the kernel has not
// taken yet.
//
// Threads: every method is loop-affine (event_loop.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "src/net/event_loop.h"

namespace cairn::net {

using ConnectionId = std::uint64_t;

// Why a connection closed.
enum class CloseReason {
  kLocal,          // close(), close_after_writes(), or the server closing.
  kError,          // A read or write on the socket failed (the peer reset it, for instance).
  kConnectFailed,  // An outbound connection that never connected.
};

class StreamHandler {
 public:
  // A connection is open: accepted (inbound) or connected (outbound, from connect()). Reading starts
  // right after unless the handler calls set_reading(id, false) here.
  virtual void on_open(ConnectionId id, bool inbound) = 0;
  // Bytes read from the connection (valid during the call only).
  virtual void on_data(ConnectionId id, std::string_view bytes) = 0;
  // The peer shut down its side (EOF). Reading has stopped for good; the connection stays open for
  // writing until the handler closes it.
  virtual void on_end(ConnectionId id) = 0;
  // `messages` write() calls totalling `bytes` left (ok) or never will (failed or cancelled: the
  // connection is closing). Every write() that returned true gets exactly one such report.
  virtual void on_written(ConnectionId id, std::size_t messages, std::size_t bytes, bool ok) {
    (void)id, (void)messages, (void)bytes, (void)ok;
  }
  // The connection is closing (see the top of the file). `unsent_messages` write() calls were still
  // waiting for the end of the pass and are dropped (those already handed to the kernel are reported
  // by on_written).
  virtual void on_closing(ConnectionId id, CloseReason reason, std::size_t unsent_messages) {
    (void)id, (void)reason, (void)unsent_messages;
  }
  // A connection accepted beyond max_inbound_connections was closed at once.
  virtual void on_refused() {}
  // A shutdown() finished: our side is half-closed (ok), or it failed.
  virtual void on_shutdown(ConnectionId id, bool ok) { (void)id, (void)ok; }
  // The server begins to close (close_all(), or the loop's shutdown), before its connections'
  // on_closing(): the place to stop what feeds the connections.
  virtual void on_server_closing() {}
  // Every handle of a closing server is released; called before close_all()'s on_closed callbacks.
  // The handler may destroy the server here (nothing of the server runs after this but those
  // callbacks, which run all the same: a handler that destroys its server here passes none).
  virtual void on_server_closed() {}

 protected:
  ~StreamHandler() = default;
};

struct StreamServerOptions {
  std::size_t max_inbound_connections = 1024;
  int listen_backlog = 128;
  bool no_delay = true;  // TCP_NODELAY on every connection: replies are already coalesced per pass.
};

struct StreamServerStats {
  std::uint64_t handles_closed = 0;  // The listening socket and connections, once libuv released them.
  std::uint64_t inbound_connections = 0;  // Accepted and not yet released (open or closing).
};

class StreamServer {
 public:
  // Binds the server to `loop` and `handler` (both borrowed: they must outlive the server, or the
  // server must be closed first). Opens nothing yet.
  StreamServer(EventLoop& loop, StreamHandler& handler, StreamServerOptions options = {});
  // Closes as close_all(nullptr) would and lets libuv finish in the background without calling the
  // handler again.
  ~StreamServer();

  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Listens on `host`:`port` (an IPv4 or IPv6 literal, or "localhost"; port 0: ephemeral) and returns
  // the bound port. Errors start with "host:port" and then `label` (" (TCP)", or empty), e.g.
  // "127.0.0.1:7401: address already in use (EADDRINUSE)": kUnavailable when the address is in use or
  // not local, or the server or loop is closing; kInvalidArgument for a bad host or when already
  // listening; kIo for other socket errors. Nothing stays bound after a failure.
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port, const std::string& label = "");
  // Closes the listening socket (connections stay); listen() may be called again.
  void stop_listening();

  // Opens an outbound connection to `host`:`port`; on_open() follows once connected, or on_closing()
  // with kConnectFailed. Writes made meanwhile wait and leave once connected. kInvalidArgument for a
  // bad address, kUnavailable once closing; the connect failing at once is reported as kConnectFailed
  // through on_closing() before this returns (the id is returned all the same).
  Result<ConnectionId> connect(const std::string& host, std::uint16_t port);

  // Queues `bytes` to leave at the end of this loop pass. False (nothing queued, nothing reported)
  // when the connection is not open.
  bool write(ConnectionId id, std::string bytes);
  // Output not yet taken by the kernel: waiting for the pass's end plus handed to libuv.
  std::size_t queued_bytes(ConnectionId id) const;
  // Starts or stops reading (ignored after on_end()). Failing to start reading closes with kError.
  void set_reading(ConnectionId id, bool reading);
  // Half-closes our side once everything queued is written; on_shutdown() reports the outcome. Reads go
  // on until the peer's EOF.
  void shutdown(ConnectionId id);
  // Stops reading and closes once everything queued is written (at once when nothing is).
  void close_after_writes(ConnectionId id);
  // Closes at once; output still waiting for the end of the pass is dropped.
  void close(ConnectionId id);
  bool is_open(ConnectionId id) const;
  // "host:port" of the other end ("[v6]:port" for IPv6), or "unknown".
  std::string remote(ConnectionId id) const;

  // Stops listening and closes every connection; `on_closed` (if set) runs on the loop thread once
  // libuv has released every handle, at once when nothing is open. Calling it again only adds another
  // `on_closed`. The loop's shutdown closes the server too.
  void close_all(std::function<void()> on_closed);
  bool closing() const;

  // Applies to connections accepted from now on; the open ones count against it.
  void set_max_inbound_connections(std::size_t max);

  StreamServerStats stats() const;

  class Impl;

 private:
  Impl* impl_;  // Owned; released to libuv's close callbacks when destroyed while handles close.
};

}  // namespace cairn::net
