#include "src/protocol/protocol.h"

#include <catch2/catch.hpp>

#include <limits>

#include <string>
#include <vector>

#include "src/codec/frame.h"
#include "tests/server/protocol_test_support.h"

namespace cairn::protocol {
namespace {

std::string payload_of(const std::string& frame) {
  const auto header = codec::parse_frame_header(frame);
  REQUIRE(header.ok);
  REQUIRE(frame.size() == codec::kFrameHeaderBytes + header.header.payload_length);
  return frame.substr(codec::kFrameHeaderBytes);
}

Request round_trip(const Request& request) {
  const std::string frame = encode_request_frame(request);
  CHECK(codec::parse_frame_header(frame).header.type == codec::FrameType::kClientRequest);
  auto decoded = decode_request(payload_of(frame));
  INFO((decoded ? std::string("ok") : decoded.error().to_string()));
  REQUIRE(decoded.has_value());
  CHECK(decoded->id == request.id);
  CHECK(decoded->op.index() == request.op.index());
  return *decoded;
}

Response round_trip(const Response& response) {
  auto decoded = decode_response(payload_of(encode_response_frame(response)));
  INFO((decoded ? std::string("ok") : decoded.error().to_string()));
  REQUIRE(decoded.has_value());
  CHECK(decoded->id == response.id);
  CHECK(decoded->more == response.more);
  CHECK(decoded->body.index() == response.body.index());
  return *decoded;
}

TEST_CASE("client protocol: every request kind survives encoding, binary keys included") {
  const std::string key("k\0\xff", 3);
  const std::vector<Op> ops = {Put{key, std::string("v\0", 2)}, Get{key}, Del{key}, Sadd{key, {"a", "b"}},
                               Srem{key, {"a"}}, Sismember{key, "a"}, Smembers{key}, Incr{key, 7}, Decr{key, 3},
                               CounterGet{key}, KindGet{key}, Scan{"p"}, Inspect{key}, StatusGet{}, StatsGet{},
                               Watch{"w"}, Cancel{99}, Auth{std::string("t\0ken", 5)},
                               Retire{0xfedcba9876543210}, Backup{}};
  REQUIRE(ops.size() == op_names().size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Request decoded = round_trip(Request{i + 1, ops[i]});
    CHECK(op_name(decoded.op) == op_names()[i]);
  }
  const auto put = std::get<Put>(round_trip(Request{1, ops[0]}).op);
  CHECK(put.key == key);
  CHECK(put.value == std::string("v\0", 2));
  CHECK(std::get<Sadd>(round_trip(Request{1, ops[3]}).op).members == std::vector<std::string>{"a", "b"});
  CHECK(std::get<Incr>(round_trip(Request{1, ops[7]}).op).amount == 7);
  CHECK(std::get<Cancel>(round_trip(Request{1, ops[16]}).op).target == 99);
  CHECK(std::get<Auth>(round_trip(Request{1, ops[17]}).op).token == std::string("t\0ken", 5));
  CHECK(std::get<Retire>(round_trip(Request{1, ops[18]}).op).replica == 0xfedcba9876543210);
  CHECK(op_name(Retire{}) == "retire");
  CHECK(op_name(Backup{}) == "backup");
}

TEST_CASE("client protocol: an out_of_range error travels, and outcome_unknown, the client's own verdict, does not") {
  const Error out_of_range(ErrorCode::kOutOfRange, "increment or decrement would overflow: counter 'n'");
  CHECK(std::get<Error>(round_trip(Response{1, false, out_of_range}).body) == out_of_range);
  const std::string frame = encode_response_frame(Response{2, false, Error(ErrorCode::kOutcomeUnknown, "no reply")});
  const auto decoded = decode_response(payload_of(frame));
  REQUIRE_FALSE(decoded.has_value());
  CHECK(decoded.error().code() == ErrorCode::kProtocol);
}

TEST_CASE("client protocol: every response kind survives encoding") {
  CHECK(std::get<Error>(round_trip(Response{1, false, Error(ErrorCode::kWrongType, "holds a set")}).body) ==
        Error(ErrorCode::kWrongType, "holds a set"));
  round_trip(Response{2, false, Done{}});
  const auto value = std::get<RegisterValue>(round_trip(Response{3, false, RegisterValue{"w", {"l1", "l2"}}}).body);
  CHECK(value.value == "w");
  CHECK(value.concurrent == std::vector<std::string>{"l1", "l2"});
  CHECK(std::get<IsMember>(round_trip(Response{4, false, IsMember{true}}).body).value);
  CHECK(std::get<CounterValue>(round_trip(Response{5, false, CounterValue{-12}}).body).value == -12);
  CHECK(std::get<ValueKind>(round_trip(Response{6, false, ValueKind::kCounter}).body) == ValueKind::kCounter);
  CHECK(std::get<Items>(round_trip(Response{7, true, Items{{"x", "y"}}}).body).items.size() == 2);

  KeyInspection inspection;
  inspection.key = "k";
  inspection.kind = ValueKind::kRegister;
  inspection.kinds = {ValueKind::kRegister, ValueKind::kSet};
  inspection.versions = {RegisterVersion{{5, 2}, 1000, 3, "winner"}, RegisterVersion{{4, 9}, 999, 0, "loser"}};
  inspection.writing_replica = 5;
  inspection.counter_parts = {CounterPart{{1, 1}, true, 2, {2, 1}, 5, 1, 0, 0, {2, 3}}};
  inspection.member_count = 100'000;
  inspection.member_count_capped = true;
  inspection.members = {InspectedMember{"m", {{1, 4}}}};
  inspection.version_vector = {{4, 9}, {5, 2}};
  inspection.dots_outside_vector = {{6, 8}};
  inspection.counter_value = std::numeric_limits<std::int64_t>::max();
  inspection.counter_out_of_range = true;
  const auto got = std::get<KeyInspection>(round_trip(Response{8, false, inspection}).body);
  CHECK(got.counter_value == inspection.counter_value);
  CHECK(got.counter_out_of_range);
  CHECK(got.kinds == inspection.kinds);
  REQUIRE(got.versions.size() == 2);
  CHECK(got.versions[0].value == "winner");
  CHECK(got.versions[1].dot == InspectedDot{4, 9});
  CHECK(got.versions[0].hlc_logical == 3);
  CHECK(got.writing_replica == 5);
  REQUIRE(got.counter_parts.size() == 1);
  CHECK(got.counter_parts[0].reset);
  CHECK(got.counter_parts[0].observed == InspectedDot{2, 3});
  CHECK(got.member_count_capped);
  CHECK(got.members[0].dots[0] == InspectedDot{1, 4});
  CHECK(got.version_vector == inspection.version_vector);
  CHECK(got.dots_outside_vector == inspection.dots_outside_vector);

  NodeStatus status;
  status.replica_id = 11;
  status.address = "10.0.0.1:7400";
  status.incarnation = 4;
  status.members.push_back(NodeStatus::Member{12, "127.0.0.1:7400", "alive", 3, 40, true, 2, {1, 2}});
  status.neighbours = {12};
  status.pending_retirements.push_back(NodeStatus::PendingRetirement{13, 5000, true, {12, 11}});
  status.seeds = {"127.0.0.1:7400", "[::1]:7400"};
  status.isolated = true;
  status.isolated_ms = 4200;
  status.health = "degraded";
  status.health_reasons = {"no seed or member reachable for 4 s (seeds: 127.0.0.1:7400, [::1]:7400)"};
  const auto got_status = std::get<NodeStatus>(round_trip(Response{9, false, status}).body);
  CHECK(got_status.seeds == status.seeds);
  CHECK(got_status.isolated);
  CHECK(got_status.isolated_ms == 4200);
  CHECK(got_status.health == "degraded");
  CHECK(got_status.health_reasons == status.health_reasons);
  REQUIRE(got_status.pending_retirements.size() == 1);
  CHECK(got_status.pending_retirements[0].replica == 13);
  CHECK(got_status.pending_retirements[0].proposed_ms_ago == 5000);
  CHECK(got_status.pending_retirements[0].by_operator);
  CHECK(got_status.pending_retirements[0].waiting_for == std::vector<std::uint64_t>{12, 11});
  REQUIRE(got_status.members.size() == 1);
  CHECK(got_status.members[0].address == "127.0.0.1:7400");
  CHECK(got_status.members[0].ring_positions == std::vector<std::uint64_t>{1, 2});
  CHECK(got_status.neighbours == status.neighbours);
  CHECK(got_status.address == "10.0.0.1:7400");
  CHECK(got_status.incarnation == 4);

  const auto stats = std::get<Stats>(
      round_trip(Response{10, false, Stats{{MetricSample{"m", "h", MetricType::kGauge, {{"l", "v"}}, 2.5}}}}).body);
  REQUIRE(stats.samples.size() == 1);
  CHECK(stats.samples[0].type == MetricType::kGauge);
  CHECK(stats.samples[0].value == 2.5);

  const auto events = std::get<Events>(
      round_trip(Response{11, true, Events{{WatchEvent{"k", ValueKind::kSet, false, true}}}}).body);
  REQUIRE(events.events.size() == 1);
  CHECK(events.events[0].kind == ValueKind::kSet);
  CHECK_FALSE(events.events[0].local);
  CHECK(events.events[0].deleted);
}

TEST_CASE("client protocol: malformed payloads are errors, never crashes") {
  CHECK(decode_request("").error().code() == ErrorCode::kProtocol);
  CHECK(decode_request("12345").error().code() == ErrorCode::kProtocol);
  CHECK(decode_request(std::string(64, '\xff')).error().code() == ErrorCode::kProtocol);
  CHECK(decode_response(std::string(64, '\x01')).has_value() == false);
  // A request with an error code out of range, as a response, is refused.
  std::string bytes = payload_of(encode_response_frame(Response{1, false, Error(ErrorCode::kIo, "x")}));
  CHECK(decode_response(bytes).has_value());
}

}  // namespace
}  // namespace cairn::protocol
