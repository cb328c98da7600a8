// Frames: how every message between peers, and between a client and a peer, travels.
//
// Both protocols share this header: the peer protocol (gossip/wire.h, payload schema/wire.capnp) and
// the client protocol (src/protocol/protocol.h, payload schema/client.capnp). It lives below both so
// that neither reaches into the other. A frame is a fixed 40-byte header in the clear, then the payload:
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
// Integers are big-endian. The payload is a Cap'n Proto message, AEAD-sealed with the header as
// associated data when the key id is not 0 (gossip/sealing.h); the payload length then counts the
// sealed bytes (the message plus kSealOverheadBytes).
// A frame with a bad magic, another version, an unknown type or a length over the limit is rejected
// from its header alone, before any further work.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/defaults.h"

namespace cairn::codec {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 40;
// Large enough for one 16 MiB value with its metadata in one delta-group (include/cairn/defaults.h).
inline constexpr std::size_t kMaxFramePayloadBytes = kProtocolMaxFramePayloadBytes;
// What sealing adds to a payload (the Poly1305 tag of XChaCha20-Poly1305; gossip/sealing.h).
inline constexpr std::size_t kSealOverheadBytes = 16;

enum class FrameType : std::uint8_t {
  kPeerMessage = 1,     // An Envelope of the peer protocol (gossip/wire.h).
  kClientRequest = 2,   // A request of the client protocol (src/protocol/protocol.h).
  kClientResponse = 3,  // A response of the client protocol.
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

// The name of a frame type for messages, e.g. "client request"; nullptr for a value FrameType does
// not list (a frame of an unknown type).
const char* frame_type_name(FrameType type);

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

// parse_frame_header(), also saying in `detail` (for logs) why a refused header was refused; `detail`
// is left alone when the header is accepted.
HeaderResult parse_frame_header(std::string_view bytes, std::size_t max_payload_bytes, std::string& detail);

// The kFrameHeaderBytes bytes of `header`, laid out as in the table above (the sealing code uses them
// as associated data).
std::string encode_frame_header(const FrameHeader& header);

}  // namespace cairn::codec
