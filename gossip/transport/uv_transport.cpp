#include "gossip/transport/uv_transport.h"

#include <algorithm>
#include <climits>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "gossip/wire.h"
#include "src/net/datagram_socket.h"
#include "src/net/stream_server.h"

namespace cairn::transport {

// Frames over the stream server's connections, datagrams over the datagram socket. Connections are
// known by their net::ConnectionId only (the stream server's lifetime scheme).
class UvTransport::Impl final : public net::StreamHandler {
 public:
  Impl(net::EventLoop& loop, UvTransportOptions options)
      : options_(options),
        udp_(loop),
        server_(loop, *this, net::StreamServerOptions{.max_inbound_connections = options.max_inbound_connections}) {}

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  void send(gossip::OutgoingFrame frame);
  void close(std::function<void()> on_closed);
  bool closed() const { return closing_ || server_.closing(); }
  void set_receiver(Receiver receiver);
  const UvTransportStats& stats() const;

  std::uint16_t port_ = 0;

  // net::StreamHandler.
  void on_open(net::ConnectionId id, bool inbound) override;
  void on_data(net::ConnectionId id, std::string_view bytes) override;
  void on_end(net::ConnectionId id) override;
  void on_written(net::ConnectionId id, std::size_t messages, std::size_t bytes, bool ok) override;
  void on_closing(net::ConnectionId id, net::CloseReason reason, std::size_t unsent_messages) override;
  void on_refused() override { ++stats_.connections_refused; }

 private:
  // What the transport keeps about one connection, outbound (ours, to `remote`) or inbound.
  struct Connection {
    bool outbound = false;
    gossip::Endpoint remote;  // Outbound only: the key in outbound_.
    std::string remote_text;  // "host:port" of the other end, for the receiver.
    std::string input;        // Received bytes not yet delivered.
    std::size_t frame_bytes = 0;  // Length of the frame being read, once its header is in; else 0.
  };

  void send_stream(gossip::OutgoingFrame frame);
  void consume(net::ConnectionId id, std::string_view bytes);
  void deliver(std::string frame, gossip::Channel channel, const std::string& from);
  void part_closed();

  UvTransportOptions options_;
  bool closing_ = false;
  bool listening_ = false;
  std::shared_ptr<Receiver> receiver_;
  mutable UvTransportStats stats_;
  std::uint64_t datagrams_dropped_closed_ = 0;  // Sent after close(): the socket never saw them.
  std::map<net::ConnectionId, Connection> connections_;  // Open ones.
  std::map<gossip::Endpoint, net::ConnectionId> outbound_;  // Our usable connection to each destination.
  int parts_open_ = 2;  // The datagram socket and the stream server, until close() has closed both.
  std::vector<std::function<void()>> on_closed_;
  // Last, so they go first: neither calls back into this once destroyed.
  net::DatagramSocket udp_;
  net::StreamServer server_;
};

// ---- Listening ----

Status UvTransport::Impl::listen(const std::string& host, std::uint16_t port) {
  if (closed()) return fail(ErrorCode::kUnavailable, "listen: the transport is closed");
  if (listening_) return fail(ErrorCode::kInvalidArgument, "listen: already listening on port " + std::to_string(port_));
  const int attempts = port == 0 ? kEphemeralBindAttempts : 1;
  for (int attempt = 1;; ++attempt) {
    // TCP first, then UDP on the port TCP got.
    auto tcp_port = server_.listen(host, port, " (TCP)");
    if (!tcp_port) return tl::unexpected(tcp_port.error());
    bool udp_port_taken = false;
    auto udp = udp_.bind(host, *tcp_port, " (UDP)", udp_port_taken);
    if (udp) {
      listening_ = true;
      port_ = *tcp_port;
      udp_.set_receiver([this](std::string_view datagram, const std::string& from) {
        deliver(std::string(datagram), gossip::Channel::kDatagram, from);
      });
      return ok();
    }
    server_.stop_listening();
    if (!udp_port_taken || attempt >= attempts) return udp;
  }
}

void UvTransport::Impl::on_open(net::ConnectionId id, bool inbound) {
  if (!inbound) {
    ++stats_.connects;
    return;
  }
  ++stats_.connections_accepted;
  connections_[id].remote_text = server_.remote(id);
}

// ---- Sending ----

void UvTransport::Impl::send(gossip::OutgoingFrame frame) {
  if (frame.channel == gossip::Channel::kDatagram) {
    if (closed()) {
      ++datagrams_dropped_closed_;
      return;
    }
    udp_.send(frame.to.host, frame.to.port, std::move(frame.bytes));
  } else {
    send_stream(std::move(frame));
  }
}

void UvTransport::Impl::send_stream(gossip::OutgoingFrame frame) {
  if (closed() || frame.to.port == 0 || frame.bytes.size() > UINT_MAX) {
    ++stats_.frames_dropped_unsendable;
    return;
  }
  net::ConnectionId id = 0;
  if (auto found = outbound_.find(frame.to); found != outbound_.end()) {
    id = found->second;
  } else {
    auto opened = server_.connect(frame.to.host, frame.to.port);
    if (!opened) {  // An unusable address.
      ++stats_.frames_dropped_unsendable;
      return;
    }
    id = *opened;
    if (!server_.is_open(id)) {  // Failed at once (counted by on_closing).
      ++stats_.frames_dropped_connection_lost;
      return;
    }
    outbound_.emplace(frame.to, id);
    Connection& connection = connections_[id];
    connection.outbound = true;
    connection.remote = frame.to;
    connection.remote_text = frame.to.to_string();
  }
  if (server_.queued_bytes(id) + frame.bytes.size() > options_.max_queued_bytes_per_connection) {
    ++stats_.frames_dropped_queue_full;
    return;
  }
  if (!server_.write(id, std::move(frame.bytes))) ++stats_.frames_dropped_connection_lost;
}

void UvTransport::Impl::on_written(net::ConnectionId, std::size_t messages, std::size_t bytes, bool ok) {
  if (!ok) {
    stats_.frames_dropped_connection_lost += messages;
    return;
  }
  stats_.frames_sent += messages;
  stats_.frame_bytes_sent += bytes;
}

// ---- Receiving ----

void UvTransport::Impl::on_data(net::ConnectionId id, std::string_view bytes) { consume(id, bytes); }

// Appends to the connection's input and delivers every complete frame in it. The receiver may close
// the connection or the transport: the connection is looked up again after each delivery.
void UvTransport::Impl::consume(net::ConnectionId id, std::string_view bytes) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.input.append(bytes);
  std::size_t start = 0;  // Where the next undelivered frame begins.
  for (;;) {
    found = connections_.find(id);
    if (found == connections_.end()) return;  // Closed by the receiver.
    Connection& connection = found->second;
    std::string& input = connection.input;
    const std::size_t available = input.size() - start;
    if (connection.frame_bytes == 0) {
      if (available < gossip::kFrameHeaderBytes) break;
      const auto parsed =
          gossip::parse_frame_header(std::string_view(input).substr(start, gossip::kFrameHeaderBytes),
                                     std::min(options_.max_frame_payload_bytes, gossip::kMaxFramePayloadBytes));
      if (!parsed.ok) {
        // A corrupt stream cannot be resynchronised.
        ++stats_.bad_headers;
        server_.close(id);
        return;
      }
      connection.frame_bytes = gossip::kFrameHeaderBytes + parsed.header.payload_length;
    }
    if (available < connection.frame_bytes) break;
    std::string frame;
    if (start == 0 && available == connection.frame_bytes) {
      frame = std::move(input);  // The whole input is one frame (a large one, typically): no copy.
      input.clear();
    } else {
      frame = input.substr(start, connection.frame_bytes);
      start += connection.frame_bytes;
    }
    connection.frame_bytes = 0;
    ++stats_.frames_received;
    stats_.frame_bytes_received += frame.size();
    const std::string from = connection.remote_text;
    deliver(std::move(frame), gossip::Channel::kStream, from);  // May close the connection.
  }
  Connection& connection = found->second;
  connection.input.erase(0, start);
  // Reserve a large frame's room once rather than growing into it read by read.
  if (connection.frame_bytes > connection.input.capacity()) connection.input.reserve(connection.frame_bytes);
}

void UvTransport::Impl::deliver(std::string frame, gossip::Channel channel, const std::string& from) {
  // A copy of the pointer, so a receiver that replaces itself is not destroyed while it runs.
  const std::shared_ptr<Receiver> receiver = receiver_;
  if (receiver && *receiver) (*receiver)(std::move(frame), channel, from);
}

void UvTransport::Impl::set_receiver(Receiver receiver) {
  if (closed()) return;
  receiver_ = std::make_shared<Receiver>(std::move(receiver));
}

// ---- Closing ----

// Replies travel over our own outbound connections, so the peer's EOF ends a connection for good.
void UvTransport::Impl::on_end(net::ConnectionId id) {
  ++stats_.connections_lost;
  server_.close(id);
}

void UvTransport::Impl::on_closing(net::ConnectionId id, net::CloseReason reason, std::size_t unsent_messages) {
  if (reason == net::CloseReason::kConnectFailed) ++stats_.connect_failures;
  if (reason == net::CloseReason::kError) ++stats_.connections_lost;
  stats_.frames_dropped_connection_lost += unsent_messages;
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  if (found->second.outbound) {
    auto outbound = outbound_.find(found->second.remote);
    if (outbound != outbound_.end() && outbound->second == id) outbound_.erase(outbound);
  }
  connections_.erase(found);
}

void UvTransport::Impl::close(std::function<void()> on_closed) {
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (!closing_) {
    closing_ = true;
    receiver_.reset();
    udp_.close([this] { part_closed(); });
    server_.close_all([this] { part_closed(); });
    return;
  }
  if (parts_open_ == 0) part_closed();
}

void UvTransport::Impl::part_closed() {
  if (parts_open_ > 0) --parts_open_;
  if (parts_open_ != 0) return;
  // A callback may destroy the transport, and with it this Impl: nothing below touches `this`.
  auto callbacks = std::exchange(on_closed_, {});
  for (auto& callback : callbacks) callback();
}

const UvTransportStats& UvTransport::Impl::stats() const {
  const net::DatagramStats& datagrams = udp_.stats();
  stats_.datagrams_sent = datagrams.sent;
  stats_.datagram_bytes_sent = datagrams.bytes_sent;
  stats_.datagrams_received = datagrams.received;
  stats_.datagram_bytes_received = datagrams.bytes_received;
  stats_.datagram_receive_errors = datagrams.receive_errors;
  stats_.datagrams_dropped = datagrams.dropped + datagrams_dropped_closed_;
  stats_.handles_closed = datagrams.handles_closed + server_.stats().handles_closed;
  return stats_;
}

// ---- UvTransport ----

UvTransport::UvTransport(net::EventLoop& loop, UvTransportOptions options)
    : impl_(std::make_unique<Impl>(loop, options)) {}

// The stream server and the datagram socket close in the background, calling nothing here.
UvTransport::~UvTransport() = default;

Status UvTransport::listen(const std::string& host, std::uint16_t port) { return impl_->listen(host, port); }

std::uint16_t UvTransport::port() const { return impl_->port_; }

void UvTransport::set_receiver(Receiver receiver) { impl_->set_receiver(std::move(receiver)); }

void UvTransport::send(gossip::OutgoingFrame frame) { impl_->send(std::move(frame)); }

void UvTransport::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }

bool UvTransport::closed() const { return impl_->closed(); }

const UvTransportStats& UvTransport::stats() const { return impl_->stats(); }

}  // namespace cairn::transport
