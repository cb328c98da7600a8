#include "src/server/client_session.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>
#include <variant>

#include "src/codec/frame.h"
#include "src/util/log.h"

namespace cairn::server {
namespace {

using protocol::Body;
using protocol::Response;

bool is_zero(const std::array<std::uint8_t, 24>& bytes) {
  for (std::uint8_t byte : bytes) {
    if (byte != 0) return false;
  }
  return true;
}

bool is_stream(const protocol::Op& op) {
  return std::holds_alternative<protocol::Smembers>(op) || std::holds_alternative<protocol::Scan>(op) ||
         std::holds_alternative<protocol::Watch>(op) || std::holds_alternative<protocol::Backup>(op);
}

template <typename T>
Body to_body(Result<T> result) {
  if (!result) return std::move(result.error());
  return Body(std::move(*result));
}

Body to_body(Status status) {
  if (!status) return std::move(status.error());
  return protocol::Done{};
}

// The requests that are a store write, handed to Store::write_async as a batch of one (to_batch).
template <typename Op>
constexpr bool kIsWrite = std::is_same_v<Op, protocol::Put> || std::is_same_v<Op, protocol::Del> ||
                          std::is_same_v<Op, protocol::Sadd> || std::is_same_v<Op, protocol::Srem> ||
                          std::is_same_v<Op, protocol::Incr> || std::is_same_v<Op, protocol::Decr>;

bool is_write(const protocol::Op& op) {
  return std::visit([](const auto& request) { return kIsWrite<std::decay_t<decltype(request)>>; }, op);
}

WriteBatch to_batch(const protocol::Op& op) {
  return std::visit(
      [](const auto& request) {
        using Op = std::decay_t<decltype(request)>;
        WriteBatch batch;
        if constexpr (std::is_same_v<Op, protocol::Put>) batch.put(request.key, request.value);
        if constexpr (std::is_same_v<Op, protocol::Del>) batch.del(request.key);
        if constexpr (std::is_same_v<Op, protocol::Sadd>) batch.sadd(request.key, request.members);
        if constexpr (std::is_same_v<Op, protocol::Srem>) batch.srem(request.key, request.members);
        if constexpr (std::is_same_v<Op, protocol::Incr>) batch.incr(request.key, request.amount);
        if constexpr (std::is_same_v<Op, protocol::Decr>) batch.decr(request.key, request.amount);
        return batch;
      },
      op);
}

}  // namespace

// ---- SessionCounters ----

void SessionCounters::request(std::string_view op) {
  std::lock_guard lock(mutex_);
  ++stats_.requests_by_op[std::string(op)];
}

void SessionCounters::error_reply(ErrorCode code) {
  std::lock_guard lock(mutex_);
  ++stats_.error_replies_by_code[std::string(to_string(code))];
}

void SessionCounters::bad_frame(std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++stats_.bad_frames_by_reason[std::string(reason)];
}

void SessionCounters::bytes_in(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  stats_.bytes_in += bytes;
}

void SessionCounters::bytes_out(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  stats_.bytes_out += bytes;
}

void SessionCounters::connection_accepted() {
  std::lock_guard lock(mutex_);
  ++stats_.connections_accepted;
  ++stats_.connections_open;
}

void SessionCounters::connection_closed() {
  std::lock_guard lock(mutex_);
  --stats_.connections_open;
}

void SessionCounters::connection_refused() {
  std::lock_guard lock(mutex_);
  ++stats_.connections_refused;
}

void SessionCounters::authentication_failure() {
  std::lock_guard lock(mutex_);
  ++stats_.authentication_failures;
}

void SessionCounters::latency(std::string_view op, std::chrono::nanoseconds elapsed) {
  std::lock_guard lock(mutex_);
  metrics::observe(stats_.latency_by_op, op, elapsed);
}

ClientListenerStats SessionCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// ---- ClientSession: input ----

ClientSession::ClientSession(Services services, ClientListenerOptions options, SessionCounters& counters,
                             std::function<void()> wake)
    : services_(std::move(services)),
      options_(std::move(options)),
      counters_(counters),
      wake_(std::move(wake)),
      authenticated_(options_.client_token.empty()) {
  // Idempotent and thread-safe; it fails only without any OS randomness source, which hashing does not
  // need, so the token check works either way.
  if (!options_.client_token.empty() && sodium_init() < 0) log::warn("client", "libsodium found no randomness source");
}

ClientSession::~ClientSession() { shutdown(); }

void ClientSession::receive(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (input_closed_ || shut_down_) return;
  // Discard what is left of a refused frame's payload before buffering anything.
  const std::size_t skipped = std::min(skip_bytes_, bytes.size());
  skip_bytes_ -= skipped;
  input_.append(bytes.substr(skipped));
  decode_frames();
}

std::size_t ClientSession::in_flight() const { return queue_.size() + writes_.size() + (stream_id_ ? 1 : 0); }

void ClientSession::decode_frames() {
  std::size_t start = 0;
  while (!input_closed_ && in_flight() < options_.max_in_flight_requests) {
    const std::string_view available = std::string_view(input_).substr(start);
    if (available.size() < codec::kFrameHeaderBytes) break;
    const codec::HeaderResult parsed = codec::parse_frame_header(available, options_.max_frame_payload_bytes);
    if (!parsed.ok) {
      if (!refuse_header(parsed, start)) break;
      continue;
    }
    const std::size_t frame_bytes = codec::kFrameHeaderBytes + parsed.header.payload_length;
    if (available.size() < frame_bytes) break;
    start += frame_bytes;
    decode_frame(parsed.header, available.substr(codec::kFrameHeaderBytes, parsed.header.payload_length));
  }
  if (!input_closed_) input_.erase(0, start);
}

// Queues the error reply to a refused header. Returns true when the stream can go on (an oversized
// frame: its payload is skipped, `start` moves past what of it is buffered); false when it cannot be
// trusted any more.
bool ClientSession::refuse_header(const codec::HeaderResult& parsed, std::size_t& start) {
  const codec::FrameHeader& header = parsed.header;
  const std::string_view reason = to_string(parsed.error);
  if (parsed.error == codec::FrameError::kOversized) {
    queue_error(0,
                Error(ErrorCode::kLimitExceeded, "request frame of " + std::to_string(header.payload_length) +
                                                     " bytes is over the limit of " +
                                                     std::to_string(options_.max_frame_payload_bytes)),
                reason, /*fatal=*/false);
    start += codec::kFrameHeaderBytes;
    const std::size_t buffered = std::min<std::size_t>(header.payload_length, input_.size() - start);
    start += buffered;
    skip_bytes_ = header.payload_length - buffered;
    return true;
  }
  if (parsed.error == codec::FrameError::kWrongVersion) {
    queue_error(0,
                Error(ErrorCode::kUnsupported, "frame of protocol version " + std::to_string(header.version) +
                                                   "; this peer speaks version " +
                                                   std::to_string(codec::kProtocolVersion)),
                reason, /*fatal=*/true);
  } else {
    queue_error(0, Error(ErrorCode::kProtocol, "not a cairn client request frame"), reason, /*fatal=*/true);
  }
  return false;
}

// Queues the request a whole frame carries, or the error reply to it.
void ClientSession::decode_frame(const codec::FrameHeader& header, std::string_view payload) {
  if (header.type != codec::FrameType::kClientRequest) {
    return queue_error(0, Error(ErrorCode::kProtocol, "frame is not a client request"), "unknown_type", false);
  }
  if (header.flags != 0 || header.key_id != 0 || !is_zero(header.nonce)) {
    return queue_error(0, Error(ErrorCode::kUnsupported, "sealed or flagged frames are not supported by this peer"),
                       "sealed", false);
  }
  std::uint64_t id = 0;
  auto request = protocol::decode_request(payload, &id);
  if (!request) {
    const bool unknown = request.error().code() == ErrorCode::kUnsupported;
    return queue_error(id, std::move(request.error()), unknown ? "unknown_request" : "undecodable", false);
  }
  queue_request(std::move(*request));
}

void ClientSession::queue_error(std::uint64_t id, Error error, std::string_view reason, bool fatal) {
  if (!reason.empty()) counters_.bad_frame(reason);
  Item item;
  item.error_id = id;
  item.error = std::move(error);
  item.fatal = fatal;
  queue_.push_back(std::move(item));
  if (fatal) {
    input_closed_ = true;
    input_.clear();
  }
}

namespace {

// A BLAKE2b digest of each side, compared with sodium_memcmp: the time taken depends on neither the
// token nor how long a prefix of it the client guessed right (nor on the length it sent).
bool token_matches(std::string_view presented, std::string_view expected) {
  std::array<unsigned char, 32> a{}, b{};
  crypto_generichash(a.data(), a.size(), reinterpret_cast<const unsigned char*>(presented.data()), presented.size(),
                     nullptr, 0);
  crypto_generichash(b.data(), b.size(), reinterpret_cast<const unsigned char*>(expected.data()), expected.size(),
                     nullptr, 0);
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool ClientSession::authenticate(const protocol::Request& request) {
  const auto* auth = std::get_if<protocol::Auth>(&request.op);
  if (auth == nullptr && authenticated_) return true;
  if (auth != nullptr && (options_.client_token.empty() || token_matches(auth->token, options_.client_token))) {
    authenticated_ = true;
    return true;
  }
  counters_.authentication_failure();
  const std::string why = auth == nullptr ? "a request came before the client token (send auth first)"
                                          : "wrong client token";
  log::warn("client", "connection refused: " + why);
  queue_error(request.id, Error(ErrorCode::kUnauthenticated, why), /*reason=*/"", true);  // Counted above.
  return false;
}

void ClientSession::queue_request(protocol::Request request) {
  counters_.request(protocol::op_name(request.op));
  if (!authenticate(request)) return;
  if (const auto* cancel = std::get_if<protocol::Cancel>(&request.op)) {
    // Out of band: it must overtake the stream it ends. No reply of its own. Only a running or queued
    // stream or watch is remembered, so the set stays bounded by what is in flight.
    const std::uint64_t target = cancel->target;
    const bool queued = std::any_of(queue_.begin(), queue_.end(), [&](const Item& item) {
      return item.request && item.request->id == target && is_stream(item.request->op);
    });
    if (queued || stream_id_ == target || watches_.contains(target)) cancelled_.insert(target);
    return;
  }
  // A watch decoded after the input ended would never end: it ends at once.
  if (close_when_done_ && std::holds_alternative<protocol::Watch>(request.op)) cancelled_.insert(request.id);
  if (!std::holds_alternative<protocol::Watch>(request.op)) {
    received_.try_emplace(request.id, Received{protocol::op_name(request.op), std::chrono::steady_clock::now()});
  }
  Item item;
  item.request = std::move(request);
  queue_.push_back(std::move(item));
}

void ClientSession::end_of_input() {
  std::lock_guard lock(mutex_);
  // A partial frame at the end can never complete; what is whole is decoded already (or held back by
  // the in-flight limit, and decoded as steps make room).
  close_when_done_ = true;
  for (const auto& [id, watch] : watches_) cancelled_.insert(id);
  for (const Item& item : queue_) {
    if (item.request && std::holds_alternative<protocol::Watch>(item.request->op)) cancelled_.insert(item.request->id);
  }
}

bool ClientSession::wants_input() const {
  std::lock_guard lock(mutex_);
  return !input_closed_ && in_flight() < options_.max_in_flight_requests;
}

bool ClientSession::has_work() const {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  if (!writes_.empty()) {
    // Waiting for a commit: work only when one is answered, or more writes can join it.
    if (writes_.front_done()) return true;
    if (!queue_.empty() && queue_.front().request && is_write(queue_.front().request->op)) return true;
  } else if (!queue_.empty() || stream_id_) {
    return true;
  }
  for (const auto& [id, watch] : watches_) {
    if (!watch.pending.empty() || watch.overflowed || watch.catching_up || cancelled_.contains(id)) return true;
  }
  return false;
}

bool ClientSession::closing() const {
  std::lock_guard lock(mutex_);
  if (closing_) return true;
  // Done after end_of_input(): nothing queued, streaming or watching. (Whole frames the in-flight limit
  // held back are decoded by receive() as soon as the queue has room, so an empty queue means none.)
  return close_when_done_ && queue_.empty() && writes_.empty() && !stream_id_ && watches_.empty();
}

std::string ClientSession::take_output() {
  std::lock_guard lock(mutex_);
  return std::exchange(output_, {});
}

std::size_t ClientSession::output_bytes() const {
  std::lock_guard lock(mutex_);
  return output_.size();
}

// Every reply frame passes here, so this is where a request's latency ends: at its last frame.
void ClientSession::emit(Response response) {
  if (const auto* error = std::get_if<Error>(&response.body)) counters_.error_reply(error->code());
  std::string frame = protocol::encode_response_frame(response);
  std::optional<Received> answered;
  {
    std::lock_guard lock(mutex_);
    output_ += frame;
    if (auto found = received_.find(response.id); !response.more && found != received_.end()) {
      answered = found->second;
      received_.erase(found);
    }
  }
  if (answered) counters_.latency(answered->op, std::chrono::steady_clock::now() - answered->at);
}

// ---- ClientSession: work ----

std::size_t ClientSession::writes_in_flight() const {
  std::lock_guard lock(mutex_);
  return writes_.size();
}

void ClientSession::take_finished_writes(std::vector<Response>& replies) {
  for (; writes_.front_done(); writes_.pop_front()) {
    Result<bool>& outcome = writes_.front_outcome();
    Body body = outcome ? Body(protocol::Done{}) : Body(std::move(outcome.error()));
    replies.push_back(Response{writes_.front_payload(), false, std::move(body)});
  }
}

void ClientSession::submit_front_writes() {
  while (!queue_.empty() && queue_.front().request && is_write(queue_.front().request->op)) {
    WriteBatch batch = to_batch(queue_.front().request->op);
    auto completion = writes_.push(queue_.front().request->id, wake_);
    queue_.pop_front();
    // The completion takes no session lock (it may run right here, on a refusal before queueing).
    services_.store.write_async(std::move(batch), std::move(completion));
  }
}

void ClientSession::step() {
  if (watch_batch()) return;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;
    std::vector<Response> replies;
    take_finished_writes(replies);
    if (!stream_id_) submit_front_writes();
    if (!replies.empty() || !writes_.empty()) {
      lock.unlock();
      for (Response& reply : replies) emit(std::move(reply));
      return;  // A later request waits for the writes before it.
    }
    if (stream_id_) {
      lock.unlock();
      stream_batch();
      return;
    }
    if (queue_.empty()) return;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    if (!item.request) {
      if (item.fatal) closing_ = true;
      lock.unlock();
      emit(Response{item.error_id, false, std::move(*item.error)});
      return;
    }
    if (is_stream(item.request->op) && cancelled_.erase(item.request->id) > 0) {
      lock.unlock();
      emit(Response{item.request->id, false, protocol::Done{}});
      return;
    }
    lock.unlock();
    run(*item.request);
  }
}

bool ClientSession::next_step_is_quick() const {
  std::lock_guard lock(mutex_);
  if (shut_down_ || stream_id_ || !cancelled_.empty()) return false;
  for (const auto& [id, watch] : watches_) {
    if (!watch.pending.empty() || watch.overflowed || watch.catching_up) return false;  // step() does those first.
  }
  // Answering finished writes and handing writes to the store never waits for the disk.
  if (writes_.front_done()) return true;
  if (queue_.empty()) return false;
  const Item& item = queue_.front();
  if (item.request && is_write(item.request->op)) return true;
  if (!writes_.empty()) return false;
  if (!item.request) return true;
  const protocol::Op& op = item.request->op;
  return std::holds_alternative<protocol::Get>(op) || std::holds_alternative<protocol::Sismember>(op) ||
         std::holds_alternative<protocol::CounterGet>(op) || std::holds_alternative<protocol::KindGet>(op);
}

void ClientSession::run(const protocol::Request& request) {
  Store& store = services_.store;
  const std::uint64_t id = request.id;
  auto reply = [&](Body body) { emit(Response{id, false, std::move(body)}); };
  std::visit(
      [&](const auto& op) {
        using Op = std::decay_t<decltype(op)>;
        if constexpr (kIsWrite<Op>) {
          // Never reached: step() hands every write to Store::write_async (submit_front_writes) before
          // it runs anything else. Kept correct all the same: the same write, synchronously.
          auto written = store.write(to_batch(request.op));
          reply(written ? Body(protocol::Done{}) : Body(std::move(written.error())));
        } else if constexpr (std::is_same_v<Op, protocol::Get>) {
          reply(to_body(store.get(op.key)));
        } else if constexpr (std::is_same_v<Op, protocol::Sismember>) {
          auto member = store.sismember(op.key, op.member);
          reply(member ? Body(protocol::IsMember{*member}) : Body(std::move(member.error())));
        } else if constexpr (std::is_same_v<Op, protocol::Smembers>) {
          start_stream(id, store.smembers(op.key));
        } else if constexpr (std::is_same_v<Op, protocol::CounterGet>) {
          auto value = store.counter(op.key);
          reply(value ? Body(protocol::CounterValue{*value}) : Body(std::move(value.error())));
        } else if constexpr (std::is_same_v<Op, protocol::KindGet>) {
          reply(to_body(store.kind(op.key)));
        } else if constexpr (std::is_same_v<Op, protocol::Scan>) {
          start_stream(id, store.scan(op.prefix));
        } else if constexpr (std::is_same_v<Op, protocol::Inspect>) {
          reply(to_body(store.inspect(op.key)));
        } else if constexpr (std::is_same_v<Op, protocol::StatusGet>) {
          if (!services_.status) return reply(Error(ErrorCode::kUnsupported, "this peer serves no status"));
          reply(services_.status());
        } else if constexpr (std::is_same_v<Op, protocol::StatsGet>) {
          if (!services_.metrics) return reply(Error(ErrorCode::kUnsupported, "this peer serves no metrics"));
          reply(protocol::Stats{services_.metrics()});
        } else if constexpr (std::is_same_v<Op, protocol::Retire>) {
          if (!services_.retire) return reply(Error(ErrorCode::kUnsupported, "this peer cannot retire peers"));
          reply(to_body(services_.retire(op.replica)));
        } else if constexpr (std::is_same_v<Op, protocol::Backup>) {
          if (!services_.backup) return reply(Error(ErrorCode::kUnsupported, "this peer serves no backups"));
          start_stream(id, services_.backup());
        } else if constexpr (std::is_same_v<Op, protocol::Watch>) {
          start_watch(id, op);
        } else if constexpr (std::is_same_v<Op, protocol::Auth>) {
          reply(protocol::Done{});  // Checked on receipt (authenticate()).
        } else {
          static_assert(std::is_same_v<Op, protocol::Cancel>);  // Handled on receipt; never queued.
        }
      },
      request.op);
}

// ---- Streams ----

void ClientSession::start_stream(std::uint64_t id, Result<std::unique_ptr<Cursor>> cursor) {
  if (!cursor) return emit(Response{id, false, std::move(cursor.error())});
  stream_cursor_ = std::move(*cursor);
  {
    std::lock_guard lock(mutex_);
    stream_id_ = id;
  }
  stream_batch();
}

void ClientSession::stream_batch() {
  std::uint64_t id = 0;
  bool cancelled = false;
  {
    std::lock_guard lock(mutex_);
    id = *stream_id_;
    cancelled = cancelled_.erase(id) > 0;
  }
  protocol::Items batch;
  std::size_t bytes = 0;
  bool finished = cancelled;
  std::optional<Error> error;
  while (!finished && batch.items.size() < options_.stream_batch_items && bytes < options_.stream_batch_bytes) {
    auto item = stream_cursor_->next();
    if (!item) {
      error = std::move(item.error());
      finished = true;
    } else if (!*item) {
      finished = true;
    } else {
      bytes += (*item)->size();
      batch.items.push_back(std::move(**item));
    }
  }
  if (finished) {
    stream_cursor_.reset();
    std::lock_guard lock(mutex_);
    stream_id_.reset();
  }
  if (error) {
    // The items read so far still go out, then the error ends the stream.
    if (!batch.items.empty()) emit(Response{id, true, std::move(batch)});
    return emit(Response{id, false, std::move(*error)});
  }
  if (cancelled) return emit(Response{id, false, protocol::Done{}});
  emit(Response{id, !finished, std::move(batch)});
}

// ---- Watches ----

void ClientSession::start_watch(std::uint64_t id, const protocol::Watch& request) {
  bool refused = false;
  {
    std::lock_guard lock(mutex_);
    refused = watches_.size() >= options_.max_watches_per_connection || watches_.contains(id);
    if (!refused) {
      WatchState state;
      state.catching_up = request.resume;
      state.prefix = request.prefix;
      state.position = request.position;
      watches_.emplace(id, std::move(state));
    }
  }
  if (refused) {
    return emit(Response{id, false,
                         Error(ErrorCode::kLimitExceeded,
                               "a connection may run at most " + std::to_string(options_.max_watches_per_connection) +
                                   " watches, each with its own request id")});
  }
  if (request.resume) return;  // watch_batch reads its backlog, then subscribes (catch_up_watch).
  const std::uint64_t subscription =
      services_.store.subscribe(request.prefix, [this, id](const Change& change) { queue_watch_change(id, change); });
  {
    std::lock_guard lock(mutex_);
    watches_[id].subscription = subscription;
  }
  // An empty first batch tells the client the watch is active: every later change reaches it.
  emit(Response{id, true, protocol::Events{}});
}

void ClientSession::queue_watch_change(std::uint64_t id, const Change& change) {
  {
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found == watches_.end() || found->second.overflowed) return;
    WatchState& watch = found->second;
    const std::size_t size = change.key.size() + change.member.size() + change.value.size();
    if (watch.pending.size() >= options_.max_pending_watch_events ||
        watch.pending_bytes + size > options_.max_pending_watch_bytes) {
      watch.overflowed = true;
      watch.pending.clear();
      watch.pending_bytes = 0;
    } else {
      watch.pending.push_back(change);
      watch.pending_bytes += size;
    }
  }
  if (wake_) wake_();
}

namespace {

WatchEvent to_event(Change change) {
  WatchEvent event{std::move(change.key), change.kind, change.local, change.deleted};
  event.op = change.op;
  event.member = std::move(change.member);
  event.value = std::move(change.value);
  event.position = std::move(change.position);
  return event;
}

std::size_t event_bytes(const Change& change) { return change.key.size() + change.member.size() + change.value.size(); }

}  // namespace

void ClientSession::catch_up_watch(std::uint64_t id) {
  std::string prefix, position;
  {
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found == watches_.end()) return;
    prefix = found->second.prefix;
    position = found->second.position;
  }
  auto batch = services_.store.changes_since(prefix, position, options_.stream_batch_items);
  if (!batch) return end_watch(id, std::move(batch.error()));
  if (batch->caught_up) {
    // What committed since this read is replayed through the callback, then live changes follow,
    // each once (Store::subscribe_since); the events of `batch` go out first, as emitted below.
    auto subscription = services_.store.subscribe_since(
        prefix, batch->position, [this, id](const Change& change) { queue_watch_change(id, change); });
    if (!subscription) {
      emit_events(id, std::move(batch->changes));
      return end_watch(id, std::move(subscription.error()));
    }
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found != watches_.end()) {
      found->second.subscription = *subscription;
      found->second.catching_up = false;
    }
  } else {
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found != watches_.end()) found->second.position = batch->position;
  }
  // An empty batch still goes out: the first one tells the client the watch is active.
  emit_events(id, std::move(batch->changes));
}

void ClientSession::emit_events(std::uint64_t id, std::vector<Change> changes) {
  protocol::Events events;
  for (Change& change : changes) events.events.push_back(to_event(std::move(change)));
  emit(Response{id, true, std::move(events)});
}

// Sends one batch of one watch's events, or ends a cancelled or overflowed watch, or reads a batch of a
// resuming watch's backlog. False when no watch had anything to do.
bool ClientSession::watch_batch() {
  std::uint64_t id = 0;
  std::vector<Change> changes;
  bool cancelled = false, overflowed = false, catching_up = false;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return false;
    auto ready = std::find_if(watches_.begin(), watches_.end(), [&](const auto& entry) {
      return !entry.second.pending.empty() || entry.second.overflowed || entry.second.catching_up ||
             cancelled_.contains(entry.first);
    });
    if (ready == watches_.end()) return false;
    id = ready->first;
    cancelled = cancelled_.erase(id) > 0;
    overflowed = ready->second.overflowed;
    catching_up = ready->second.catching_up;
    std::size_t bytes = 0;
    while (!cancelled && !overflowed && !ready->second.pending.empty() &&
           changes.size() < options_.stream_batch_items) {
      // A batch stops before the event that would take it past stream_batch_bytes (one always goes),
      // so a frame holds at most one largest value.
      const std::size_t size = event_bytes(ready->second.pending.front());
      if (!changes.empty() && bytes + size > options_.stream_batch_bytes) break;
      bytes += size;
      ready->second.pending_bytes -= size;
      changes.push_back(std::move(ready->second.pending.front()));
      ready->second.pending.pop_front();
    }
  }
  if (cancelled) {
    end_watch(id, std::nullopt);
    return true;
  }
  if (overflowed) {
    end_watch(id, Error(ErrorCode::kLimitExceeded, "the watch fell more than " +
                                                       std::to_string(options_.max_pending_watch_events) +
                                                       " changes (or " + std::to_string(options_.max_pending_watch_bytes) +
                                                       " bytes) behind and was ended; resume it from its last position"));
    return true;
  }
  if (changes.empty() && catching_up) {
    catch_up_watch(id);
    return true;
  }
  emit_events(id, std::move(changes));
  return true;
}

void ClientSession::end_watch(std::uint64_t id, std::optional<Error> error) {
  std::uint64_t subscription = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = watches_.find(id);
    if (found == watches_.end()) return;
    subscription = found->second.subscription;
  }
  // Without the lock: the store's writer may be inside our callback, waiting for it.
  services_.store.unsubscribe(subscription);
  {
    std::lock_guard lock(mutex_);
    watches_.erase(id);
  }
  if (error) return emit(Response{id, false, std::move(*error)});
  emit(Response{id, false, protocol::Done{}});
}

void ClientSession::shutdown() {
  std::vector<std::uint64_t> subscriptions;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    for (const auto& [id, watch] : watches_) subscriptions.push_back(watch.subscription);
    queue_.clear();
    writes_.clear();  // Their completions hold their own entries; nobody answers them now.
    input_.clear();
  }
  for (std::uint64_t subscription : subscriptions) services_.store.unsubscribe(subscription);
  std::lock_guard lock(mutex_);
  watches_.clear();
  stream_cursor_.reset();
  stream_id_.reset();
}

}  // namespace cairn::server
