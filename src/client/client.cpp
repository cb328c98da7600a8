// cairn::Client over libuv: a private uv_loop_t per client, run only inside each call (UV_RUN_ONCE
// until the reply frame arrives, the timer fires or the connection ends), so the client has no thread
// and no blocking socket call outside libuv.
#include "cairn/client.h"

#include <uv.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "src/codec/frame.h"
#include "src/net/ip_address.h"
#include "src/protocol/protocol.h"
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

  // A request handed whole to the kernel, waiting for its reply.
  struct Sent {
    std::uint64_t id = 0;
    const char* name = "";  // The operation, for messages: "put", "get", ...
    bool changes_data = false;
    // The code when its reply does not come: kOutcomeUnknown, or kUnavailable for requests whose loss
    // changes nothing the caller acts on (auth during connect, watch).
    ErrorCode on_lost_reply = ErrorCode::kOutcomeUnknown;
    // The first wait for a reply frame: timeout_ms, plus the time the request's bytes may take.
    std::uint32_t wait_ms = 0;
  };

  // Sends `op` whole. kUnavailable when it could not be: the peer cannot have run it (a frame it did
  // not receive in full is never run).
  Result<Sent> send(protocol::Op op, ErrorCode on_lost_reply = ErrorCode::kOutcomeUnknown);
  // The next frame for `sent` (an error reply is a value here, not a failure; so is an error about an
  // unreadable frame, id 0). A timeout or a lost connection before the frame arrives fails with
  // sent.on_lost_reply (lost_reply).
  Result<Response> reply_to(const Sent& sent, bool with_timeout = true);
  // Sends `op` and returns its first reply frame.
  Result<Response> call(protocol::Op op, ErrorCode on_lost_reply = ErrorCode::kOutcomeUnknown);
  // Ends the stream of `sent` and drains its frames up to the last one.
  Status cancel(const Sent& sent);

  // Runs a streamed request: `each_frame` gets every reply frame's body of kind Batch until the last
  // one, or until it returns false (the stream is then cancelled and drained).
  template <typename Batch, typename Each>
  Status stream(protocol::Op op, bool with_timeout, ErrorCode on_lost_reply, Each&& each_frame);
  Status stream_items(protocol::Op op, const std::function<bool(const std::string&)>& each);
  Status watch(protocol::Watch request, const std::function<bool(const WatchEvent&)>& each);

 private:
  Status write_frame(const std::string& frame, std::uint32_t wait_ms);
  Status wait(const std::function<bool()>& done, std::optional<std::uint32_t> wait_ms, const char* what);
  Status broken(Error error);
  Error lost_reply(const Sent& sent, const Error& cause) const;
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
  std::uint64_t bytes_received_ = 0;  // Every byte read so far: a reply in progress extends a wait.
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
  auto target = net::resolve_ip(options_.host, options_.port);
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
    auto waited = wait([&] { return connect_status_.has_value(); }, options_.timeout_ms, "connecting");
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

// Runs the loop until `done`, a connection failure, or `wait_ms` with no byte received (none: no
// limit). Bytes arriving restart the wait with timeout_ms, so a large reply that keeps coming is not
// cut off however long it takes as a whole.
Status Client::Impl::wait(const std::function<bool()>& done, std::optional<std::uint32_t> wait_ms, const char* what) {
  const auto start_timer = [&](std::uint32_t ms) {
    timed_out_ = false;
    uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Impl*>(timer->data)->timed_out_ = true; }, ms, 0);
  };
  std::uint32_t limit_ms = wait_ms.value_or(0);
  if (wait_ms) start_timer(limit_ms);
  std::uint64_t received_at_start = bytes_received_;
  while (!done() && !failure_) {
    if (timed_out_) {
      if (bytes_received_ == received_at_start) break;
      received_at_start = bytes_received_;
      limit_ms = options_.timeout_ms;
      start_timer(limit_ms);
    }
    uv_run(&loop_, UV_RUN_ONCE);
  }
  uv_timer_stop(&timer_);
  const bool finished = done();
  timed_out_ = false;
  if (finished) return ok();
  if (failure_) return tl::unexpected(*failure_);
  return broken(Error(ErrorCode::kUnavailable, std::string("timed out after ") + std::to_string(limit_ms) + " ms " +
                                                   what + " " + address_));
}

// Writes `frame` and waits until libuv has handed all of it to the kernel, at most `wait_ms`.
Status Client::Impl::write_frame(const std::string& frame, std::uint32_t wait_ms) {
  uv_buf_t buffer = uv_buf_init(const_cast<char*>(frame.data()), static_cast<unsigned>(frame.size()));
  // The write runs on the application's thread, whose SIGPIPE disposition and mask are the
  // application's: a peer that closed must not kill it, and the mask must be as it was afterwards.
  // libuv writes with write(2), which takes no MSG_NOSIGNAL, so SIGPIPE is blocked around the write
  // and the one it raised is consumed (src/util/sigpipe.h); every write of the client happens here.
  SigpipeGuard sigpipe_guard;
  std::optional<int> status;
  uv_write_t write{};
  write.data = &status;
  if (int rc = uv_write(&write, as_stream(&tcp_), &buffer, 1,
                        [](uv_write_t* done, int result) { *static_cast<std::optional<int>*>(done->data) = result; });
      rc < 0) {
    return broken(Error(ErrorCode::kUnavailable, "cannot send to " + address_ + ": " + uv_strerror(rc)));
  }
  // The write request and the frame outlive this call only until libuv is done with them: wait for it.
  timed_out_ = false;
  uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<Impl*>(timer->data)->timed_out_ = true; }, wait_ms, 0);
  while (!status && !timed_out_) uv_run(&loop_, UV_RUN_ONCE);
  uv_timer_stop(&timer_);
  timed_out_ = false;
  // The callback runs a loop pass after the last byte went, so the timer may fire in between: an empty
  // write queue means the frame went whole, and its callback (which writes to `status`, on this stack
  // frame) is already queued for the next pass.
  if (!status && uv_stream_get_write_queue_size(as_stream(&tcp_)) == 0) {
    while (!status) uv_run(&loop_, UV_RUN_ONCE);
  }
  if (!status) {
    // Part of the frame never left, so the peer cannot run it. Closing the stream cancels the write,
    // whose callback then runs before we return.
    broken(Error(ErrorCode::kUnavailable, "timed out after " + std::to_string(wait_ms) + " ms sending " +
                                              std::to_string(frame.size()) + " bytes to " + address_));
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
  self.bytes_received_ += static_cast<std::uint64_t>(nread);
  self.consume(buffer->base, static_cast<std::size_t>(nread));
}

// Decodes every whole frame of the input into responses_.
void Client::Impl::consume(const char* data, std::size_t size) {
  input_.append(data, size);
  std::size_t start = 0;
  while (!failure_ && input_.size() - start >= codec::kFrameHeaderBytes) {
    const std::string_view available = std::string_view(input_).substr(start);
    const auto parsed = codec::parse_frame_header(available, kMaxResponsePayloadBytes);
    if (!parsed.ok || parsed.header.type != codec::FrameType::kClientResponse) {
      const bool version = !parsed.ok && parsed.error == codec::FrameError::kWrongVersion;
      broken(Error(version ? ErrorCode::kUnsupported : ErrorCode::kProtocol,
                   address_ + (version ? " speaks another protocol version" : " sent a frame that is not a reply")));
      break;
    }
    const std::size_t frame_bytes = codec::kFrameHeaderBytes + parsed.header.payload_length;
    if (available.size() < frame_bytes) break;
    auto response = protocol::decode_response(available.substr(codec::kFrameHeaderBytes, parsed.header.payload_length));
    if (!response) {
      broken(Error(ErrorCode::kProtocol, address_ + " sent an invalid reply: " + response.error().message()));
      break;
    }
    responses_.push_back(std::move(*response));
    start += frame_bytes;
  }
  input_.erase(0, start);
}

Result<Response> Client::Impl::reply_to(const Sent& sent, bool with_timeout) {
  // Each frame may take sent.wait_ms to start arriving: the first one waits for the peer to take in
  // and run the whole request, which grows with its size.
  const std::uint32_t wait_ms = sent.wait_ms;
  for (;;) {
    while (!responses_.empty()) {
      Response response = std::move(responses_.front());
      responses_.pop_front();
      if (response.id == sent.id || (response.id == 0 && std::holds_alternative<Error>(response.body))) return response;
      // A frame of an earlier, cancelled stream: skip it.
    }
    auto waited = wait([&] { return !responses_.empty(); }, with_timeout ? std::optional(wait_ms) : std::nullopt,
                       "waiting for a reply from");
    if (!waited) return tl::unexpected(lost_reply(sent, waited.error()));
  }
}

Error Client::Impl::lost_reply(const Sent& sent, const Error& cause) const {
  // Only a silent or vanished peer leaves the outcome open; a reply that arrived broken (kProtocol,
  // kUnsupported) is reported as what it is.
  if (cause.code() != ErrorCode::kUnavailable || sent.on_lost_reply != ErrorCode::kOutcomeUnknown) return cause;
  const std::string consequence = sent.changes_data
                                      ? "it may or may not have taken effect: read the key to find out"
                                      : "a read changes nothing: retry it";
  return Error(ErrorCode::kOutcomeUnknown,
               std::string(sent.name) + " was sent but no reply came (" + cause.message() + "); " + consequence);
}

namespace {

// The operation's name, for messages.
struct OpName {
  const char* operator()(const protocol::Put&) const { return "put"; }
  const char* operator()(const protocol::Get&) const { return "get"; }
  const char* operator()(const protocol::Del&) const { return "del"; }
  const char* operator()(const protocol::Sadd&) const { return "sadd"; }
  const char* operator()(const protocol::Srem&) const { return "srem"; }
  const char* operator()(const protocol::Sismember&) const { return "sismember"; }
  const char* operator()(const protocol::Smembers&) const { return "smembers"; }
  const char* operator()(const protocol::Incr&) const { return "incr"; }
  const char* operator()(const protocol::Decr&) const { return "decr"; }
  const char* operator()(const protocol::CounterGet&) const { return "counter"; }
  const char* operator()(const protocol::KindGet&) const { return "kind"; }
  const char* operator()(const protocol::Scan&) const { return "scan"; }
  const char* operator()(const protocol::Inspect&) const { return "inspect"; }
  const char* operator()(const protocol::StatusGet&) const { return "status"; }
  const char* operator()(const protocol::StatsGet&) const { return "stats"; }
  const char* operator()(const protocol::Watch&) const { return "watch"; }
  const char* operator()(const protocol::Cancel&) const { return "cancel"; }
  const char* operator()(const protocol::Auth&) const { return "auth"; }
  const char* operator()(const protocol::Retire&) const { return "retire"; }
  const char* operator()(const protocol::Backup&) const { return "backup"; }
};

bool changes_data(const protocol::Op& op) {
  return std::holds_alternative<protocol::Put>(op) || std::holds_alternative<protocol::Del>(op) ||
         std::holds_alternative<protocol::Sadd>(op) || std::holds_alternative<protocol::Srem>(op) ||
         std::holds_alternative<protocol::Incr>(op) || std::holds_alternative<protocol::Decr>(op) ||
         std::holds_alternative<protocol::Retire>(op);
}

// How long sending a request of `bytes`, and then waiting for the peer to take it in and run it, may
// take: timeout_ms plus 1 ms per KiB (1 MiB/s at the least), so a 16 MiB put gets 16 s more than a get.
std::uint32_t scaled_wait_ms(std::uint32_t timeout_ms, std::size_t bytes) {
  const std::uint64_t scaled = std::uint64_t{timeout_ms} + bytes / 1024;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(scaled, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

Result<Client::Impl::Sent> Client::Impl::send(protocol::Op op, ErrorCode on_lost_reply) {
  if (failure_) {
    return fail(ErrorCode::kUnavailable, std::string("not sent: the connection to ") + address_ +
                                             " is closed after an earlier failure (" + failure_->message() + ")");
  }
  Sent sent{++next_id_, std::visit(OpName{}, op), changes_data(op), on_lost_reply, 0};
  const std::string frame = protocol::encode_request_frame(protocol::Request{sent.id, std::move(op)});
  sent.wait_ms = scaled_wait_ms(options_.timeout_ms, frame.size());
  if (auto written = write_frame(frame, sent.wait_ms); !written) {
    return fail(ErrorCode::kUnavailable, std::string(sent.name) + " not sent: " + written.error().message());
  }
  return sent;
}

Result<Response> Client::Impl::call(protocol::Op op, ErrorCode on_lost_reply) {
  auto sent = send(std::move(op), on_lost_reply);
  if (!sent) return tl::unexpected(sent.error());
  return reply_to(*sent);
}

Status Client::Impl::cancel(const Sent& sent) {
  if (auto cancelled = send(protocol::Cancel{sent.id}); !cancelled) return tl::unexpected(cancelled.error());
  for (;;) {
    auto response = reply_to(sent);
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
    // The caller's request is not sent yet: a lost reply to auth is a failure to connect.
    if (auto accepted = as_status(impl->call(protocol::Auth{options.token}, ErrorCode::kUnavailable)); !accepted) {
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
Status Client::Impl::stream(protocol::Op op, bool with_timeout, ErrorCode on_lost_reply, Each&& each_frame) {
  auto sent = send(std::move(op), on_lost_reply);
  if (!sent) return tl::unexpected(sent.error());
  for (Result<Response> response = reply_to(*sent, with_timeout);; response = reply_to(*sent, with_timeout)) {
    if (!response) return tl::unexpected(response.error());
    if (auto* error = std::get_if<Error>(&response->body)) return tl::unexpected(std::move(*error));
    if (std::holds_alternative<protocol::Done>(response->body)) return ok();
    auto* batch = std::get_if<Batch>(&response->body);
    if (batch == nullptr) return fail(ErrorCode::kProtocol, "the peer answered with an unexpected kind of reply");
    if (!each_frame(*batch)) return response->more ? cancel(*sent) : ok();
    if (!response->more) return ok();
  }
}

Status Client::Impl::stream_items(protocol::Op op, const std::function<bool(const std::string&)>& each) {
  return stream<protocol::Items>(std::move(op), true, ErrorCode::kOutcomeUnknown, [&](const protocol::Items& batch) {
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

Status Client::backup(const std::function<bool(const std::string&)>& each) {
  return impl_->stream_items(protocol::Backup{}, each);
}

Status Client::watch(std::string_view prefix, const std::function<bool(const WatchEvent&)>& each) {
  return impl_->watch(protocol::Watch{std::string(prefix), false, {}}, each);
}

Status Client::watch_from(std::string_view prefix, std::string_view position,
                          const std::function<bool(const WatchEvent&)>& each) {
  return impl_->watch(protocol::Watch{std::string(prefix), true, std::string(position)}, each);
}

Status Client::Impl::watch(protocol::Watch request, const std::function<bool(const WatchEvent&)>& each) {
  // A watch has no outcome to lose: the connection ending ends it (kUnavailable).
  return stream<protocol::Events>(std::move(request), /*with_timeout=*/false,
                                        ErrorCode::kUnavailable, [&](const protocol::Events& batch) {
                                          for (const WatchEvent& event : batch.events) {
                                            if (!each(event)) return false;
                                          }
                                          return true;
                                        });
}

}  // namespace cairn
