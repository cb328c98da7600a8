// The peer protocol's wire format: the messages of gossip/messages.h as frames.
//
// A peer frame is the shared frame header (src/codec/frame.h: magic, version, type kPeerMessage, key
// id, nonce, payload length), then one Envelope as a Cap'n Proto message (schema/wire.capnp),
// AEAD-sealed with the header as associated data when the key id is not 0 (gossip/sealing.h).
// The limits below bound every list a received message may carry; validate_envelope() states the
// rules. The encoding of each message family is in gossip/wire/ (see gossip/wire/parts.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "gossip/messages.h"
#include "src/codec/frame.h"

namespace cairn::gossip {

// The frame header is shared with the client protocol and lives below both (src/codec/frame.h); the
// peer protocol's code names it unqualified.
using codec::encode_frame_header;
using codec::FrameError;
using codec::FrameHeader;
using codec::FrameType;
using codec::frame_type_name;
using codec::HeaderResult;
using codec::kFrameErrorCount;
using codec::kFrameHeaderBytes;
using codec::kMaxFramePayloadBytes;
using codec::kProtocolVersion;
using codec::kSealOverheadBytes;
using codec::parse_frame_header;
using codec::to_string;

// Membership datagrams stay below a typical path MTU; updates are piggybacked only up to this.
inline constexpr std::size_t kMaxDatagramBytes = 1400;
// Membership updates one Ping, PingAck or PingRequest may carry; a message with more is dropped.
inline constexpr std::size_t kMaxUpdatesPerMessage = 64;
// Delta-log entries one DeltaPush may carry; a sender splits a longer batch (and one whose frame would
// exceed kMaxFramePayloadBytes) into several pushes.
inline constexpr std::size_t kMaxDeltaPushEntries = kProtocolMaxDeltaPushEntries;
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
