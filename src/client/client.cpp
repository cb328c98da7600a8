// cairn::Client over libuv: a private uv_loop_t per client, run only inside each call (UV_RUN_ONCE
// until the reply frame arrives, the timer fires or the connection ends), so the client has no thread
// and no blocking socket call outside libuv.
#include "cairn/client.h"

#include <uv.h>

#include <array>
#include <cassert>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include "gossip/wire.h"
#include "gossip/transport/ip_address.h"
#include "src/server/protocol.h"
#include "src/util/sigpipe.h"

namespace cairn {
namespace {

using protocol::Response;

// Replies larger than this are refused (a get of several concurrent 16 MiB values fits).
constexpr std::size_t kMaxResponsePayloadBytes = std::size_t{256} << 20;
constexpr std::size_t kReadBufferBytes = 64 * 1024;

template <typename Handle>
uv_handle_t* as_handle(Handle* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}
uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }

}  // namespace

class Client::Impl {
 public:
  explicit Impl(ClientOptions options)
      : options_(std::move(options)), address_(options_.host + ":" + std::to_string(options_.port)) {}
  ~Impl() { shut_down(); }

  Status connect();
  const std::string& address() const { return address_; }

  // Sends `op` and returns its first reply frame (an error reply is a value here, not a failure).
  Result<Response> call(protocol::Op op, bool with_timeout = true);
  // The next frame for request `id` (or an error about an unreadable frame, id 0).
  Result<Response> next_for(std::uint64_t id, bool with_timeout = true);
  // Ends stream `id` and drains its frames up to the last one.
  Status cancel(std::uint64_t id);

  // Runs a streamed request: `each_frame` gets every reply frame's body of kind Batch until the last
  // one, or until it returns false (the stream is then cancelled and drained).
  template <typename Batch, typename Each>
  Status stream(protocol::Op op, bool with_timeout, Each&& each_frame);
  Status stream_items(protocol::Op op, const std::function<bool(const std::string&)>& each);

 private:
  Status send(const protocol::Request& request);
  Status wait(const std::function<bool()>& done, bool with_timeout, const char* what);
  Status broken(Error error);
  void consume(const char* data, std::size_t size);
  void shut_down();

  static void on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer);

  ClientOptions options_;
  std::string address_;
  uv_loop_t loop_{};
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_request_{};
  bool loop_open_ = false;
  std::optional<Error> failure_;  // Set once the connection is unusable.
  std::optional<int> connect_status_;
  bool timed_out_ = false;
  std::uint64_t next_id_ = 0;
  std::string input_;
  std::deque<Response> responses_;
  std::array<char, kReadBufferBytes> read_buffer_{};
};

Status Client::Impl::broken(Error error) {
  if (!failure_) failure_ = error;
  return tl::unexpected(std::move(error));
}

Status Client::Impl::connect() {
  auto target = transport::resolve_ip(options_.host, options_.port);
  if (!target) return tl::unexpected(target.error());
  if (int rc = uv_loop_init(&loop_); rc < 0) {
    return fail(ErrorCode::kUnavailable, "cannot connect to " + address_ + ": " + uv_strerror(rc));
  }
  loop_open_ = true;
  uv_tcp_init(&loop_, &tcp_);
  uv_timer_init(&loop_, &timer_);
  tcp_.data = this;
  timer_.data = this;
  connect_request_.data = this;
  int rc = uv_tcp_connect(&connect_request_, &tcp_, reinterpret_cast<const sockaddr*>(&*target),
                          [](uv_connect_t* request, int status) {
                            static_cast<Impl*>(request->data)->connect_status_ = status;
                          });
  if (rc == 0) {
    auto waited = wait([&] { return connect_status_.has_value(); }, true, "connecting");
    if (!waited) return fail(ErrorCode::kUnavailable, "cannot connect to " + address_ + ": timed out");
    rc = *connect_status_;
  }
  if (rc == 0) rc = uv_read_start(as_stream(&tcp_), on_alloc, on_read);
  if (rc < 0) {
    return broken(Error(ErrorCode::kUnavailable, "cannot connect to " + address_ + ": " + uv_strerror(rc)));
  }
  uv_tcp_nodelay(&tcp_, 1);
  return ok();
}

// Runs the loop until `done`, the timeout (between frames), or a connection failure.
Status Client::Impl::wait(const std::function<bool()>& done, bool with_timeout, const char* what) {
  timed_out_ = false;
  if (with_timeout) {
    uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Impl*>(timer->data)->timed_out_ = true; },
                   options_.timeout_ms, 0);
  }
  while (!done() && !failure_ && !timed_out_) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&timer_);
  if (done()) return ok();
  if (failure_) return tl::unexpected(*failure_);
  return broken(Error(ErrorCode::kUnavailable, std::string("timed out after ") + std::to_string(options_.timeout_ms) +
                                                   " ms " + what + " " + address_));
}

Status Client::Impl::send(const protocol::Request& request) {
  if (failure_) return tl::unexpected(*failure_);
  // The write runs on the application's thread, whose SIGPIPE disposition and mask are the
  // application's: a peer that closed must not kill it, and the mask must be as it was afterwards.
  // libuv writes with write(2), which takes no MSG_NOSIGNAL, so SIGPIPE is blocked around the write
  // and the one it raised is consumed (src/util/sigpipe.h); every write of the client happens here.
  SigpipeGuard sigpipe_guard;
  std::string frame = protocol::encode_request_frame(request);
  uv_buf_t buffer = uv_buf_init(frame.data(), static_cast<unsigned>(frame.size()));
  std::optional<int> status;
  uv_write_t write{};
  write.data = &status;
  if (int rc = uv_write(&write, as_stream(&tcp_), &buffer, 1,
                        [](uv_write_t* done, int result) { *static_cast<std::optional<int>*>(done->data) = result; });
      rc < 0) {
    return broken(Error(ErrorCode::kUnavailable, "cannot send to " + address_ + ": " + uv_strerror(rc)));
  }
  // The write request and the frame live on this stack frame: wait for libuv to be done with them.
  timed_out_ = false;
  uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Impl*>(timer->data)->timed_out_ = true; },
                 options_.timeout_ms, 0);
  while (!status && !timed_out_) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&timer_);
  if (!status) {
    // Timed out: closing the stream cancels the write, whose callback then runs before we return.
    broken(Error(ErrorCode::kUnavailable, "timed out sending to " + address_));
    shut_down();
    return tl::unexpected(*failure_);
  }
  if (*status < 0) {
    if (*status == UV_EPIPE) sigpipe_guard.note_epipe();
    return broken(Error(ErrorCode::kUnavailable, "connection to " + address_ + " lost: " + uv_strerror(*status)));
  }
  return ok();
}

void Client::Impl::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buffer) {
  auto& read_buffer = static_cast<Impl*>(handle->data)->read_buffer_;
  *buffer = uv_buf_init(read_buffer.data(), static_cast<unsigned>(read_buffer.size()));
}

void Client::Impl::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
  Impl& self = *static_cast<Impl*>(stream->data);
  if (nread == 0) return;
  if (nread < 0) {
    uv_read_stop(stream);
    self.broken(Error(ErrorCode::kUnavailable, nread == UV_EOF
                                                   ? "connection closed by " + self.address_
                                                   : "connection to " + self.address_ + " lost: " + uv_strerror(static_cast<int>(nread))));
    return;
  }
  self.consume(buffer->base, static_cast<std::size_t>(nread));
}

// Decodes every whole frame of the input into responses_.
void Client::Impl::consume(const char* data, std::size_t size) {
  input_.append(data, size);
  std::size_t start = 0;
  while (!failure_ && input_.size() - start >= gossip::kFrameHeaderBytes) {
    const std::string_view available = std::string_view(input_).substr(start);
    const auto parsed = gossip::parse_frame_header(available, kMaxResponsePayloadBytes);
    if (!parsed.ok || parsed.header.type != gossip::FrameType::kClientResponse) {
      const bool version = !parsed.ok && parsed.error == gossip::FrameError::kWrongVersion;
      broken(Error(version ? ErrorCode::kUnsupported : ErrorCode::kProtocol,
                   address_ + (version ? " speaks another protocol version" : " sent a frame that is not a reply")));
      break;
    }
    const std::size_t frame_bytes = gossip::kFrameHeaderBytes + parsed.header.payload_length;
    if (available.size() < frame_bytes) break;
    auto response = protocol::decode_response(available.substr(gossip::kFrameHeaderBytes, parsed.header.payload_length));
    if (!response) {
      broken(Error(ErrorCode::kProtocol, address_ + " sent an invalid reply: " + response.error().message()));
      break;
    }
    responses_.push_back(std::move(*response));
    start += frame_bytes;
  }
  input_.erase(0, start);
}

Result<Response> Client::Impl::next_for(std::uint64_t id, bool with_timeout) {
  for (;;) {
    while (!responses_.empty()) {
      Response response = std::move(responses_.front());
      responses_.pop_front();
      if (response.id == id || (response.id == 0 && std::holds_alternative<Error>(response.body))) return response;
      // A frame of an earlier, cancelled stream: skip it.
    }
    if (auto waited = wait([&] { return !responses_.empty(); }, with_timeout, "waiting for a reply from"); !waited)
      return tl::unexpected(waited.error());
  }
}

Result<Response> Client::Impl::call(protocol::Op op, bool with_timeout) {
  const protocol::Request request{++next_id_, std::move(op)};
  if (auto sent = send(request); !sent) return tl::unexpected(sent.error());
  return next_for(request.id, with_timeout);
}

Status Client::Impl::cancel(std::uint64_t id) {
  if (auto sent = send(protocol::Request{++next_id_, protocol::Cancel{id}}); !sent) return sent;
  for (;;) {
    auto response = next_for(id);
    if (!response) return tl::unexpected(response.error());
    if (!response->more) return ok();
  }
}

void Client::Impl::shut_down() {
  if (!loop_open_) return;
  for (uv_handle_t* handle : {as_handle(&tcp_), as_handle(&timer_)}) {
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);  // Runs the close callbacks (and cancels pending requests).
  [[maybe_unused]] const int rc = uv_loop_close(&loop_);
  assert(rc == 0);
  loop_open_ = false;
  if (!failure_) failure_ = Error(ErrorCode::kUnavailable, "the connection to " + address_ + " is closed");
}

// ---- Client ----

namespace {

Status as_status(Result<Response> response) {
  if (!response) return tl::unexpected(response.error());
  if (auto* error = std::get_if<Error>(&response->body)) return tl::unexpected(std::move(*error));
  if (!std::holds_alternative<protocol::Done>(response->body)) {
    return fail(ErrorCode::kProtocol, "the peer answered with an unexpected kind of reply");
  }
  return ok();
}

template <typename T>
Result<T> as_body(Result<Response> response) {
  if (!response) return tl::unexpected(response.error());
  if (auto* error = std::get_if<Error>(&response->body)) return tl::unexpected(std::move(*error));
  auto* body = std::get_if<T>(&response->body);
  if (body == nullptr) return fail(ErrorCode::kProtocol, "the peer answered with an unexpected kind of reply");
  return std::move(*body);
}

}  // namespace

Result<std::unique_ptr<Client>> Client::connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  if (auto connected = impl->connect(); !connected) return tl::unexpected(connected.error());
  if (!options.token.empty()) {
    if (auto accepted = as_status(impl->call(protocol::Auth{options.token})); !accepted) {
      return tl::unexpected(accepted.error());
    }
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const std::string& Client::address() const { return impl_->address(); }

Status Client::put(std::string_view key, std::string_view value) {
  return as_status(impl_->call(protocol::Put{std::string(key), std::string(value)}));
}

Result<RegisterValue> Client::get(std::string_view key) {
  return as_body<RegisterValue>(impl_->call(protocol::Get{std::string(key)}));
}

Status Client::del(std::string_view key) { return as_status(impl_->call(protocol::Del{std::string(key)})); }

Status Client::sadd(std::string_view key, const std::vector<std::string>& members) {
  return as_status(impl_->call(protocol::Sadd{std::string(key), members}));
}

Status Client::srem(std::string_view key, const std::vector<std::string>& members) {
  return as_status(impl_->call(protocol::Srem{std::string(key), members}));
}

Result<bool> Client::sismember(std::string_view key, std::string_view member) {
  auto body = as_body<protocol::IsMember>(impl_->call(protocol::Sismember{std::string(key), std::string(member)}));
  if (!body) return tl::unexpected(body.error());
  return body->value;
}

Status Client::incr(std::string_view key, std::uint64_t amount) {
  return as_status(impl_->call(protocol::Incr{std::string(key), amount}));
}

Status Client::decr(std::string_view key, std::uint64_t amount) {
  return as_status(impl_->call(protocol::Decr{std::string(key), amount}));
}

Result<std::int64_t> Client::counter(std::string_view key) {
  auto body = as_body<protocol::CounterValue>(impl_->call(protocol::CounterGet{std::string(key)}));
  if (!body) return tl::unexpected(body.error());
  return body->value;
}

Result<ValueKind> Client::kind(std::string_view key) {
  return as_body<ValueKind>(impl_->call(protocol::KindGet{std::string(key)}));
}

Result<KeyInspection> Client::inspect(std::string_view key) {
  return as_body<KeyInspection>(impl_->call(protocol::Inspect{std::string(key)}));
}

Result<NodeStatus> Client::status() { return as_body<NodeStatus>(impl_->call(protocol::StatusGet{})); }

Result<std::vector<MetricSample>> Client::stats() {
  auto body = as_body<protocol::Stats>(impl_->call(protocol::StatsGet{}));
  if (!body) return tl::unexpected(body.error());
  return std::move(body->samples);
}

Status Client::retire(std::uint64_t replica) { return as_status(impl_->call(protocol::Retire{replica})); }

template <typename Batch, typename Each>
Status Client::Impl::stream(protocol::Op op, bool with_timeout, Each&& each_frame) {
  auto first = call(std::move(op), with_timeout);
  if (!first) return tl::unexpected(first.error());
  const std::uint64_t id = first->id;
  for (Result<Response> response = std::move(first);;) {
    if (!response) return tl::unexpected(response.error());
    if (auto* error = std::get_if<Error>(&response->body)) return tl::unexpected(std::move(*error));
    if (std::holds_alternative<protocol::Done>(response->body)) return ok();
    auto* batch = std::get_if<Batch>(&response->body);
    if (batch == nullptr) return fail(ErrorCode::kProtocol, "the peer answered with an unexpected kind of reply");
    if (!each_frame(*batch)) return response->more ? cancel(id) : ok();
    if (!response->more) return ok();
    response = next_for(id, with_timeout);
  }
}

Status Client::Impl::stream_items(protocol::Op op, const std::function<bool(const std::string&)>& each) {
  return stream<protocol::Items>(std::move(op), true, [&](const protocol::Items& batch) {
    for (const std::string& item : batch.items) {
      if (!each(item)) return false;
    }
    return true;
  });
}

Status Client::smembers(std::string_view key, const std::function<bool(const std::string&)>& each) {
  return impl_->stream_items(protocol::Smembers{std::string(key)}, each);
}

Status Client::scan(std::string_view prefix, const std::function<bool(const std::string&)>& each) {
  return impl_->stream_items(protocol::Scan{std::string(prefix)}, each);
}

Status Client::watch(std::string_view prefix, const std::function<bool(const WatchEvent&)>& each) {
  return impl_->stream<protocol::Events>(protocol::Watch{std::string(prefix)}, /*with_timeout=*/false,
                                        [&](const protocol::Events& batch) {
                                          for (const WatchEvent& event : batch.events) {
                                            if (!each(event)) return false;
                                          }
                                          return true;
                                        });
}

}  // namespace cairn
