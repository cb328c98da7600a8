#include "src/net/datagram_socket.h"

#include <array>
#include <climits>
#include <memory>
#include <utility>
#include <vector>

#include "src/net/ip_address.h"
#include "src/net/loop_internal.h"

namespace cairn::net {
namespace {

// Large enough for any UDP datagram over IPv4 (65,507 bytes) or IPv6 without jumbograms.
constexpr std::size_t kReceiveBufferBytes = 64 * 1024;

uv_handle_t* as_handle(uv_udp_t* udp) { return reinterpret_cast<uv_handle_t*>(udp); }
const sockaddr* as_sockaddr(const sockaddr_storage& address) { return reinterpret_cast<const sockaddr*>(&address); }

}  // namespace

class DatagramSocket::Impl final : public LoopMember {
 public:
  explicit Impl(EventLoop& loop) : uv_(LoopAccess::of(loop)) { uv_.members.insert(this); }
  ~Impl() { uv_.members.erase(this); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status bind(const std::string& host, std::uint16_t port, const std::string& label, bool& in_use);
  void send(const std::string& host, std::uint16_t port, std::string bytes);
  void close(std::function<void()> on_closed);
  void close_for_shutdown() override { close(nullptr); }
  bool abandon();

  std::shared_ptr<Receiver> receiver_;
  DatagramStats stats_;

 private:
  struct SendRequest {
    Impl* owner = nullptr;
    std::string bytes;
    uv_udp_send_t request{};
  };
  void maybe_finish_close();
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buffer);
  static void on_datagram(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buffer, const sockaddr* from,
                          unsigned flags);
  static void on_sent(uv_udp_send_t* request, int status);
  static void on_closed(uv_handle_t* handle);

  EventLoop::Impl& uv_;
  uv_udp_t* udp_ = nullptr;  // Owned while bound; released in its close callback.
  bool closing_ = false;
  std::size_t open_handles_ = 0;  // A failed bind's handle may still be closing.
  std::vector<std::function<void()>> on_closed_;
  bool abandoned_ = false;
  std::array<char, kReceiveBufferBytes> receive_buffer_{};
};

Status DatagramSocket::Impl::bind(const std::string& host, std::uint16_t port, const std::string& label,
                                  bool& in_use) {
  in_use = false;
  if (closing_ || uv_.shutting_down) return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  if (udp_ != nullptr) return fail(ErrorCode::kInvalidArgument, "bind: the datagram socket is bound already");
  const std::string where = host_port(host, port) + label;
  auto address = resolve_ip(host, port);
  if (!address) return fail(address.error().code(), host_port(host, port) + ": " + address.error().message());
  auto udp = std::make_unique<uv_udp_t>();
  if (int rc = uv_udp_init(&uv_.loop, udp.get()); rc < 0) return tl::unexpected(uv_error(where, rc));
  udp->data = this;
  ++open_handles_;
  int rc = uv_udp_bind(udp.get(), as_sockaddr(*address), 0);
  in_use = rc == UV_EADDRINUSE;
  if (rc == 0) rc = uv_udp_recv_start(udp.get(), on_alloc, on_datagram);
  if (rc < 0) {
    uv_close(as_handle(udp.release()), Impl::on_closed);  // Another bind() may follow.
    return tl::unexpected(uv_error(where, rc));
  }
  udp_ = udp.release();
  return ok();
}

void DatagramSocket::Impl::send(const std::string& host, std::uint16_t port, std::string bytes) {
  auto address = resolve_ip(host, port);
  if (closing_ || udp_ == nullptr || !address || port == 0 || bytes.size() > UINT_MAX) {
    ++stats_.dropped;
    return;
  }
  uv_buf_t buffer = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
  // Most datagrams leave at once; only a full socket buffer needs a request kept alive until sent.
  const int sent = uv_udp_try_send(udp_, &buffer, 1, as_sockaddr(*address));
  if (sent >= 0) {
    ++stats_.sent;
    stats_.bytes_sent += bytes.size();
    return;
  }
  if (sent != UV_EAGAIN) {
    ++stats_.dropped;
    return;
  }
  auto request = std::make_unique<SendRequest>();
  request->owner = this;
  request->bytes = std::move(bytes);
  request->request.data = request.get();
  buffer = uv_buf_init(request->bytes.data(), static_cast<unsigned>(request->bytes.size()));
  if (uv_udp_send(&request->request, udp_, &buffer, 1, as_sockaddr(*address), on_sent) < 0) {
    ++stats_.dropped;
    return;
  }
  (void)request.release();  // Owned by libuv until on_sent.
}

void DatagramSocket::Impl::on_sent(uv_udp_send_t* raw, int status) {
  std::unique_ptr<SendRequest> request(static_cast<SendRequest*>(raw->data));
  DatagramStats& stats = request->owner->stats_;
  if (status < 0) {
    ++stats.dropped;
  } else {
    ++stats.sent;
    stats.bytes_sent += request->bytes.size();
  }
}

void DatagramSocket::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& receive_buffer = static_cast<Impl*>(handle->data)->receive_buffer_;
  *buffer = uv_buf_init(receive_buffer.data(), static_cast<unsigned>(receive_buffer.size()));
}

void DatagramSocket::Impl::on_datagram(uv_udp_t* handle, ssize_t nread, const uv_buf_t* buffer,
                                       const sockaddr* from, unsigned flags) {
  Impl& self = *static_cast<Impl*>(handle->data);
  if (nread < 0 || (flags & UV_UDP_PARTIAL) != 0) {
    ++self.stats_.receive_errors;
    return;
  }
  if (from == nullptr || self.closing_) return;  // Nothing more to read for now.
  const auto size = static_cast<std::size_t>(nread);
  ++self.stats_.received;
  self.stats_.bytes_received += size;
  // A copy of the pointer, so a receiver that replaces itself is not destroyed while it runs.
  const std::shared_ptr<Receiver> receiver = self.receiver_;
  if (receiver && *receiver) (*receiver)(std::string_view(buffer->base, size), address_text(from));
}

void DatagramSocket::Impl::close(std::function<void()> on_closed) {
  if (on_closed) on_closed_.push_back(std::move(on_closed));
  if (!closing_) {
    closing_ = true;
    receiver_.reset();
  }
  if (udp_ != nullptr) uv_close(as_handle(std::exchange(udp_, nullptr)), Impl::on_closed);  // Stops receiving.
  maybe_finish_close();
}

void DatagramSocket::Impl::on_closed(uv_handle_t* handle) {
  Impl& self = *static_cast<Impl*>(handle->data);
  std::unique_ptr<uv_udp_t> owned(reinterpret_cast<uv_udp_t*>(handle));
  owned.reset();
  --self.open_handles_;
  ++self.stats_.handles_closed;
  self.maybe_finish_close();
}

void DatagramSocket::Impl::maybe_finish_close() {
  if (!closing_ || open_handles_ != 0) return;
  auto callbacks = std::exchange(on_closed_, {});
  if (abandoned_) {
    const std::unique_ptr<Impl> last_reference(this);
    return;
  }
  for (auto& callback : callbacks) callback();  // May destroy this: nothing below touches it.
}

bool DatagramSocket::Impl::abandon() {
  on_closed_.clear();
  close(nullptr);
  if (open_handles_ == 0) return false;
  abandoned_ = true;
  return true;
}

DatagramSocket::DatagramSocket(EventLoop& loop) : impl_(new Impl(loop)) {}
DatagramSocket::~DatagramSocket() {
  if (!impl_->abandon()) delete impl_;
}
Status DatagramSocket::bind(const std::string& host, std::uint16_t port, const std::string& label, bool& in_use) {
  return impl_->bind(host, port, label, in_use);
}
void DatagramSocket::set_receiver(Receiver receiver) {
  impl_->receiver_ = std::make_shared<Receiver>(std::move(receiver));
}
void DatagramSocket::send(const std::string& host, std::uint16_t port, std::string bytes) {
  impl_->send(host, port, std::move(bytes));
}
void DatagramSocket::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }
const DatagramStats& DatagramSocket::stats() const { return impl_->stats_; }

}  // namespace cairn::net
