// The client protocol's messages in memory and their frames (schema/client.capnp, docs/client-protocol.md).
//
// Shared by the server (src/server) and the client library (src/client). A frame is the shared 40-byte
// header (gossip/wire.h) with type kClientRequest or kClientResponse, then one Cap'n Proto message.
// Decoders take untrusted bytes: they never throw, read with traversal and nesting limits, and check
// every key, member, value and list length against the store's limits before copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cairn/client.h"
#include "cairn/defaults.h"
#include "cairn/metrics.h"
#include "cairn/node.h"
#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::protocol {

// The largest frame payload either side accepts by default: a 16 MiB value with room for its framing.
inline constexpr std::size_t kDefaultMaxFramePayloadBytes = kDefaultMaxClientFrameBytes;
// Members one sadd/srem request may carry.
inline constexpr std::size_t kMaxMembersPerRequest = 100'000;

// ---- Requests ----

struct Put { std::string key, value; };
struct Get { std::string key; };
struct Del { std::string key; };
struct Sadd { std::string key; std::vector<std::string> members; };
struct Srem { std::string key; std::vector<std::string> members; };
struct Sismember { std::string key, member; };
struct Smembers { std::string key; };
struct Incr { std::string key; std::uint64_t amount = 1; };
struct Decr { std::string key; std::uint64_t amount = 1; };
struct CounterGet { std::string key; };
struct KindGet { std::string key; };
struct Scan { std::string prefix; };
struct Inspect { std::string key; };
struct StatusGet {};
struct StatsGet {};
// `resume` false: changes from now on (op watch). True: every change after `position` (empty: from
// the oldest kept), then live ones (op watchFrom).
struct Watch {
  std::string prefix;
  bool resume = false;
  std::string position = {};
};
struct Cancel { std::uint64_t target = 0; };
struct Auth { std::string token; };
// Proposes retiring the dead or stopped peer `replica` (Node::retire). Answered Done or an Error.
struct Retire { std::uint64_t replica = 0; };
// A compacted snapshot of the peer's store, streamed as Items whose items are chunks of its bytes.
struct Backup {};

using Op = std::variant<Put, Get, Del, Sadd, Srem, Sismember, Smembers, Incr, Decr, CounterGet, KindGet, Scan,
                        Inspect, StatusGet, StatsGet, Watch, Cancel, Auth, Retire, Backup>;

struct Request {
  std::uint64_t id = 0;
  Op op;
};

// The lower-case name of an operation ("put", "smembers", ...): metrics labels and logs.
std::string_view op_name(const Op& op);
// Every op name, in the order of Op's alternatives.
const std::vector<std::string_view>& op_names();

// ---- Responses ----

struct Done {};
struct IsMember { bool value = false; };
struct CounterValue { std::int64_t value = 0; };
struct Items { std::vector<std::string> items; };
struct Stats { std::vector<MetricSample> samples; };
struct Events { std::vector<WatchEvent> events; };

using Body = std::variant<Error, Done, RegisterValue, IsMember, CounterValue, ValueKind, Items, KeyInspection,
                          NodeStatus, Stats, Events>;

struct Response {
  std::uint64_t id = 0;
  bool more = false;  // More frames follow for this request.
  Body body = Done{};
};

// ---- Frames ----

// Whole frames: header + payload. encode_* never fail (sizes are the caller's business: a response
// over the receiver's limit is refused by the receiver).
std::string encode_request_frame(const Request& request);
std::string encode_response_frame(const Response& response);

// Payload decoders (the header is parsed and checked by the caller, which reads the stream).
// kProtocol for anything malformed; kUnsupported for a request kind this build does not know. `id_out`
// (optional) receives the request's id whenever the message could be read that far, so an error reply
// can carry it.
Result<Request> decode_request(std::string_view payload, std::uint64_t* id_out = nullptr);
Result<Response> decode_response(std::string_view payload);

}  // namespace cairn::protocol
