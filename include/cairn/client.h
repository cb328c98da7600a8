// cairn::Client: a connection to a running peer's client port (cairnd, or a Node with serve_clients),
// speaking the client protocol (docs/client-protocol.md). The `cairn` CLI is built on it.
//
// Every method is synchronous: it sends one request and waits for its reply. A Client is not
// thread-safe: use it from one thread at a time, or one Client per thread. It does no I/O outside its
// calls (no background thread).
//
// Timeouts. Sending a request and waiting for the first frame of its reply may each take
// ClientOptions::timeout_ms plus 1 ms per KiB of the request (a 16 MiB put gets 16 s more than a
// get), so a large write has time to travel and commit. While reply bytes keep arriving the wait goes
// on (at most timeout_ms between two reads), so a large or streamed reply is never cut off as a whole.
//
// Errors. The peer's errors come back with the peer's code and message (kNotFound, kWrongType, ...).
// Failures of the connection itself are of two kinds, and a caller must tell them apart:
// - kUnavailable: the request was NOT sent, so the peer cannot have run it (it cannot be reached, the
//   connection had already failed, or the request could not be written in full before timing out or
//   the connection ending; a frame the peer did not receive whole is never run). Retrying is safe.
// - kOutcomeUnknown: the request was sent whole, then no reply came (timed out, or the connection
//   ended first). A write may or may not have taken effect: read the key before deciding to retry. For
//   a read nothing changed either way; retry it. The message names the operation and the cause.
// Also: kProtocol when the peer sent something that is not a valid reply, kUnsupported when the peer
// speaks another protocol version, kUnauthenticated when the peer requires a token and none or a wrong
// one was presented. After a connection failure (anything but an error reply from the peer) the
// Client is closed and every later call fails with kUnavailable ("not sent: ...").
//
// Signals. The Client writes on the calling (application's) thread. A peer that closed the connection
// makes that write fail with kUnavailable ("connection ... lost: broken pipe"), never a SIGPIPE that
// ends the application: SIGPIPE is blocked in the calling thread only around the write, the one that
// write raised is consumed, and the thread's previous mask is restored. The process's SIGPIPE
// disposition, and a SIGPIPE the application had pending itself, are left alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/metrics.h"
#include "cairn/node.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn {

struct ClientOptions {
  // An IPv4 or IPv6 literal, or "localhost" (127.0.0.1). No DNS lookups.
  std::string host = "127.0.0.1";
  std::uint16_t port = 7401;
  // How long connect() may take, and the base of every send and reply wait (see the top of the file).
  std::uint32_t timeout_ms = 5000;
  // The peer's client token (DATA_DIR/client.token of the peer; docs/security.md), presented right
  // after connecting. Empty: none is presented, and a peer that requires one refuses every request.
  std::string token;
};

// One change seen by watch(): one register, counter or set member (store.h, Change; docs/watch.md).
struct WatchEvent {
  std::string key;
  ValueKind kind = ValueKind::kRegister;  // The kind of value the change was to.
  bool local = true;     // Written on the watched peer; false when it arrived from another peer.
  bool deleted = false;  // The key held no value of any kind right after the change.
  std::optional<ChangeOp> op = {};  // What it did; nullopt only from a peer older than the change feed.
  std::string member = {};     // kSadd, kSrem: the member.
  std::string value = {};      // kPut: the register's value now; kCounter: its value, decimal.
  // The change's position in the peer's change feed: pass it to watch_from() to resume after it.
  std::string position = {};
};

class Client {
 public:
  // Connects to options.host:options.port and presents options.token (if any). kUnavailable "cannot
  // connect to HOST:PORT: <reason>" when the peer refuses or does not answer within timeout_ms;
  // kInvalidArgument for a host that is not an IP literal or "localhost"; kUnauthenticated when the
  // peer refuses the token (the peer then closes the connection).
  static Result<std::unique_ptr<Client>> connect(const ClientOptions& options);

  // Closes the connection.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // "host:port" of the peer.
  const std::string& address() const;

  // Registers (see Store::put, get, del). Every call below may also fail as the top of the file says
  // (kUnavailable: not sent; kOutcomeUnknown: sent, no reply).
  Status put(std::string_view key, std::string_view value);
  Result<RegisterValue> get(std::string_view key);
  Status del(std::string_view key);

  // Sets. smembers calls `each` with every member in byte order as the peer streams them in batches;
  // when `each` returns false the rest of the stream is cancelled and smembers returns ok.
  Status sadd(std::string_view key, const std::vector<std::string>& members);
  Status srem(std::string_view key, const std::vector<std::string>& members);
  Result<bool> sismember(std::string_view key, std::string_view member);
  Status smembers(std::string_view key, const std::function<bool(const std::string&)>& each);

  // Counters. kOutOfRange when the increment would take the value out of the int64 range (nothing
  // written), or when counter() reads a merged total outside it (Store::incr, Store::counter).
  Status incr(std::string_view key, std::uint64_t amount = 1);
  Status decr(std::string_view key, std::uint64_t amount = 1);
  Result<std::int64_t> counter(std::string_view key);

  // A compacted, consistent snapshot of the peer's whole store (its LMDB file, docs/operations.md),
  // streamed: `each` gets its bytes in order, chunk by chunk (at most 64 KiB each). The snapshot holds
  // every write the peer had acknowledged when the request arrived; the peer keeps serving meanwhile.
  // When `each` returns false the stream is cancelled and backup returns ok (the bytes are then
  // incomplete). kUnsupported from a peer that serves no backups. cairn/backup (the `cairn backup`
  // command) writes these bytes with a manifest and checksum.
  Status backup(const std::function<bool(const std::string&)>& each);

  // Any key.
  Result<ValueKind> kind(std::string_view key);
  // Keys starting with `prefix`, in byte order, streamed like smembers.
  Status scan(std::string_view prefix, const std::function<bool(const std::string&)>& each);
  Result<KeyInspection> inspect(std::string_view key);

  // The peer: its membership and ring view, and its metrics.
  Result<NodeStatus> status();
  Result<std::vector<MetricSample>> stats();

  // Asks the peer to propose retiring the dead or stopped peer `replica` (Node::retire,
  // docs/metadata-gc.md). Ok once proposed: the retirement is decided when every peer that may hold its
  // writes agrees on its last write. The peer's kInvalidArgument for itself or a reachable member (the message says
  // which), kNotFound for a replica it never knew, kUnsupported when it cannot retire peers.
  Status retire(std::uint64_t replica);

  // Calls `each` with every change to a key starting with `prefix` (local writes and replicated ones)
  // from now on. Blocks, without a timeout, until `each` returns false (ok: the watch is cancelled
  // and the connection stays usable) or the connection ends (kUnavailable: a watch has no outcome to
  // be unknown).
  Status watch(std::string_view prefix, const std::function<bool(const WatchEvent&)>& each);

  // watch(), resuming: first every change after `position` (an event's position from an earlier
  // watch of this peer; empty: from the oldest change the peer's feed keeps), then live changes,
  // each exactly once, in order. kPositionExpired when the peer's feed no longer holds the changes
  // after `position` (its retention trimmed them, or the position is from another store or a
  // restored copy): read a snapshot and watch from a fresh position (docs/watch.md).
  // kInvalidArgument for a malformed position.
  Status watch_from(std::string_view prefix, std::string_view position,
                    const std::function<bool(const WatchEvent&)>& each);

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn
