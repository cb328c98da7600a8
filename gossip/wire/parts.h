// Internal to the peer wire format (gossip/wire.h): the helpers every message family shares, and each
// family's four steps. Only gossip/wire/*.cpp include this header (it names the generated schema).
//
// Every message type T of the Envelope's body union has, in the file of its family:
//   Status check_body(const T&)                     the rules validate_envelope() applies to it;
//   void write_body(Envelope::Body::Builder, const T&)  sets the union to it;
//   Result<T> read_message(schema::wire::T::Reader)     copies it, refusing a list over its limit
//                                                       before copying any element;
//   std::size_t estimate_words(const T&)            a generous size hint for the message builder.
// Families: membership.cpp (Ping, PingAck, PingRequest; endpoints and member updates),
// dissemination.cpp (DeltaPush, DeltaAck), anti_entropy.cpp (TreeLevel, BucketDigest, BucketDelta),
// reports.cpp (ContextReport, RetiredNotice). envelope.cpp dispatches over the union and frames it.
#pragma once

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "gossip/wire.h"
#include "schema/wire.capnp.h"

namespace cairn::gossip::wire_parts {

namespace wire_schema = cairn::schema::wire;
using BodyBuilder = wire_schema::Envelope::Body::Builder;

// ---- Shared helpers. ----

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

inline tl::unexpected<Error> protocol_error(std::string message) {
  return fail(ErrorCode::kProtocol, std::move(message));
}

template <typename T>
tl::unexpected<Error> forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

inline capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

inline capnp::Text::Reader as_text(const std::string& text) { return capnp::Text::Reader(text.data(), text.size()); }

inline std::string read_data(capnp::Data::Reader data) {
  std::string bytes;
  if (data.size() > 0) bytes.assign(reinterpret_cast<const char*>(data.begin()), data.size());
  return bytes;
}

// Copies a list of numbers, refusing one longer than `limit` before copying anything.
template <typename Number, typename List>
Result<std::vector<Number>> read_numbers(List in, std::size_t limit, const char* what) {
  if (in.size() > limit) return protocol_error(cat(what, " has ", in.size(), " entries, over the limit of ", limit));
  std::vector<Number> numbers;
  numbers.reserve(in.size());
  for (const Number number : in) numbers.push_back(number);
  return numbers;
}

template <typename ListBuilder, typename Numbers>
void fill(ListBuilder list, const Numbers& numbers) {
  for (unsigned i = 0; i < numbers.size(); ++i) list.set(i, numbers[i]);
}

inline std::size_t words_for_bytes(std::size_t bytes) {
  return (bytes + sizeof(capnp::word) - 1) / sizeof(capnp::word);
}

// ---- Membership (membership.cpp). ----

Status check_endpoint(const Endpoint& endpoint, const char* what);
void write_endpoint(wire_schema::Endpoint::Builder out, const Endpoint& endpoint);
Result<Endpoint> read_endpoint(wire_schema::Endpoint::Reader in, const char* what);
std::size_t endpoint_words(const Endpoint& endpoint);

Status check_body(const Ping& ping);
Status check_body(const PingAck& ack);
Status check_body(const PingRequest& request);
void write_body(BodyBuilder body, const Ping& ping);
void write_body(BodyBuilder body, const PingAck& ack);
void write_body(BodyBuilder body, const PingRequest& request);
Result<Ping> read_message(wire_schema::Ping::Reader in);
Result<PingAck> read_message(wire_schema::PingAck::Reader in);
Result<PingRequest> read_message(wire_schema::PingRequest::Reader in);
std::size_t estimate_words(const Ping& ping);
std::size_t estimate_words(const PingAck& ack);
std::size_t estimate_words(const PingRequest& request);

// ---- Delta dissemination (dissemination.cpp). ----

Status check_body(const DeltaPush& push);
Status check_body(const DeltaAck& ack);
void write_body(BodyBuilder body, const DeltaPush& push);
void write_body(BodyBuilder body, const DeltaAck& ack);
Result<DeltaPush> read_message(wire_schema::DeltaPush::Reader in);
Result<DeltaAck> read_message(wire_schema::DeltaAck::Reader in);
std::size_t estimate_words(const DeltaPush& push);
std::size_t estimate_words(const DeltaAck& ack);

// ---- Anti-entropy (anti_entropy.cpp). ----

Status check_body(const TreeLevel& tree);
Status check_body(const BucketDigest& digest);
Status check_body(const BucketDelta& delta);
void write_body(BodyBuilder body, const TreeLevel& tree);
void write_body(BodyBuilder body, const BucketDigest& digest);
void write_body(BodyBuilder body, const BucketDelta& delta);
Result<TreeLevel> read_message(wire_schema::TreeLevel::Reader in);
Result<BucketDigest> read_message(wire_schema::BucketDigest::Reader in);
Result<BucketDelta> read_message(wire_schema::BucketDelta::Reader in);
std::size_t estimate_words(const TreeLevel& tree);
std::size_t estimate_words(const BucketDigest& digest);
std::size_t estimate_words(const BucketDelta& delta);

// ---- Stability reports and retirement (reports.cpp). ----

Status check_body(const ContextReport& report);
Status check_body(const RetiredNotice& notice);
void write_body(BodyBuilder body, const ContextReport& report);
void write_body(BodyBuilder body, const RetiredNotice& notice);
Result<ContextReport> read_message(wire_schema::ContextReport::Reader in);
Result<RetiredNotice> read_message(wire_schema::RetiredNotice::Reader in);
std::size_t estimate_words(const ContextReport& report);
std::size_t estimate_words(const RetiredNotice& notice);

}  // namespace cairn::gossip::wire_parts
