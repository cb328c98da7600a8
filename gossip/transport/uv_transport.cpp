#include "gossip/transport/uv_transport.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "gossip/transport/ip_address.h"
#include "gossip/transport/loop_internal.h"
#include "gossip/wire.h"

namespace cairn::transport {

namespace {

// Large enough for any UDP datagram over IPv4 (65,507 bytes) or IPv6 without jumbograms.
constexpr std::size_t kReceiveBufferBytes = 64 * 1024;

template <typename Handle>
uv_handle_t* as_handle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}
uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }
const sockaddr* as_sockaddr(const sockaddr_storage& address) {
  return reinterpret_cast<const sockaddr*>(&address);
}

sockaddr_storage with_port(sockaddr_storage address, std::uint16_t port) {
  const std::array<unsigned char, 2> bytes{static_cast<unsigned char>(port >> 8),
                                           static_cast<unsigned char>(port & 0xff)};
  if (address.ss_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, &address, sizeof v4);
    std::memcpy(&v4.sin_port, bytes.data(), bytes.size());
    std::memcpy(&address, &v4, sizeof v4);
  } else if (address.ss_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, &address, sizeof v6);
    std::memcpy(&v6.sin6_port, bytes.data(), bytes.size());
    std::memcpy(&address, &v6, sizeof v6);
  }
  return address;
}

}  // namespace

class UvTransport::Impl final : public LoopMember {
 public:
  Impl(EventLoop::Impl& loop, UvTransportOptions options) : loop_(loop), options_(options) {
    loop_.members.insert(this);
  }
  ~Impl() { loop_.members.erase(this); }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status listen(const std::string& host, std::uint16_t port);
  void send(gossip::OutgoingFrame frame);
  void close(std::function<void()> on_closed);
  void close_for_shutdown() override { close(nullptr); }

  // Called by ~UvTransport: closes, forgets the receiver and every on_closed, and returns true when
  // handles are still closing (the Impl then deletes itself once the last one has closed).
  bool abandon();

  std::uint16_t port_ = 0;
  bool closing_ = false;
  std::shared_ptr<Receiver> receiver_;
  UvTransportStats stats_;

 private:
  // One TCP connection, outbound (ours, to `remote`) or inbound (accepted).
  struct Connection {
    Impl* owner = nullptr;
    bool outbound = false;
    gossip::Endpoint remote;  // Outbound only: the key in outbound_.
    std::string remote_text;  // "host:port" of the other end, for the receiver.
    bool connected = false;
    bool closing = false;
    std::deque<std::string> waiting;  // Frames sent while connecting, in order.
    std::size_t buffered_bytes = 0;   // Waiting plus written but not yet completed.
    std::string input;                // Received bytes not yet delivered.
    std::size_t frame_bytes = 0;      // Length of the frame being read, once its header is in; else 0.
    uv_tcp_t handle{};
    uv_connect_t connect_request{};
  };
  struct DatagramRequest {
    Impl* owner = nullptr;
    std::string bytes;
    uv_udp_send_t request{};
  };

  Status bind_both(const sockaddr_storage& requested, const std::string& host, bool& udp_port_taken);
  void send_datagram(gossip::OutgoingFrame frame);
  void send_stream(gossip::OutgoingFrame frame);
  Connection* open_connection(const gossip::Endpoint& to);
  Connection& add_connection(bool outbound);
  void start_reading(Connection& connection);
  void write_frame(Connection& connection, std::string bytes);
  void consume(Connection& connection, const char* data, std::size_t size);
  void deliver(std::string frame, gossip::Channel channel, const std::string& from);
  void close_connection(Connection& connection);
  template <typename Handle>
  void close_socket(Handle* handle);
  void handle_closed();
  void maybe_finish_close();

  // libuv callbacks.
  static void on_alloc_datagram(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_datagram(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buffer, const sockaddr* from,
                          unsigned flags);
  static void on_datagram_sent(uv_udp_send_t* request, int status);
  static void on_accept(uv_stream_t* server, int status);
  static void on_connect(uv_connect_t* request, int status);
  static void on_alloc_stream(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);
  static void on_write(void* context, std::size_t bytes, int status);
  static void on_connection_closed(uv_handle_t* handle);
  template <typename Handle>
  static void on_socket_closed(uv_handle_t* handle);

  EventLoop::Impl& loop_;
  UvTransportOptions options_;
  uv_udp_t* udp_ = nullptr;                                         // Owned; released in its close callback.
  uv_tcp_t* listener_ = nullptr;                                    // Owned; released in its close callback.
  std::map<Connection*, std::unique_ptr<Connection>> connections_;  // Every open or closing connection.
  std::map<gossip::Endpoint, Connection*> outbound_;  // Our usable connection to each destination.
  std::size_t open_handles_ = 0;                      // Initialised and not yet closed.
  std::size_t inbound_connections_ = 0;               // Accepted and not yet closed.
  std::vector<std::function<void()>> on_closed_;
  bool abandoned_ = false;
  std::array<char, kReceiveBufferBytes> receive_buffer_{};  // Each read is consumed before the next.
};

// ---- Listening ----

Status UvTransport::Impl::listen(const std::string& host, std::uint16_t port) {
  if (closing_ || loop_.shutting_down)
    return fail(ErrorCode::kUnavailable, "listen: the transport is closed");
  if (listener_ != nullptr) {
    return fail(ErrorCode::kInvalidArgument, "listen: already listening on port " + std::to_string(port_));
  }
  auto address = resolve_ip(host, port);
  if (!address) return fail(address.error().code(), host_port(host, port) + ": " + address.error().message());
  const int attempts = port == 0 ? kEphemeralBindAttempts : 1;
  for (int attempt = 1;; ++attempt) {
    bool udp_port_taken = false;
    auto bound = bind_both(*address, host, udp_port_taken);
    if (bound || !udp_port_taken || attempt >= attempts) return bound;
  }
}

// Binds TCP at `requested`, then UDP on the port TCP got. On failure closes what it opened, and sets
// `udp_port_taken` when UDP found that port in use.
Status UvTransport::Impl::bind_both(const sockaddr_storage& requested, const std::string& host,
                                    bool& udp_port_taken) {
  const std::string tcp_where = host_port(host, port_of(requested)) + " (TCP)";
  auto tcp = std::make_unique<uv_tcp_t>();
  if (int rc = uv_tcp_init(&loop_.loop, tcp.get()); rc < 0) return tl::unexpected(uv_error(tcp_where, rc));
  tcp->data = this;
  ++open_handles_;
  int rc = uv_tcp_bind(tcp.get(), as_sockaddr(requested), 0);
  // libuv may report a bind error (EADDRINUSE) only from uv_listen.
  if (rc == 0) rc = uv_listen(as_stream(tcp.get()), kListenBacklog, on_accept);
  sockaddr_storage bound{};
  if (rc == 0) {
    int length = static_cast<int>(sizeof bound);
    rc = uv_tcp_getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  }
  if (rc < 0) {
    close_socket(tcp.release());
    return tl::unexpected(uv_error(tcp_where, rc));
  }
  const std::uint16_t port = port_of(bound);
  const std::string udp_where = host_port(host, port) + " (UDP)";

  auto udp = std::make_unique<uv_udp_t>();
  if (rc = uv_udp_init(&loop_.loop, udp.get()); rc < 0) {
    close_socket(tcp.release());
    return tl::unexpected(uv_error(udp_where, rc));
  }
  udp->data = this;
  ++open_handles_;
  rc = uv_udp_bind(udp.get(), as_sockaddr(with_port(requested, port)), 0);
  udp_port_taken = rc == UV_EADDRINUSE;
  if (rc == 0) rc = uv_udp_recv_start(udp.get(), on_alloc_datagram, on_datagram);
  if (rc < 0) {
    close_socket(tcp.release());
    close_socket(udp.release());
    return tl::unexpected(uv_error(udp_where, rc));
  }
  listener_ = tcp.release();
  udp_ = udp.release();
  port_ = port;
  return ok();
}

void UvTransport::Impl::on_accept(uv_stream_t* server, int status) {
  Impl& self = *static_cast<Impl*>(server->data);
  if (status < 0 || self.closing_) return;  // E.g. EMFILE; the client will retry.
  Connection& connection = self.add_connection(/*outbound=*/false);
  if (uv_accept(server, as_stream(&connection.handle)) < 0) {
    self.close_connection(connection);
    return;
  }
  if (self.inbound_connections_ >= self.options_.max_inbound_connections) {
    ++self.stats_.connections_refused;
    self.close_connection(connection);
    return;
  }
  ++self.inbound_connections_;
  ++self.stats_.connections_accepted;
  connection.connected = true;
  sockaddr_storage peer{};
  int peer_length = sizeof peer;
  connection.remote_text = uv_tcp_getpeername(&connection.handle, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0
                               ? address_text(as_sockaddr(peer))
                               : "unknown";
  uv_tcp_nodelay(&connection.handle, 1);
  self.start_reading(connection);
}

// ---- Sending ----

void UvTransport::Impl::send(gossip::OutgoingFrame frame) {
  if (frame.channel == gossip::Channel::kDatagram) {
    send_datagram(std::move(frame));
  } else {
    send_stream(std::move(frame));
  }
}

void UvTransport::Impl::send_datagram(gossip::OutgoingFrame frame) {
  auto address = resolve_ip(frame.to.host, frame.to.port);
  if (closing_ || udp_ == nullptr || !address || frame.to.port == 0 || frame.bytes.size() > UINT_MAX) {
    ++stats_.datagrams_dropped;
    return;
  }
  uv_buf_t buffer = uv_buf_init(frame.bytes.data(), static_cast<unsigned>(frame.bytes.size()));
  // Most datagrams leave at once; only a full socket buffer needs a request kept alive until sent.
  const int sent = uv_udp_try_send(udp_, &buffer, 1, as_sockaddr(*address));
  if (sent >= 0) {
    ++stats_.datagrams_sent;
    stats_.datagram_bytes_sent += frame.bytes.size();
    return;
  }
  if (sent != UV_EAGAIN) {
    ++stats_.datagrams_dropped;
    return;
  }
  auto request = std::make_unique<DatagramRequest>();
  request->owner = this;
  request->bytes = std::move(frame.bytes);
  request->request.data = request.get();
  buffer = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  if (uv_udp_send(&request->request, udp_, &buffer, 1, as_sockaddr(*address), on_datagram_sent) < 0) {
    ++stats_.datagrams_dropped;
    return;
  }
  (void)request.release();  // Owned by libuv until on_datagram_sent.
}

void UvTransport::Impl::on_datagram_sent(uv_udp_send_t* raw, int status) {
  std::unique_ptr<DatagramRequest> request(static_cast<DatagramRequest*>(raw->data));
  UvTransportStats& stats = request->owner->stats_;
  if (status < 0) {
    ++stats.datagrams_dropped;
  } else {
    ++stats.datagrams_sent;
    stats.datagram_bytes_sent += request->bytes.size();
  }
}

void UvTransport::Impl::send_stream(gossip::OutgoingFrame frame) {
  if (closing_ || frame.to.port == 0 || frame.bytes.size() > UINT_MAX) {
    ++stats_.frames_dropped_unsendable;
    return;
  }
  auto found = outbound_.find(frame.to);
  Connection* connection = found != outbound_.end() ? found->second : open_connection(frame.to);
  if (connection == nullptr) return;  // Counted by open_connection.
  if (connection->buffered_bytes + frame.bytes.size() > options_.max_queued_bytes_per_connection) {
    ++stats_.frames_dropped_queue_full;
    return;
  }
  connection->buffered_bytes += frame.bytes.size();
  if (connection->connected) {
    write_frame(*connection, std::move(frame.bytes));
  } else {
    connection->waiting.push_back(std::move(frame.bytes));
  }
}

UvTransport::Impl::Connection& UvTransport::Impl::add_connection(bool outbound) {
  auto owned = std::make_unique<Connection>();
  Connection& connection = *owned;
  connection.owner = this;
  connection.outbound = outbound;
  // uv_tcp_init (unlike uv_tcp_init_ex) creates no socket yet and cannot fail.
  [[maybe_unused]] const int rc = uv_tcp_init(&loop_.loop, &connection.handle);
  assert(rc == 0);
  connection.handle.data = &connection;
  connection.connect_request.data = &connection;
  ++open_handles_;
  connections_.emplace(&connection, std::move(owned));
  return connection;
}

// Returns the new connection, or nullptr (counting the frame as dropped) when `to` is unusable.
UvTransport::Impl::Connection* UvTransport::Impl::open_connection(const gossip::Endpoint& to) {
  auto address = resolve_ip(to.host, to.port);
  if (!address) {
    ++stats_.frames_dropped_unsendable;
    return nullptr;
  }
  Connection& connection = add_connection(/*outbound=*/true);
  connection.remote = to;
  connection.remote_text = to.to_string();
  if (uv_tcp_connect(&connection.connect_request, &connection.handle, as_sockaddr(*address), on_connect) <
      0) {
    ++stats_.connect_failures;
    ++stats_.frames_dropped_connection_lost;
    close_connection(connection);
    return nullptr;
  }
  outbound_.emplace(to, &connection);
  return &connection;
}

void UvTransport::Impl::on_connect(uv_connect_t* request, int status) {
  Connection& connection = *static_cast<Connection*>(request->data);
  Impl& self = *connection.owner;
  if (connection.closing) return;  // Cancelled by close(); its frames are already counted.
  if (status < 0) {
    ++self.stats_.connect_failures;
    self.close_connection(connection);
    return;
  }
  ++self.stats_.connects;
  connection.connected = true;
  uv_tcp_nodelay(&connection.handle, 1);
  // Replies normally come over the peer's own connection; reading ours still notices its EOF.
  self.start_reading(connection);
  while (!connection.waiting.empty() && !connection.closing) {
    std::string bytes = std::move(connection.waiting.front());
    connection.waiting.pop_front();
    self.write_frame(connection, std::move(bytes));
  }
}

void UvTransport::Impl::write_frame(Connection& connection, std::string bytes) {
  const std::size_t size = bytes.size();
  if (write_owned(as_stream(&connection.handle), std::move(bytes), &connection, on_write) < 0) {
    connection.buffered_bytes -= size;
    ++stats_.frames_dropped_connection_lost;
    ++stats_.connections_lost;
    close_connection(connection);
  }
}

// libuv completes (or cancels, with UV_ECANCELED) every write before the connection's close callback,
// so the connection is still alive here.
void UvTransport::Impl::on_write(void* context, std::size_t bytes, int status) {
  Connection& connection = *static_cast<Connection*>(context);
  Impl& self = *connection.owner;
  connection.buffered_bytes -= bytes;
  if (status < 0) {
    ++self.stats_.frames_dropped_connection_lost;
    if (!connection.closing) {
      ++self.stats_.connections_lost;
      self.close_connection(connection);
    }
    return;
  }
  ++self.stats_.frames_sent;
  self.stats_.frame_bytes_sent += bytes;
}

// ---- Receiving ----

void UvTransport::Impl::on_alloc_datagram(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& receive_buffer = static_cast<Impl*>(handle->data)->receive_buffer_;
  *buffer = uv_buf_init(receive_buffer.data(), static_cast<unsigned>(receive_buffer.size()));
}

void UvTransport::Impl::on_datagram(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buffer,
                                    const sockaddr* from, unsigned flags) {
  Impl& self = *static_cast<Impl*>(handle->data);
  if (nread < 0 || (flags & UV_UDP_PARTIAL) != 0) {
    ++self.stats_.datagram_receive_errors;
    return;
  }
  if (from == nullptr) return;  // Nothing more to read for now.
  const auto size = static_cast<std::size_t>(nread);
  ++self.stats_.datagrams_received;
  self.stats_.datagram_bytes_received += size;
  self.deliver(std::string(buffer->base, size), gossip::Channel::kDatagram, address_text(from));
}

void UvTransport::Impl::start_reading(Connection& connection) {
  if (int rc = uv_read_start(as_stream(&connection.handle), on_alloc_stream, on_read); rc < 0) {
    ++stats_.connections_lost;
    close_connection(connection);
  }
}

void UvTransport::Impl::on_alloc_stream(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& receive_buffer = static_cast<Connection*>(handle->data)->owner->receive_buffer_;
  *buffer = uv_buf_init(receive_buffer.data(), static_cast<unsigned>(receive_buffer.size()));
}

void UvTransport::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Connection& connection = *static_cast<Connection*>(stream->data);
  Impl& self = *connection.owner;
  if (nread == 0 || connection.closing) return;  // 0: nothing to read now (EAGAIN).
  if (nread < 0) {                               // UV_EOF or a socket error.
    ++self.stats_.connections_lost;
    self.close_connection(connection);
    return;
  }
  self.consume(connection, buffer->base, static_cast<std::size_t>(nread));
}

// Appends to the connection's input and delivers every complete frame in it.
void UvTransport::Impl::consume(Connection& connection, const char* data, std::size_t size) {
  std::string& input = connection.input;
  input.append(data, size);
  std::size_t start = 0;  // Where the next undelivered frame begins.
  while (!connection.closing) {
    const std::size_t available = input.size() - start;
    if (connection.frame_bytes == 0) {
      if (available < gossip::kFrameHeaderBytes) break;
      const auto parsed =
          gossip::parse_frame_header(std::string_view(input).substr(start, gossip::kFrameHeaderBytes),
                                     std::min(options_.max_frame_payload_bytes, gossip::kMaxFramePayloadBytes));
      if (!parsed.ok) {
        ++stats_.bad_headers;
        close_connection(connection);
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
    deliver(std::move(frame), gossip::Channel::kStream, connection.remote_text);  // May close the connection.
  }
  if (connection.closing) return;
  input.erase(0, start);
  // Reserve a large frame's room once rather than growing into it read by read.
  if (connection.frame_bytes > input.capacity()) input.reserve(connection.frame_bytes);
}

void UvTransport::Impl::deliver(std::string frame, gossip::Channel channel, const std::string& from) {
  // A copy of the pointer, so a receiver that replaces itself is not destroyed while it runs.
  const std::shared_ptr<Receiver> receiver = receiver_;
  if (receiver && *receiver) (*receiver)(std::move(frame), channel, from);
}

// ---- Closing ----

void UvTransport::Impl::close_connection(Connection& connection) {
  if (connection.closing) return;
  connection.closing = true;
  if (connection.outbound) {
    auto found = outbound_.find(connection.remote);
    if (found != outbound_.end() && found->second == &connection) outbound_.erase(found);
  }
  for (const std::string& bytes : connection.waiting) connection.buffered_bytes -= bytes.size();
  stats_.frames_dropped_connection_lost += connection.waiting.size();
  connection.waiting.clear();
  // Cancels the pending connect and writes (their callbacks run first, with UV_ECANCELED).
  uv_close(as_handle(&connection.handle), on_connection_closed);
}

void UvTransport::Impl::on_connection_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  Impl& self = *connection->owner;
  if (!connection->outbound && connection->connected) --self.inbound_connections_;
  self.connections_.erase(connection);
  self.handle_closed();
}

template <typename Handle>
void UvTransport::Impl::close_socket(Handle* handle) {
  uv_close(as_handle(handle), on_socket_closed<Handle>);  // Also stops receiving or listening.
}

template <typename Handle>
void UvTransport::Impl::on_socket_closed(uv_handle_t* handle) {
  Impl& self = *static_cast<Impl*>(handle->data);
  std::unique_ptr<Handle> owned(reinterpret_cast<Handle*>(handle));
  owned.reset();
  self.handle_closed();
}

void UvTransport::Impl::handle_closed() {
  assert(open_handles_ > 0);
  --open_handles_;
  ++stats_.handles_closed;
  maybe_finish_close();
}

void UvTransport::Impl::close(std::function<void()> on_closed) {
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (!closing_) {
    closing_ = true;
    receiver_.reset();
    if (udp_ != nullptr) close_socket(std::exchange(udp_, nullptr));
    if (listener_ != nullptr) close_socket(std::exchange(listener_, nullptr));
    std::vector<Connection*> open;
    for (auto& [raw, owned] : connections_) open.push_back(raw);
    for (Connection* connection : open) close_connection(*connection);
  }
  maybe_finish_close();
}

void UvTransport::Impl::maybe_finish_close() {
  if (!closing_ || open_handles_ != 0) return;
  auto callbacks = std::move(on_closed_);
  on_closed_.clear();
  if (abandoned_) {
    // The transport is gone and libuv has released the last handle: nothing refers to this any more.
    const std::unique_ptr<Impl> last_reference(this);
    return;
  }
  // A callback may destroy the transport, and with it this Impl: nothing below touches `this`.
  for (auto& callback : callbacks) callback();
}

bool UvTransport::Impl::abandon() {
  on_closed_.clear();
  close(nullptr);
  if (open_handles_ == 0) return false;
  abandoned_ = true;
  return true;
}

// ---- UvTransport ----

UvTransport::UvTransport(EventLoop& loop, UvTransportOptions options)
    : impl_(std::make_unique<Impl>(*loop.impl_, options)) {}

UvTransport::~UvTransport() {
  if (impl_->abandon()) (void)impl_.release();  // Deletes itself once libuv has closed its handles.
}

Status UvTransport::listen(const std::string& host, std::uint16_t port) { return impl_->listen(host, port); }

std::uint16_t UvTransport::port() const { return impl_->port_; }

void UvTransport::set_receiver(Receiver receiver) {
  if (impl_->closing_) return;
  impl_->receiver_ = std::make_shared<Receiver>(std::move(receiver));
}

void UvTransport::send(gossip::OutgoingFrame frame) { impl_->send(std::move(frame)); }

void UvTransport::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }

bool UvTransport::closed() const { return impl_->closing_; }

const UvTransportStats& UvTransport::stats() const { return impl_->stats_; }

}  // namespace cairn::transport
