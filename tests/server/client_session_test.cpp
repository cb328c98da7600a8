#include "src/server/client_session.h"

#include <catch2/catch.hpp>

#include <thread>

#include <functional>
#include <string>
#include <vector>

#include "src/codec/frame.h"
#include "tests/server/protocol_test_support.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::server {
namespace {

using protocol::Request;
using protocol::Response;
using test::body_of;
using test::error_of;

// A session over a real store in a temp dir, driven by hand: send requests, run steps, read replies.
class Harness {
 public:
  // `retire` is the node's retire callback (none by default: retire requests are unsupported).
  explicit Harness(ClientListenerOptions options = {}, std::function<Status(std::uint64_t)> retire = {},
                   const StoreOptions& store_options = {})
      : store_(test::open_store(dir_.str(), store_options)),
        session_(Services{*store_, [] {
          NodeStatus status;
          status.replica_id = 42;
          status.gossip_port = 7400;
          status.ring_positions = {7};
          status.frames_dropped = 3;
          status.address = "127.0.0.1:7400";
          return status;
        },
                          [] { return std::vector<MetricSample>{{"cairn_up", "Up.", MetricType::kGauge, {{"a", "b"}}, 1}}; },
                          std::move(retire)},
                 options, counters_) {}

  Store& store() { return *store_; }
  ClientSession& session() { return session_; }
  SessionCounters& counters() { return counters_; }

  void send(const Request& request) { session_.receive(protocol::encode_request_frame(request)); }
  void send_bytes(std::string_view bytes) { session_.receive(bytes); }

  // Runs steps until the session has nothing to do; returns every reply produced.
  std::vector<Response> run() {
    // A write is answered once its commit is done (on the store's writer thread): wait for it.
    for (int guard = 0; (session_.has_work() || session_.writes_in_flight() > 0) && guard < 10'000'000; ++guard) {
      if (session_.has_work()) {
        session_.step();
        session_.receive({});  // Decodes what the in-flight limit held back, as the listener does.
      } else {
        std::this_thread::yield();
      }
    }
    output_ += session_.take_output();
    return test::take_responses(output_);
  }

  // One request, one reply.
  Response call(protocol::Op op) {
    send(Request{++next_id_, std::move(op)});
    auto replies = run();
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].id == next_id_);
    CHECK_FALSE(replies[0].more);
    return replies[0];
  }

 private:
  test::TempDir dir_;
  std::unique_ptr<Store> store_;
  SessionCounters counters_;
  ClientSession session_;
  std::string output_;
  std::uint64_t next_id_ = 0;
};

std::string frame_with(codec::FrameHeader header, std::string_view payload) {
  header.payload_length = static_cast<std::uint32_t>(payload.size());
  return codec::encode_frame_header(header) + std::string(payload);
}

// The listener runs a quick step on the loop thread (src/net/session_server.h): O(1) reads, and handing
// writes to the store (Store::write_async, which never waits for the disk), never a streamed reply. A
// request after a write waits until the write is answered, so a read sees it.
TEST_CASE("client session: O(1) reads and write submissions are quick steps, and a read waits for the write before it") {
  Harness h;
  CHECK_FALSE(h.session().next_step_is_quick());  // Nothing queued.
  h.send(Request{1, protocol::Get{"k"}});
  CHECK(h.session().next_step_is_quick());
  h.send(Request{2, protocol::Put{"k", "v"}});
  h.send(Request{3, protocol::Get{"k"}});
  h.session().step();                             // The get ...
  CHECK(h.session().next_step_is_quick());        // ... then the put is handed to the store ...
  h.session().step();
  CHECK(h.session().writes_in_flight() == 1);
  // ... and the get after it waits for its commit, then sees it.
  const std::vector<Response> replies = h.run();
  CHECK(h.session().writes_in_flight() == 0);
  REQUIRE(replies.size() == 3);  // The first get (not found), the put, the get after it.
  CHECK(replies[1].id == 2);
  REQUIRE(std::holds_alternative<RegisterValue>(replies[2].body));
  CHECK(std::get<RegisterValue>(replies[2].body).value == "v");
  for (protocol::Op op : std::vector<protocol::Op>{protocol::Sismember{"s", "a"}, protocol::CounterGet{"c"},
                                                   protocol::KindGet{"k"}}) {
    h.send(Request{4, op});
    CHECK(h.session().next_step_is_quick());
    h.session().step();
  }
  for (protocol::Op op : std::vector<protocol::Op>{protocol::Sadd{"s", {"a"}}, protocol::Incr{"c", 1},
                                                   protocol::Del{"k"}}) {
    h.send(Request{5, op});
    CHECK(h.session().next_step_is_quick());
    h.run();
  }
  for (protocol::Op op : std::vector<protocol::Op>{protocol::Smembers{"s"}, protocol::Scan{}}) {
    h.send(Request{6, op});
    CHECK_FALSE(h.session().next_step_is_quick());
    h.run();
  }
}

// Pipelined writes are all handed to the store before any is answered (so they can share a commit),
// and the read at the end of the pipeline sees the last of them.
TEST_CASE("client session: a pipeline of 1,000 puts then a get sees the last put") {
  Harness h;
  std::string frames;
  for (std::uint64_t i = 1; i <= 1000; ++i) {
    frames += protocol::encode_request_frame(Request{i, protocol::Put{"k", "v" + std::to_string(i)}});
  }
  frames += protocol::encode_request_frame(Request{1001, protocol::Get{"k"}});
  h.session().receive(frames);
  h.session().step();
  CHECK(h.session().writes_in_flight() > 1);  // Several puts in flight at once, no thread held.
  const std::vector<Response> responses = h.run();
  REQUIRE(responses.size() == 1001);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    CHECK(responses[i].id == i + 1);  // In request order.
    CHECK(std::holds_alternative<protocol::Done>(responses[i].body));
  }
  CHECK(responses[1000].id == 1001);
  REQUIRE(std::holds_alternative<RegisterValue>(responses[1000].body));
  CHECK(std::get<RegisterValue>(responses[1000].body).value == "v1000");
}

TEST_CASE("client session: every register, set and counter operation") {
  Harness h;
  body_of<protocol::Done>(h.call(protocol::Put{"k", "v"}));
  CHECK(body_of<RegisterValue>(h.call(protocol::Get{"k"})).value == "v");
  CHECK(body_of<ValueKind>(h.call(protocol::KindGet{"k"})) == ValueKind::kRegister);
  body_of<protocol::Done>(h.call(protocol::Del{"k"}));
  CHECK(error_of(h.call(protocol::Get{"k"})).code() == ErrorCode::kNotFound);

  body_of<protocol::Done>(h.call(protocol::Sadd{"s", {"a", "b", "c"}}));
  body_of<protocol::Done>(h.call(protocol::Srem{"s", {"b"}}));
  CHECK(body_of<protocol::IsMember>(h.call(protocol::Sismember{"s", "a"})).value);
  CHECK_FALSE(body_of<protocol::IsMember>(h.call(protocol::Sismember{"s", "b"})).value);
  CHECK(error_of(h.call(protocol::Get{"s"})).code() == ErrorCode::kWrongType);

  body_of<protocol::Done>(h.call(protocol::Incr{"c", 5}));
  body_of<protocol::Done>(h.call(protocol::Decr{"c", 2}));
  CHECK(body_of<protocol::CounterValue>(h.call(protocol::CounterGet{"c"})).value == 3);

  const Response inspected = h.call(protocol::Inspect{"c"});
  const auto& inspection = body_of<KeyInspection>(inspected);
  CHECK(inspection.kind == ValueKind::kCounter);
  CHECK(inspection.counter_value == 3);
  CHECK(inspection.counter_parts.size() == 1);

  const Response status_reply = h.call(protocol::StatusGet{});
  const auto& status = body_of<NodeStatus>(status_reply);
  CHECK(status.replica_id == 42);
  CHECK(status.ring_positions == std::vector<std::uint64_t>{7});
  const Response stats_reply = h.call(protocol::StatsGet{});
  const auto& stats = body_of<protocol::Stats>(stats_reply);
  REQUIRE(stats.samples.size() == 1);
  CHECK(stats.samples[0].labels[0].second == "b");
  CHECK(h.counters().snapshot().requests_by_op["put"] == 1);
  CHECK(h.counters().snapshot().error_replies_by_code["not_found"] == 1);
}

TEST_CASE("client session: store errors come back with their code and message") {
  Harness h;
  CHECK(error_of(h.call(protocol::Put{"", "v"})).code() == ErrorCode::kInvalidArgument);
  CHECK(error_of(h.call(protocol::Put{std::string(kMaxKeyBytes + 1, 'k'), "v"})).code() ==
        ErrorCode::kLimitExceeded);
  CHECK(error_of(h.call(protocol::CounterGet{"missing"})).code() == ErrorCode::kNotFound);
}

// ---- Retiring a peer (Services::retire) ----

// A stand-in for Node::retire: records what it was asked, answers `answer`.
struct FakeRetire {
  Status answer = ok();
  std::vector<std::uint64_t> asked;
  std::function<Status(std::uint64_t)> callback() {
    return [this](std::uint64_t replica) {
      asked.push_back(replica);
      return answer;
    };
  }
};

TEST_CASE("client session: retire calls the node's callback with the replica id and answers done") {
  FakeRetire fake;
  Harness h({}, fake.callback());
  body_of<protocol::Done>(h.call(protocol::Retire{0x00c0ffee12345678}));
  CHECK(fake.asked == std::vector<std::uint64_t>{0x00c0ffee12345678});
  CHECK(h.counters().snapshot().requests_by_op["retire"] == 1);
}

TEST_CASE("client session: the node's retire error comes back with its code and message") {
  FakeRetire fake;
  const std::string message = "member 0000000000000007 is reachable: stop it (or wait until it is dead) before retiring it";
  fake.answer = fail(ErrorCode::kInvalidArgument, message);
  Harness h({}, fake.callback());
  CHECK(error_of(h.call(protocol::Retire{7})) == Error(ErrorCode::kInvalidArgument, message));
  fake.answer = fail(ErrorCode::kNotFound, "no member 0000000000000009 is known here");
  CHECK(error_of(h.call(protocol::Retire{9})) == Error(ErrorCode::kNotFound, "no member 0000000000000009 is known here"));
  CHECK(fake.asked == std::vector<std::uint64_t>{7, 9});
  CHECK(h.counters().snapshot().error_replies_by_code["invalid_argument"] == 1);
  body_of<protocol::Done>(h.call(protocol::Put{"k", "v"}));  // The session goes on serving.
}

TEST_CASE("client session: retire without a retire callback is unsupported") {
  Harness h;
  const Error error = error_of(h.call(protocol::Retire{7}));
  CHECK(error.code() == ErrorCode::kUnsupported);
  CHECK_THAT(error.message(), Catch::Contains("retire"));
}

TEST_CASE("client session: smembers and scan stream in batches, in order") {
  ClientListenerOptions options;
  options.stream_batch_items = 10;
  Harness h(options);
  std::vector<std::string> members;
  for (int i = 0; i < 95; ++i) members.push_back("m" + std::to_string(1000 + i));
  REQUIRE(h.store().sadd("set", members));
  for (int i = 0; i < 25; ++i) REQUIRE(h.store().put("key" + std::to_string(100 + i), "v"));

  h.send(Request{1, protocol::Smembers{"set"}});
  h.send(Request{2, protocol::Scan{"key"}});
  h.send(Request{3, protocol::Get{"key100"}});
  auto replies = h.run();
  std::vector<std::string> streamed, keys;
  std::size_t i = 0;
  for (; i < replies.size() && replies[i].id == 1; ++i) {
    const auto& items = body_of<protocol::Items>(replies[i]).items;
    CHECK(items.size() <= 10);
    streamed.insert(streamed.end(), items.begin(), items.end());
    CHECK(replies[i].more == (streamed.size() < 95));
  }
  CHECK(streamed == members);
  CHECK_FALSE(replies[i - 1].more);
  for (; i < replies.size() && replies[i].id == 2; ++i) {
    const auto& items = body_of<protocol::Items>(replies[i]).items;
    keys.insert(keys.end(), items.begin(), items.end());
  }
  CHECK(keys.size() == 25);
  REQUIRE(i + 1 == replies.size());
  CHECK(replies[i].id == 3);
}

TEST_CASE("client session: a stream is cancelled by a cancel request, which overtakes it") {
  ClientListenerOptions options;
  options.stream_batch_items = 10;
  Harness h(options);
  std::vector<std::string> members;
  for (int i = 0; i < 1000; ++i) members.push_back("m" + std::to_string(i));
  REQUIRE(h.store().sadd("set", members));
  h.send(Request{1, protocol::Smembers{"set"}});
  h.session().step();  // The first batch.
  h.send(Request{2, protocol::Cancel{1}});
  h.send(Request{3, protocol::KindGet{"set"}});
  auto replies = h.run();
  REQUIRE(replies.size() == 3);  // First batch, the end of the cancelled stream, the kind.
  CHECK(replies[0].more);
  CHECK(replies[1].id == 1);
  CHECK_FALSE(replies[1].more);
  CHECK(replies[2].id == 3);
}

TEST_CASE("client session: pipelined requests split anywhere are answered in order") {
  Harness h;
  std::string bytes;
  for (std::uint64_t id = 1; id <= 50; ++id) {
    bytes += protocol::encode_request_frame(Request{id, protocol::Incr{"n", 1}});
    bytes += protocol::encode_request_frame(Request{1000 + id, protocol::CounterGet{"n"}});
  }
  for (std::size_t at = 0; at < bytes.size(); at += 7) h.send_bytes(std::string_view(bytes).substr(at, 7));
  auto replies = h.run();
  REQUIRE(replies.size() == 100);
  for (std::uint64_t i = 0; i < 50; ++i) {
    CHECK(replies[2 * i].id == i + 1);
    CHECK(replies[2 * i + 1].id == 1001 + i);
    CHECK(body_of<protocol::CounterValue>(replies[2 * i + 1]).value == static_cast<std::int64_t>(i + 1));
  }
}

TEST_CASE("client session: the in-flight limit holds requests back until answered") {
  ClientListenerOptions options;
  options.max_in_flight_requests = 3;
  Harness h(options);
  std::string bytes;
  for (std::uint64_t id = 1; id <= 10; ++id) bytes += protocol::encode_request_frame(Request{id, protocol::Incr{"n", 1}});
  h.send_bytes(bytes);
  CHECK_FALSE(h.session().wants_input());
  std::vector<Response> replies;
  while (replies.size() < 10) {
    auto more = h.run();
    REQUIRE_FALSE(more.empty());
    replies.insert(replies.end(), more.begin(), more.end());
    h.send_bytes({});  // Resume decoding what was held back.
  }
  CHECK(h.session().wants_input());
  CHECK(replies.back().id == 10);
  CHECK(h.store().counter("n").value() == 10);
}

TEST_CASE("client session: a wrong protocol version gets an error reply, then the session closes") {
  Harness h;
  codec::FrameHeader header;
  header.type = codec::FrameType::kClientRequest;
  std::string frame = protocol::encode_request_frame(Request{1, protocol::Get{"k"}});
  frame[4] = 2;  // The version byte.
  h.send_bytes(frame);
  h.send(Request{2, protocol::Get{"k"}});  // Ignored: the stream is not trusted any more.
  auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kUnsupported);
  CHECK(h.session().closing());
  CHECK(h.counters().snapshot().bad_frames_by_reason["wrong_version"] == 1);
}

TEST_CASE("client session: garbage (bad magic) gets an error reply and closes") {
  Harness h;
  h.send_bytes(std::string(64, 'x'));
  auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kProtocol);
  CHECK(h.session().closing());
}

TEST_CASE("client session: an oversized frame is refused from its header and skipped, the next is served") {
  ClientListenerOptions options;
  options.max_frame_payload_bytes = 1024;
  Harness h(options);
  h.send(Request{1, protocol::Put{"k", std::string(4096, 'v')}});
  h.send(Request{2, protocol::Put{"k", "small"}});
  auto replies = h.run();
  REQUIRE(replies.size() == 2);
  CHECK(error_of(replies[0]).code() == ErrorCode::kLimitExceeded);
  CHECK(replies[1].id == 2);
  body_of<protocol::Done>(replies[1]);
  CHECK_FALSE(h.session().closing());
  CHECK(h.counters().snapshot().bad_frames_by_reason["oversized"] == 1);
}

TEST_CASE("client session: an undecodable payload or another frame type gets an error reply, in order") {
  Harness h;
  codec::FrameHeader header;
  header.type = codec::FrameType::kClientRequest;
  h.send(Request{1, protocol::Put{"k", "v"}});
  h.send_bytes(frame_with(header, std::string(16, '\x7f')));
  header.type = codec::FrameType::kPeerMessage;
  h.send_bytes(frame_with(header, std::string(8, '\0')));
  h.send(Request{4, protocol::Get{"k"}});
  auto replies = h.run();
  REQUIRE(replies.size() == 4);
  body_of<protocol::Done>(replies[0]);
  CHECK(error_of(replies[1]).code() == ErrorCode::kProtocol);
  CHECK(error_of(replies[2]).code() == ErrorCode::kProtocol);
  CHECK(body_of<RegisterValue>(replies[3]).value == "v");
  CHECK_FALSE(h.session().closing());
}

TEST_CASE("client session: a watch reports local writes until cancelled") {
  Harness h;
  h.send(Request{7, protocol::Watch{"w/"}});
  auto started = h.run();
  REQUIRE(started.size() == 1);
  CHECK(started[0].more);
  CHECK(body_of<protocol::Events>(started[0]).events.empty());

  REQUIRE(h.store().put("w/a", "1"));
  REQUIRE(h.store().put("other", "1"));
  REQUIRE(h.store().sadd("w/s", {"x"}));
  REQUIRE(h.store().del("w/a"));
  std::vector<WatchEvent> events;
  for (const Response& r : h.run()) {
    CHECK(r.id == 7);
    CHECK(r.more);
    const auto& batch = body_of<protocol::Events>(r).events;
    events.insert(events.end(), batch.begin(), batch.end());
  }
  REQUIRE(events.size() == 3);
  CHECK(events[0].key == "w/a");
  CHECK(events[0].local);
  CHECK(events[1].key == "w/s");
  CHECK(events[1].kind == ValueKind::kSet);
  CHECK(events[2].key == "w/a");
  CHECK(events[2].deleted);

  h.send(Request{8, protocol::Cancel{7}});
  auto ended = h.run();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].id == 7);
  CHECK_FALSE(ended[0].more);
  REQUIRE(h.store().put("w/b", "1"));
  CHECK(h.run().empty());
}

TEST_CASE("client session: a watch that falls too far behind ends with kLimitExceeded") {
  ClientListenerOptions options;
  options.max_pending_watch_events = 5;
  Harness h(options);
  h.send(Request{1, protocol::Watch{""}});
  h.run();
  for (int i = 0; i < 10; ++i) REQUIRE(h.store().put("k" + std::to_string(i), "v"));
  auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kLimitExceeded);
}

// Every event of watch `id` in `replies`; `ended` says whether its last frame came.
std::vector<WatchEvent> events_of(const std::vector<Response>& replies, std::uint64_t id, bool* ended = nullptr) {
  std::vector<WatchEvent> events;
  for (const Response& r : replies) {
    if (r.id != id) continue;
    if (!r.more && ended != nullptr) *ended = true;
    if (!std::holds_alternative<protocol::Events>(r.body)) continue;
    const auto& batch = body_of<protocol::Events>(r).events;
    events.insert(events.end(), batch.begin(), batch.end());
  }
  return events;
}

TEST_CASE("client session: watch events carry the operation, the new value and a position") {
  Harness h;
  h.send(Request{7, protocol::Watch{"w/", false, {}}});
  h.run();
  REQUIRE(h.store().put("w/a", "1"));
  REQUIRE(h.store().sadd("w/s", {"x"}));
  REQUIRE(h.store().incr("w/c", 3));
  REQUIRE(h.store().del("w/a"));
  const auto events = events_of(h.run(), 7);
  REQUIRE(events.size() == 4);
  CHECK((events[0].op == ChangeOp::kPut && events[0].value == "1" && !events[0].deleted));
  CHECK((events[1].op == ChangeOp::kSadd && events[1].member == "x"));
  CHECK((events[2].op == ChangeOp::kCounter && events[2].value == "3"));
  CHECK((events[3].op == ChangeOp::kDel && events[3].deleted));
  for (const WatchEvent& event : events) CHECK_FALSE(event.position.empty());
  CHECK(events[3].position == *h.store().change_position());
}

TEST_CASE("client session: a watch resumed from its last position gets every missed change once, in order") {
  ClientListenerOptions options;
  options.stream_batch_items = 7;  // The backlog spans several batches.
  Harness h(options);
  // The first watch sees some changes, then "disconnects" (is cancelled) while writes go on.
  h.send(Request{1, protocol::Watch{"", false, {}}});
  h.run();
  for (int i = 0; i < 5; ++i) REQUIRE(h.store().put("k" + std::to_string(i), "v" + std::to_string(i)));
  const auto seen = events_of(h.run(), 1);
  REQUIRE(seen.size() == 5);
  h.send(Request{2, protocol::Cancel{1}});
  h.run();
  for (int i = 5; i < 40; ++i) REQUIRE(h.store().put("k" + std::to_string(i), "v" + std::to_string(i)));
  // Reconnect from the last position seen: the 35 missed changes, then live ones.
  h.send(Request{3, protocol::Watch{"", true, seen.back().position}});
  auto resumed = events_of(h.run(), 3);
  REQUIRE(h.store().put("k40", "v40"));
  REQUIRE(h.store().put("k41", "v41"));
  const auto live = events_of(h.run(), 3);
  resumed.insert(resumed.end(), live.begin(), live.end());
  REQUIRE(resumed.size() == 37);
  for (int i = 0; i < 37; ++i) {
    CHECK(resumed[i].key == "k" + std::to_string(i + 5));
    CHECK(resumed[i].value == "v" + std::to_string(i + 5));
  }
  h.send(Request{4, protocol::Cancel{3}});
  bool ended = false;
  CHECK(events_of(h.run(), 3, &ended).empty());
  CHECK(ended);
}

TEST_CASE("client session: a resumed watch whose position expired or is malformed ends with an error") {
  StoreOptions store_options;
  store_options.change_retention.max_changes = 3;
  Harness h({}, {}, store_options);
  REQUIRE(h.store().put("a", "1"));
  const std::string old = *h.store().change_position();
  for (int i = 0; i < 10; ++i) REQUIRE(h.store().put("k" + std::to_string(i), "v"));
  h.send(Request{1, protocol::Watch{"", true, old}});
  auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kPositionExpired);
  h.send(Request{2, protocol::Watch{"", true, "not a position"}});
  replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kInvalidArgument);
  // From the oldest kept change ("" position): the three kept, then live.
  h.send(Request{3, protocol::Watch{"", true, ""}});
  CHECK(events_of(h.run(), 3).size() == 3);
}

TEST_CASE("client session: after the end of input every request is answered, watches end, then it closes") {
  Harness h;
  h.send(Request{1, protocol::Watch{""}});
  h.run();
  h.send(Request{2, protocol::Put{"k", "v"}});
  h.send(Request{3, protocol::Watch{"x"}});
  h.session().end_of_input();
  CHECK_FALSE(h.session().closing());
  auto replies = h.run();
  REQUIRE(replies.size() == 3);  // The first watch ends, the put, the second watch ends unstarted.
  CHECK(replies[0].id == 1);
  CHECK_FALSE(replies[0].more);
  CHECK(replies[1].id == 2);
  CHECK(replies[2].id == 3);
  CHECK_FALSE(replies[2].more);
  CHECK(h.session().closing());
}

// ---- Authentication (docs/security.md) ----

ClientListenerOptions with_token(std::string token) {
  ClientListenerOptions options;
  options.client_token = std::move(token);
  return options;
}

TEST_CASE("client session: with a token, auth must come first, then every request runs") {
  Harness h(with_token("correct horse"));
  body_of<protocol::Done>(h.call(protocol::Auth{"correct horse"}));
  body_of<protocol::Done>(h.call(protocol::Put{"k", "v"}));
  CHECK(body_of<RegisterValue>(h.call(protocol::Get{"k"})).value == "v");
  CHECK(h.counters().snapshot().authentication_failures == 0);
  CHECK_FALSE(h.session().closing());
}

TEST_CASE("client session: a wrong token is refused with kUnauthenticated, counted, and closes the session") {
  for (const std::string wrong : {"correct horsf", "correct", "correct horse battery", ""}) {
    INFO("token '" << wrong << "'");
    Harness h(with_token("correct horse"));
    h.send(Request{1, protocol::Auth{wrong}});
    h.send(Request{2, protocol::Put{"k", "injected"}});  // Pipelined behind it: never runs.
    const auto replies = h.run();
    REQUIRE(replies.size() == 1);
    CHECK(replies[0].id == 1);
    CHECK(error_of(replies[0]).code() == ErrorCode::kUnauthenticated);
    CHECK(h.session().closing());
    CHECK(h.counters().snapshot().authentication_failures == 1);
    CHECK_FALSE(h.store().get("k").has_value());
  }
}

TEST_CASE("client session: any request before auth is refused with kUnauthenticated and nothing runs") {
  Harness h(with_token("t0ken"));
  h.store().put("secret", "s");
  h.send(Request{7, protocol::Get{"secret"}});
  h.send(Request{8, protocol::Auth{"t0ken"}});  // Too late: the session reads nothing after the refusal.
  const auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].id == 7);
  const Error error = error_of(replies[0]);
  CHECK(error.code() == ErrorCode::kUnauthenticated);
  CHECK_THAT(error.message(), Catch::Contains("auth"));
  CHECK(h.session().closing());
  h.send(Request{9, protocol::Put{"k", "v"}});
  CHECK(h.run().empty());
  CHECK_FALSE(h.store().get("k").has_value());
}

TEST_CASE("client session: a retire before auth is refused with kUnauthenticated and never reaches the node") {
  FakeRetire fake;
  Harness h(with_token("t0ken"), fake.callback());
  h.send(Request{1, protocol::Retire{7}});
  const auto replies = h.run();
  REQUIRE(replies.size() == 1);
  CHECK(error_of(replies[0]).code() == ErrorCode::kUnauthenticated);
  CHECK(fake.asked.empty());
  CHECK(h.session().closing());
}

TEST_CASE("client session: without a token configured, requests run without auth") {
  Harness h;
  body_of<protocol::Done>(h.call(protocol::Put{"k", "v"}));
  body_of<protocol::Done>(h.call(protocol::Auth{"anything"}));
}

}  // namespace
}  // namespace cairn::server
