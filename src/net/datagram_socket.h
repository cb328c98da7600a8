// DatagramSocket: one UDP socket on an EventLoop, for the gossip transport's datagrams (SWIM pings).
// One datagram is one message, sent and delivered as is.
//
// Threads: every method is loop-affine (event_loop.h); the receiver runs on the loop thread.
// Lifetime: the EventLoop must outlive the socket; close() (or the loop's shutdown) releases it, and
// destroying an open socket closes it in the background without calling the receiver again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "src/net/event_loop.h"

namespace cairn::net {

struct DatagramStats {
  std::uint64_t sent = 0, bytes_sent = 0;  // Handed to the kernel.
  std::uint64_t received = 0, bytes_received = 0;
  std::uint64_t dropped = 0;         // Not sent: unusable address, not bound, closed, or an OS error.
  std::uint64_t receive_errors = 0;  // Including a datagram truncated by the 64 KiB receive buffer.
  std::uint64_t handles_closed = 0;  // 1 once libuv released the socket.
};

class DatagramSocket {
 public:
  // Called with each datagram received (valid during the call) and its sender, "host:port".
  using Receiver = std::function<void(std::string_view datagram, const std::string& from)>;

  explicit DatagramSocket(EventLoop& loop);
  ~DatagramSocket();
  DatagramSocket(const DatagramSocket&) = delete;
  DatagramSocket& operator=(const DatagramSocket&) = delete;

  // Binds `host`:`port` (an IP literal or "localhost"; the gossip transport binds the port its TCP
  // listener got) and starts receiving. Errors start with "host:port" and `label`; `in_use` is set
  // when the port was taken (EADDRINUSE). After a failure nothing stays bound (handles_closed counts the
  // socket tried) and bind() may be tried again. kInvalidArgument when already bound.
  Status bind(const std::string& host, std::uint16_t port, const std::string& label, bool& in_use);
  void set_receiver(Receiver receiver);
  // Sends one datagram; never fails (a datagram that cannot leave is counted as dropped).
  void send(const std::string& host, std::uint16_t port, std::string bytes);
  // Stops receiving and sending; `on_closed` (if set) runs once libuv has released the socket (at once
  // when it was never bound).
  void close(std::function<void()> on_closed);
  const DatagramStats& stats() const;

  class Impl;

 private:
  Impl* impl_;  // Owned; released to libuv's close callback when destroyed while the socket closes.
};

}  // namespace cairn::net
