// The gossip wire's driver: datagrams over UDP and frames over TCP, both on one host:port, on src/net's
// DatagramSocket and StreamServer (this file names no libuv type: the sockets live in src/net).
//
// Datagrams. One datagram is one frame, sent as is and delivered as is (a datagram longer than
// gossip::kMaxDatagramBytes is still delivered: the peer decodes or drops it).
//
// Streams. send() opens one outbound TCP connection per destination endpoint on first use, queues
// frames while it connects and writes them in order. When the connection fails to connect, fails a
// write or reaches EOF, it is closed and the frames still queued on it are dropped and counted (the
// gossip protocol resends); the next send() to that endpoint connects again. Connections other peers
// open to us are only read from: replies travel over our own outbound connection to the sender's
// listening endpoint. Every connection, ours or theirs, is read as a sequence of frames: the 40-byte
// header (gossip::parse_frame_header) gives the payload length; a bad header (wrong magic, version or
// type, or a payload over UvTransportOptions::max_frame_payload_bytes) closes that connection, since a corrupt
// stream cannot be resynchronised.
//
// Threads. Every method is loop-affine (see src/net/event_loop.h): call it on the loop thread, or while no
// thread runs the loop. The receiver is called on the loop thread and may call send() and close(),
// but must not destroy the transport.
//
// Lifetime. The EventLoop must outlive the transport. close() ends everything; the loop's shutdown
// closes a transport too. Destroying a transport that is still open (or still closing) closes it and
// lets libuv finish in the background, without calling the receiver or any pending on_closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cairn/status.h"
#include "gossip/outgoing.h"
#include "gossip/peer.h"
#include "src/net/event_loop.h"

namespace cairn::transport {

using net::EventLoop;

// Bytes one connection may hold unsent (queued while connecting plus written but not yet taken by the
// kernel); a frame that would go beyond is dropped and counted.
inline constexpr std::size_t kMaxQueuedBytesPerConnection = std::size_t{64} << 20;
// How many ephemeral ports listen() tries when asked for port 0 and the UDP port is taken.
inline constexpr int kEphemeralBindAttempts = 8;
// The backlog of the TCP listener.
inline constexpr int kListenBacklog = 128;
// The default of UvTransportOptions::max_inbound_connections: inbound connections open at once; a
// connection accepted beyond is closed at once (each may hold up to one frame of
// max_frame_payload_bytes while it is read).
inline constexpr std::size_t kMaxInboundConnections = 1024;

struct UvTransportOptions {
  std::size_t max_queued_bytes_per_connection = kMaxQueuedBytesPerConnection;
  // Inbound connections open at once; one accepted beyond is closed at once and counted.
  std::size_t max_inbound_connections = kMaxInboundConnections;
  // A stream frame whose header announces a larger payload closes its connection (bad_headers).
  // Capped at gossip::kMaxFramePayloadBytes.
  std::size_t max_frame_payload_bytes = gossip::kMaxFramePayloadBytes;
};

struct UvTransportStats {
  // Datagrams (UDP).
  std::uint64_t datagrams_sent = 0, datagram_bytes_sent = 0;  // Handed to the kernel.
  std::uint64_t datagrams_received = 0, datagram_bytes_received = 0;
  // Not sent: unusable address, not listening, closed, or an error from the OS.
  std::uint64_t datagrams_dropped = 0;
  // Receive errors, including a datagram truncated by the 64 KiB receive buffer (then not delivered).
  std::uint64_t datagram_receive_errors = 0;

  // Frames over streams (TCP).
  std::uint64_t frames_sent = 0, frame_bytes_sent = 0;  // Written to the kernel.
  std::uint64_t frames_received = 0, frame_bytes_received = 0;
  std::uint64_t connects = 0;                        // Outbound connections established.
  std::uint64_t connect_failures = 0;                // Outbound connections that failed to connect.
  std::uint64_t connections_accepted = 0;            // Inbound connections.
  std::uint64_t connections_refused = 0;             // Inbound connections over max_inbound_connections.
  std::uint64_t connections_lost = 0;                // Established connections ended by EOF or an error.
  std::uint64_t frames_dropped_queue_full = 0;       // Over max_queued_bytes_per_connection.
  std::uint64_t frames_dropped_connection_lost = 0;  // Queued or in flight when their connection ended.
  std::uint64_t frames_dropped_unsendable = 0;       // Unusable address, or sent after close().
  std::uint64_t bad_headers = 0;                     // Connections closed because a frame header was refused.

  // Sockets and connections released (by close() or otherwise).
  std::uint64_t handles_closed = 0;
};

class UvTransport {
 public:
  // Called on the loop thread with each received frame: a whole datagram, or header + payload of one
  // frame read from a connection. `from` is the remote address as the socket saw it, "host:port" (a
  // datagram's source; a connection's peer, whose port is the sender's ephemeral one, not its
  // listening port): for logs about frames that cannot be opened, whose sender is otherwise unknown.
  using Receiver = std::function<void(std::string frame, gossip::Channel channel, const std::string& from)>;

  // Binds the transport to `loop` (borrowed; it must outlive the transport). Opens nothing yet.
  explicit UvTransport(net::EventLoop& loop, UvTransportOptions options = {});
  ~UvTransport();

  UvTransport(const UvTransport&) = delete;
  UvTransport& operator=(const UvTransport&) = delete;

  // Binds TCP (listening) and UDP on `host`:`port` and starts receiving. `host` is an IPv4 or IPv6
  // literal, or "localhost", which means 127.0.0.1; other host names are refused with
  // kInvalidArgument (this transport does no DNS). Port 0 picks one ephemeral port free for both
  // protocols: TCP binds first, and UDP binds the port TCP got, retrying up to
  // kEphemeralBindAttempts times when another socket holds it. Fails with kUnavailable when the
  // address is in use or not local, kIo on other socket errors, kInvalidArgument for a bad host or when
  // already listening; after a failure nothing stays bound. Fails with kUnavailable after close().
  // A failure to bind says where and which protocol first: "127.0.0.1:7400 (UDP): address already in
  // use (EADDRINUSE)".
  Status listen(const std::string& host, std::uint16_t port);

  // The bound port; 0 before listen() succeeds.
  std::uint16_t port() const;

  // Replaces the receiver (ignored after close()). Frames arriving while none is set are counted as
  // received and discarded.
  void set_receiver(Receiver receiver);

  // Sends one frame. Never fails: a frame that cannot be sent is dropped and counted in stats().
  // Datagrams need listen() first (they leave from the listening socket); streams do not.
  void send(gossip::OutgoingFrame frame);

  // Closes every socket and connection (queued frames are dropped and counted) and calls `on_closed`
  // (if set) on the loop thread once libuv has released all of them; the transport may be destroyed
  // then. With nothing open, `on_closed` runs before close() returns. Receives and sends end at once;
  // listen() fails afterwards. Calling close() again only adds another `on_closed`.
  void close(std::function<void()> on_closed);

  // True once close() was called (or the loop shut the transport down).
  bool closed() const;

  const UvTransportStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::transport
