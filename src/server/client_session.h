// ClientSession: one client connection's protocol, without I/O (bytes in -> store calls -> frames out).
//
// The listener (client_listener.h) feeds it the bytes a socket receives and writes the frames it
// produces; tests drive it directly. It reads the stream as frames (the shared 40-byte header, then a
// Cap'n Proto Request), queues the requests, and answers them strictly in order, one step() at a
// time: one request, or one batch of a streamed reply (smembers, scan), or one batch of watch events.
// A streamed reply holds a store Cursor, never the whole set; the caller decides when to take the next
// step, which is how a slow reader holds back a stream (backpressure).
//
// Authentication. With ClientListenerOptions::client_token set, the first request must be an auth
// carrying that token (compared in constant time); it is answered done. Any other first request, or a
// wrong token, gets a kUnauthenticated error reply, is counted and logged, and the session closes: no
// request after it is read.
//
// Errors. A request the store refuses gets an error reply with the ErrorCode and message. A frame that
// cannot be a request (oversized, not a client request, a payload that does not decode, an unknown
// request kind) gets an error reply (id 0 when its id could not be read) in its place in the order,
// and the session goes on with the next frame. A stream that cannot be resynchronised (bad magic, an
// unknown frame type, another protocol version) gets an error reply, then closing() turns true and the
// rest of the input is ignored. Every such case is counted in SessionCounters.
//
// Writes. put, del, sadd, srem, incr and decr are handed to the store with Store::write_async (a batch
// of one, which is exactly that call) and never hold a thread: a step submits every write at the front
// of the queue and returns; the store's writer thread marks each one done after its commit and calls
// `wake`; a later step answers them in request order. A request after a write waits until that write
// is answered (so a read sees it), and replies keep request order.
//
// Threads. receive(), wants_input(), has_work(), closing() and take_output() may be called from one
// thread (the loop) while step() runs on another (a worker); at most one step() runs at a time (the
// caller's rule). step() calls the store without holding the session's lock. Watch callbacks run on
// the store's writer thread: they only copy the change into the session and call `wake`.
#pragma once

#include <chrono>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/metrics.h"
#include "cairn/node.h"
#include "cairn/status.h"
#include "cairn/store.h"
#include "src/codec/frame.h"
#include "src/metrics/latency_histogram.h"
#include "src/net/pending_writes.h"
#include "src/protocol/protocol.h"

namespace cairn::server {

// What the client protocol serves: the store, the node's status and metrics, and retiring a peer (any
// of the callbacks may be empty: its request then fails with kUnsupported). Every one of them is called
// on a worker thread of the listener, several at once: they must be thread-safe, and must not wait for
// the loop thread (the listener's close() joins its workers there).
struct Services {
  Store& store;
  std::function<NodeStatus()> status;
  std::function<std::vector<MetricSample>()> metrics;
  // Proposes retiring the dead or stopped peer with this replica id (Node::retire); its error, code
  // and message, is the reply.
  std::function<Status(std::uint64_t)> retire = {};
  // Starts a compacted snapshot of the store, as chunks of its bytes (store/backup_stream.h).
  std::function<Result<std::unique_ptr<Cursor>>()> backup = {};
};

struct ClientListenerOptions {
  // The token a client must present in an auth request before any other request (compared in constant
  // time). Empty: no authentication (tests of the protocol itself; a Node always sets one).
  std::string client_token;
  // A request frame announcing a larger payload is refused (error reply; its payload is skipped).
  std::size_t max_frame_payload_bytes = protocol::kDefaultMaxFramePayloadBytes;
  // Requests of one connection queued or running (a stream counts until its last batch); beyond it the
  // listener stops reading that connection until some are answered.
  std::size_t max_in_flight_requests = 256;
  // Connections open at once; one accepted beyond it is closed at once.
  std::size_t max_connections = 1024;
  // Reply bytes of one connection not yet taken by the kernel; beyond it no further step runs for that
  // connection (streams and watches wait for the client to read).
  std::size_t max_buffered_output_bytes = std::size_t{4} << 20;
  // One frame of a streamed reply holds at most this many items, and stops growing past this many bytes.
  std::size_t stream_batch_items = 1000;
  std::size_t stream_batch_bytes = std::size_t{256} << 10;
  // Watches one connection may run at once.
  std::size_t max_watches_per_connection = 16;
  // Changes a watch may hold unsent; a watch that falls further behind ends with kLimitExceeded.
  std::size_t max_pending_watch_events = 100'000;
  // Bytes of keys, members and values those changes may hold (events carry new values, up to 16 MiB).
  std::size_t max_pending_watch_bytes = std::size_t{64} << 20;
  // Threads of the listener's worker pool, which runs the store calls that may take long (streams,
  // status, metrics). Writes hold no thread (see ClientSession, "Writes").
  unsigned worker_threads = 8;
};

struct ClientListenerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t connections_refused = 0;  // Over max_connections.
  std::map<std::string, std::uint64_t> requests_by_op;         // "put", "get", ... (protocol::op_names()).
  std::map<std::string, std::uint64_t> error_replies_by_code;  // "not_found", "protocol", ... (to_string(ErrorCode)).
  // Frames that were not a valid request: "bad_magic", "wrong_version", "unknown_type", "oversized",
  // "undecodable" (codec::FrameError names), "sealed", "unknown_request".
  std::map<std::string, std::uint64_t> bad_frames_by_reason;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  // Connections closed because their first request was not an auth with the right token.
  std::uint64_t authentication_failures = 0;
  // Seconds from a request's last byte read to its (last) reply frame queued for the socket, by
  // operation; watches are not timed (they last as long as the client wants).
  metrics::LatencyByOp latency_by_op;
};

// Counters shared by every session of a listener. Thread-safe.
class SessionCounters {
 public:
  void request(std::string_view op);
  void error_reply(ErrorCode code);
  void bad_frame(std::string_view reason);
  void bytes_in(std::size_t bytes);
  void bytes_out(std::size_t bytes);
  void connection_accepted();
  void connection_closed();
  void connection_refused();
  void authentication_failure();
  void latency(std::string_view op, std::chrono::nanoseconds elapsed);
  ClientListenerStats snapshot() const;

 private:
  mutable std::mutex mutex_;
  ClientListenerStats stats_;
};

class ClientSession {
 public:
  // `services.store` and `counters` are borrowed and must outlive the session. `wake` (optional) is
  // called, from the store's writer thread, when a watch has new events for step().
  ClientSession(Services services, ClientListenerOptions options, SessionCounters& counters,
                std::function<void()> wake = {});
  // Ends every watch (as shutdown() does).
  ~ClientSession();

  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Appends received bytes and queues every whole request they complete, while fewer than
  // max_in_flight_requests are queued; the rest stays buffered until receive() is called again (with
  // no bytes, to resume decoding).
  void receive(std::string_view bytes);
  // The client sent its last byte (it half-closed the connection): the requests already received are
  // still answered, every watch ends, and closing() turns true once all of that is done.
  void end_of_input();
  // False while the in-flight limit holds requests back: stop reading the socket.
  bool wants_input() const;
  // True when step() has something to do.
  bool has_work() const;
  // True once the connection must be closed after the output is written.
  bool closing() const;
  // The reply frames produced so far, in order; the session forgets them.
  std::string take_output();
  std::size_t output_bytes() const;

  // Does one unit of work: the next request, one batch of the current stream, or one batch of a
  // watch's events. Calls the store. Never runs concurrently with itself.
  void step();
  // True when the next step() answers a request decided on receipt (an error) or runs one O(1) read
  // (get, sismember, counter get, kind get): an LMDB read, never an fsync, so the listener may run it
  // on the loop thread without a thread hop. False while a stream or watch events are pending.
  bool next_step_is_quick() const;

  // Ends every watch (unsubscribes) and drops queued work; later steps do nothing. Must not run
  // concurrently with step().
  void shutdown();

  // Writes handed to the store and not yet answered. While some are and none has completed, has_work()
  // is false: the store's completion calls `wake` (from its writer thread), and the next step answers.
  std::size_t writes_in_flight() const;

 private:
  // An entry of the in-order queue: a request to run, or the error reply to a frame that was not one.
  struct Item {
    std::optional<protocol::Request> request;
    std::uint64_t error_id = 0;
    std::optional<Error> error;
    bool fatal = false;  // Close the connection after this error reply.
  };
  struct WatchState {
    std::uint64_t subscription = 0;
    std::deque<Change> pending;
    std::size_t pending_bytes = 0;
    bool overflowed = false;
    // A watch that resumes (watchFrom) reads the change feed after `position`, a batch per step, until
    // it has caught up; then it subscribes from there (Store::subscribe_since) and goes live.
    bool catching_up = false;
    std::string prefix;
    std::string position;
  };

  void decode_frames();  // Under mutex_, as are the five below.
  bool refuse_header(const codec::HeaderResult& parsed, std::size_t& start);
  void decode_frame(const codec::FrameHeader& header, std::string_view payload);
  // Counts a bad frame of `reason` (none when empty) and queues its error reply.
  void queue_error(std::uint64_t id, Error error, std::string_view reason, bool fatal);
  void queue_request(protocol::Request request);
  // False (having queued the fatal error reply) when `request` may not run before authentication.
  bool authenticate(const protocol::Request& request);
  std::size_t in_flight() const;
  void emit(protocol::Response response);
  void run(const protocol::Request& request);
  // Under mutex_: hands every write request at the front of the queue to the store without waiting
  // (so a pipeline's writes, and other connections', join one commit), and takes the answered ones off
  // the front of writes_ into `replies`, in request order.
  void submit_front_writes();
  void take_finished_writes(std::vector<protocol::Response>& replies);
  void start_stream(std::uint64_t id, Result<std::unique_ptr<Cursor>> cursor);
  void stream_batch();
  void start_watch(std::uint64_t id, const protocol::Watch& request);
  // Queues one change for watch `id` (from the store's writer thread, or subscribe_since's replay).
  void queue_watch_change(std::uint64_t id, const Change& change);
  // One step of a resuming watch: the next batch of its backlog, or its switch to live changes.
  void catch_up_watch(std::uint64_t id);
  void emit_events(std::uint64_t id, std::vector<Change> changes);
  bool watch_batch();
  void end_watch(std::uint64_t id, std::optional<Error> error);

  Services services_;
  ClientListenerOptions options_;
  SessionCounters& counters_;
  std::function<void()> wake_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  std::string input_;
  std::size_t skip_bytes_ = 0;  // Payload bytes of a refused frame still to discard.
  bool input_closed_ = false;
  bool closing_ = false;
  bool close_when_done_ = false;  // After end_of_input().
  bool authenticated_ = false;    // Set by a valid auth request, or from the start with no token.
  std::deque<Item> queue_;
  net::PendingWrites<std::uint64_t> writes_;  // Request ids submitted, in request order; answered from the front.
  std::optional<std::uint64_t> stream_id_;  // The stream being answered, if any.
  std::set<std::uint64_t> cancelled_;
  std::map<std::uint64_t, WatchState> watches_;
  // When each request being answered was received, by id, until its last reply frame (emit()).
  struct Received {
    std::string_view op;  // protocol::op_name(), a static string.
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::uint64_t, Received> received_;
  std::string output_;
  bool shut_down_ = false;

  // Touched only by step().
  std::unique_ptr<Cursor> stream_cursor_;
};

}  // namespace cairn::server
