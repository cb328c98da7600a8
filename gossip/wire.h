// Frames: how every message between peers (and, later, to clients) travels.
//
// A frame is a fixed 40-byte header in the clear, then the payload:
//
//   offset size field
//   0      4    magic "CAIR"
//   4      1    protocol version (kProtocolVersion)
//   5      1    frame type (FrameType)
//   6      2    flags (reserved, 0)
//   8      4    key id (0: unsealed; otherwise the cluster key the payload is sealed with)
//   12     24   nonce (zero while unsealed; room for XChaCha20-Poly1305's 24-byte nonce)
//   36     4    payload length in bytes
//
// Integers are big-endian. The payload is a Cap'n Proto message (schema/wire.capnp), AEAD-sealed with
// the header as associated data when the key id is not 0 (gossip/sealing.h); the payload length then
// counts the sealed bytes (the message plus kSealOverheadBytes).
// A frame with a bad magic, another version, an unknown type or a length over the limit is rejected
// from its header alone, before any further work.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "gossip/messages.h"

namespace cairn::gossip {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 40;
// Large enough for one 16 MiB value with its metadata in one delta-group.
inline constexpr std::size_t kMaxFramePayloadBytes = 24u << 20;
// What sealing adds to a payload (the Poly1305 tag of XChaCha20-Poly1305; gossip/sealing.h).
inline constexpr std::size_t kSealOverheadBytes = 16;
// Membership datagrams stay below a typical path MTU; updates are piggybacked only up to this.
inline constexpr std::size_t kMaxDatagramBytes = 1400;
// Membership updates one Ping, PingAck or PingRequest may carry; a message with more is dropped.
inline constexpr std::size_t kMaxUpdatesPerMessage = 64;
// Delta-log entries one DeltaPush may carry; a sender splits a longer batch (and one whose frame would
// exceed kMaxFramePayloadBytes) into several pushes.
inline constexpr std::size_t kMaxDeltaPushEntries = 4096;
// Parents one anti-entropy TreeLevel message may name (16 hashes each), and leaf buckets one
// BucketExchange may cover; a round splits longer lists over several messages.
inline constexpr std::size_t kMaxTreeParents = 256;
inline constexpr std::size_t kMaxExchangeBuckets = 256;
// Record digests (and absent or wanted key hashes) one BucketDigest or BucketDelta may list.
inline constexpr std::size_t kMaxDigestRecords = 1u << 20;
// Vector entries, and retirements, one ContextReport may list.
inline constexpr std::size_t kMaxReportEntries = 1u << 16;
// The longest host an Endpoint may name (a DNS name is at most 253 bytes).
inline constexpr std::size_t kMaxHostBytes = 255;

enum class FrameType : std::uint8_t {
  kPeerMessage = 1,     // An Envelope.
  kClientRequest = 2,   // Reserved for the client protocol.
  kClientResponse = 3,  // Reserved for the client protocol.
};

struct FrameHeader {
  std::uint8_t version = kProtocolVersion;
  FrameType type = FrameType::kPeerMessage;
  std::uint16_t flags = 0;
  std::uint32_t key_id = 0;
  std::array<std::uint8_t, 24> nonce{};
  std::uint32_t payload_length = 0;

  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

// Why a frame was dropped; peers count drops by reason.
enum class FrameError : std::uint8_t {
  kBadMagic,      // Not a cairn frame at all.
  kWrongVersion,  // A cairn frame of another protocol version.
  kUnknownType,   // A frame type this build does not know, or not the one expected here.
  kOversized,     // The header announces a payload over the limit.
  kTruncated,     // Fewer bytes than the header (or the header plus its payload).
  kUndecodable,   // Anything else: trailing bytes, reserved bits set, malformed payload, invalid envelope.
  // Sealing (gossip/sealing.h); all are decided before the payload is decoded.
  kUnsealed,         // An unsealed frame (key id 0) to a peer that requires sealed ones.
  kUnknownKey,       // Sealed under a key id none of our cluster keys has (another cluster, an old key).
  kUnauthenticated,  // The AEAD check failed: tampered with, or sealed under another key.
  kReplayed,         // Authentic, but a copy of a frame already received (or older than the window).
};
inline constexpr std::size_t kFrameErrorCount = 10;
// The lower-case name of a reason, e.g. "bad_magic"; used in logs and as a metrics label.
std::string_view to_string(FrameError error);

// Parses the first kFrameHeaderBytes of `bytes` (later bytes are not looked at). Checks magic, version,
// type (any FrameType, client ones included) and that the payload length is within
// `max_payload_bytes`; fewer than kFrameHeaderBytes bytes is kTruncated. A stream reader calls this on
// the first kFrameHeaderBytes it reads, so an oversized frame is refused before its payload is read.
struct HeaderResult {
  bool ok = false;
  FrameHeader header;
  FrameError error = FrameError::kTruncated;
};
HeaderResult parse_frame_header(std::string_view bytes,
                                std::size_t max_payload_bytes = kMaxFramePayloadBytes);

// The kFrameHeaderBytes bytes of `header`, laid out as in the table above (the sealing code will need
// them as associated data).
std::string encode_frame_header(const FrameHeader& header);

// Checks every rule a received envelope must satisfy: each endpoint (the sender's, every update's, a
// ping request's target) has a port other than 0 and a host of 1 to kMaxHostBytes bytes without a NUL
// byte; every member status is a known one; at most kMaxUpdatesPerMessage updates per message; a
// DeltaPush has at most kMaxDeltaPushEntries entries, with strictly increasing sequences and each
// delta-group at most kMaxFramePayloadBytes; a TreeLevel has a level of 1 to 4, at most
// kMaxTreeParents strictly ascending parents that exist at the level above (exactly {0} at level 1),
// 16 hashes per parent or none, and a context only at level 1; a BucketDigest or BucketDelta has 1
// to kMaxExchangeBuckets strictly ascending buckets below 65536, at most kMaxDigestRecords entries
// per list, as many record hashes as key hashes, and every key hash in one of its buckets; a
// ContextReport lists at most kMaxReportEntries vector entries, gaps and retirements, each list
// strictly ascending by replica, with no zero replica id and no zero vector or gap counter. Returns ErrorCode::kProtocol saying
// which rule broke.
Status validate_envelope(const Envelope& envelope);

// A whole frame (header + payload) carrying `envelope`: an unsealed kPeerMessage frame (flags 0, key id
// 0, zero nonce). The envelope should pass validate_envelope() and fit kMaxFramePayloadBytes. Validity
// is not checked here (receivers drop such a frame as kUndecodable), so tests can build the frames a
// broken peer would send; the size is checked by an assert only.
std::string encode_peer_frame(const Envelope& envelope);

// The payload alone of encode_peer_frame(envelope): the Cap'n Proto message the sealer encrypts.
std::string encode_peer_payload(const Envelope& envelope);

// Decodes a whole frame (as received in one datagram, or header + payload read from a stream). Never
// throws. Drops, with `error`:
//   kBadMagic, kWrongVersion, kOversized  the header alone says so (parse_frame_header);
//   kUnknownType   a type other than kPeerMessage (client frames included);
//   kTruncated     fewer bytes than kFrameHeaderBytes + the header's payload length;
//   kUndecodable   more bytes than that (trailing bytes), reserved header fields not 0 (flags, key id,
//                  nonce: this build reads only unsealed frames), a payload that is not a well-formed
//                  Envelope message within the traversal limits, or an envelope validate_envelope()
//                  refuses.
struct DecodeResult {
  bool ok = false;
  Envelope envelope;
  FrameError error = FrameError::kUndecodable;
  std::string detail;  // For logs: what exactly was wrong.
};
DecodeResult decode_peer_frame(std::string_view frame, std::size_t max_payload_bytes = kMaxFramePayloadBytes);

// Decodes a payload alone (an opened sealed frame's plaintext): the payload steps of
// decode_peer_frame (a well-formed Envelope within the traversal limits that validate_envelope()
// accepts), failing with kUndecodable.
DecodeResult decode_peer_payload(std::string_view payload);

// The 64-bit id of a cluster name, carried in every envelope: FNV-1a 64 of the name's bytes. Stable
// across builds and platforms (peers of different builds must agree); not a secret and not collision
// resistant against a chosen name, only a guard against mixing up clusters.
std::uint64_t cluster_id_of(std::string_view cluster_name);

}  // namespace cairn::gossip
