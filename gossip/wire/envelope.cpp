// Envelopes and peer frames over schema/wire.capnp (gossip/wire.h); each message family's own steps
// are in the files parts.h lists.
//
// Decoding goes in three steps, each refusing as early as it can: the clear header (magic, version,
// type, length limit; src/codec/frame.h) before anything else is looked at; then the Cap'n Proto
// payload, read with a traversal limit proportional to its size and a nesting limit, every
// kj::Exception Cap'n Proto throws on malformed input caught here and turned into kUndecodable, every
// list length checked before its elements are copied; then validate_envelope() on the copy, the same
// rules a sender should check. Each pointer field is read once, because each read counts against the
// traversal limit.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/io.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <variant>

#include "gossip/wire.h"
#include "gossip/wire/parts.h"
#include "src/codec/untrusted_message.h"

namespace cairn::gossip {
namespace {

using namespace wire_parts;

// The deepest legitimate payload nests 5 pointers (envelope, ping request, updates, update, endpoint
// with its host); the limit leaves room for fields a later protocol adds.
constexpr int kNestingLimit = 16;

// A legitimate payload is read once, object by object, so it costs at most its own size in words;
// twice that (never less than this floor) caps how far a message whose pointers share objects can
// amplify the work of reading it.
constexpr std::uint64_t kMinTraversalLimitWords = 1024;

// A generous estimate of the payload's size in words, so the builder usually needs one segment (no
// far pointers, and the 16 MiB delta-group is not followed by a second large allocation).
std::size_t estimate_envelope_words(const Envelope& envelope) {
  return 16 + endpoint_words(envelope.sender_endpoint) +
         std::visit([](const auto& body) { return estimate_words(body); }, envelope.body);
}

template <typename T>
Result<Body> as_body(Result<T> message) {
  if (!message) return forward(message);
  return Body(std::move(*message));
}

Result<Body> read_body(wire_schema::Envelope::Body::Reader in) {
  switch (in.which()) {
    case wire_schema::Envelope::Body::PING:
      return as_body(read_message(in.getPing()));
    case wire_schema::Envelope::Body::PING_ACK:
      return as_body(read_message(in.getPingAck()));
    case wire_schema::Envelope::Body::PING_REQUEST:
      return as_body(read_message(in.getPingRequest()));
    case wire_schema::Envelope::Body::DELTA_PUSH:
      return as_body(read_message(in.getDeltaPush()));
    case wire_schema::Envelope::Body::DELTA_ACK:
      return as_body(read_message(in.getDeltaAck()));
    case wire_schema::Envelope::Body::TREE_LEVEL:
      return as_body(read_message(in.getTreeLevel()));
    case wire_schema::Envelope::Body::BUCKET_DIGEST:
      return as_body(read_message(in.getBucketDigest()));
    case wire_schema::Envelope::Body::BUCKET_DELTA:
      return as_body(read_message(in.getBucketDelta()));
    case wire_schema::Envelope::Body::CONTEXT_REPORT:
      return as_body(read_message(in.getContextReport()));
    case wire_schema::Envelope::Body::RETIRED_NOTICE:
      return as_body(read_message(in.getRetiredNotice()));
  }
  return protocol_error(cat("envelope has body kind ", static_cast<unsigned>(in.which()),
                            ", unknown to this build (sent by a newer cairn?)"));
}

Result<Envelope> read_envelope(wire_schema::Envelope::Reader in) {
  Envelope envelope;
  envelope.cluster_id = in.getClusterId();
  envelope.sender = PeerId{in.getSender()};
  auto endpoint = read_endpoint(in.getSenderEndpoint(), "the sender's endpoint");
  if (!endpoint) return forward(endpoint);
  envelope.sender_endpoint = std::move(*endpoint);
  auto body = read_body(in.getBody());
  if (!body) return forward(body);
  envelope.body = std::move(*body);
  envelope.partition_count = in.getPartitionCount();
  return envelope;
}

// Reads `payload` as one Envelope message; every way it can fail to be one is a kProtocol error.
Result<Envelope> decode_payload(std::string_view payload) {
  const codec::MessageLimits limits{
      std::max<std::uint64_t>(2 * (payload.size() / sizeof(capnp::word)), kMinTraversalLimitWords), kNestingLimit};
  return codec::read_untrusted_message<wire_schema::Envelope>(
      payload, limits, ErrorCode::kProtocol, "payload",
      [](wire_schema::Envelope::Reader root) { return read_envelope(root); });
}

bool is_zero(const std::array<std::uint8_t, 24>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t byte) { return byte == 0; });
}

DecodeResult reject(FrameError error, std::string detail) {
  DecodeResult result;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

// Builds the envelope's message and writes it after `prefix_bytes` zero bytes of a new string.
std::string write_payload(const Envelope& envelope, std::size_t prefix_bytes) {
  const std::size_t hint =
      std::min<std::size_t>(estimate_envelope_words(envelope), std::numeric_limits<unsigned>::max());
  capnp::MallocMessageBuilder message(static_cast<unsigned>(hint));
  auto root = message.initRoot<wire_schema::Envelope>();
  root.setClusterId(envelope.cluster_id);
  root.setSender(envelope.sender.value);
  root.setPartitionCount(envelope.partition_count);
  write_endpoint(root.initSenderEndpoint(), envelope.sender_endpoint);
  std::visit([body = root.initBody()](const auto& alternative) { write_body(body, alternative); }, envelope.body);

  const std::size_t payload_bytes = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  std::string bytes(prefix_bytes + payload_bytes, '\0');
  kj::ArrayOutputStream out(
      kj::arrayPtr(reinterpret_cast<kj::byte*>(bytes.data() + prefix_bytes), payload_bytes));
  capnp::writeMessage(out, message);
  return bytes;
}

}  // namespace

Status validate_envelope(const Envelope& envelope) {
  if (auto sender = check_endpoint(envelope.sender_endpoint, "the sender's endpoint"); !sender) return sender;
  return std::visit([](const auto& body) { return check_body(body); }, envelope.body);
}

std::string encode_peer_payload(const Envelope& envelope) { return write_payload(envelope, 0); }

std::string encode_peer_frame(const Envelope& envelope) {
  std::string frame = write_payload(envelope, kFrameHeaderBytes);
  const std::size_t payload_bytes = frame.size() - kFrameHeaderBytes;
  assert(payload_bytes <= kMaxFramePayloadBytes &&
         "frame over kMaxFramePayloadBytes: receivers would drop it");
  FrameHeader header;
  header.payload_length = static_cast<std::uint32_t>(payload_bytes);
  const std::string header_bytes = encode_frame_header(header);
  std::memcpy(frame.data(), header_bytes.data(), kFrameHeaderBytes);
  return frame;
}

DecodeResult decode_peer_frame(std::string_view frame, std::size_t max_payload_bytes) {
  std::string detail;
  const HeaderResult parsed = parse_frame_header(frame, max_payload_bytes, detail);
  if (!parsed.ok) return reject(parsed.error, std::move(detail));
  const FrameHeader& header = parsed.header;
  if (header.type != FrameType::kPeerMessage) {
    return reject(FrameError::kUnknownType,
                  cat("frame of type ", frame_type_name(header.type), " where a peer message was expected"));
  }
  const std::size_t expected_bytes = kFrameHeaderBytes + header.payload_length;
  if (frame.size() < expected_bytes) {
    return reject(FrameError::kTruncated, cat("frame of ", frame.size(), " bytes is shorter than the ",
                                              expected_bytes, " its header announces"));
  }
  if (frame.size() > expected_bytes) {
    return reject(FrameError::kUndecodable, cat("frame has ", frame.size() - expected_bytes,
                                                " bytes after the payload its header announces"));
  }
  if (header.flags != 0 || header.key_id != 0 || !is_zero(header.nonce)) {
    return reject(FrameError::kUndecodable,
                  cat("frame header has flags ", header.flags, ", key id ", header.key_id,
                      " or a nonce set; this build reads only unsealed frames, where all are 0"));
  }
  return decode_peer_payload(frame.substr(kFrameHeaderBytes));
}

DecodeResult decode_peer_payload(std::string_view payload) {
  auto envelope = decode_payload(payload);
  if (!envelope) return reject(FrameError::kUndecodable, envelope.error().message());
  if (auto valid = validate_envelope(*envelope); !valid) {
    return reject(FrameError::kUndecodable, valid.error().message());
  }
  DecodeResult result;
  result.ok = true;
  result.envelope = std::move(*envelope);
  return result;
}

std::uint64_t cluster_id_of(std::string_view cluster_name) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis.
  for (const char c : cluster_name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a 64 prime.
  }
  return hash;
}

}  // namespace cairn::gossip
