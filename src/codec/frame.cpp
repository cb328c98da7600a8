// The frame header of src/codec/frame.h: fixed offsets, big-endian integers.
#include "src/codec/frame.h"

#include <cstring>
#include <sstream>
#include <tuple>

namespace cairn::codec {
namespace {

constexpr char kMagic[4] = {'C', 'A', 'I', 'R'};

// Header field offsets, as in the table in frame.h.
constexpr std::size_t kMagicOffset = 0;
constexpr std::size_t kVersionOffset = 4;
constexpr std::size_t kTypeOffset = 5;
constexpr std::size_t kFlagsOffset = 6;
constexpr std::size_t kKeyIdOffset = 8;
constexpr std::size_t kNonceOffset = 12;
constexpr std::size_t kPayloadLengthOffset = 36;
static_assert(kPayloadLengthOffset + 4 == kFrameHeaderBytes);
static_assert(kNonceOffset + std::tuple_size_v<decltype(FrameHeader::nonce)> == kPayloadLengthOffset);

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

void put_u16(char* out, std::uint16_t value) {
  out[0] = static_cast<char>(value >> 8);
  out[1] = static_cast<char>(value);
}

void put_u32(char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (24 - 8 * i));
}

std::uint8_t get_u8(std::string_view bytes, std::size_t offset) {
  return static_cast<std::uint8_t>(bytes[offset]);
}

std::uint16_t get_u16(std::string_view bytes, std::size_t offset) {
  return static_cast<std::uint16_t>(get_u8(bytes, offset) << 8 | get_u8(bytes, offset + 1));
}

std::uint32_t get_u32(std::string_view bytes, std::size_t offset) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = value << 8 | get_u8(bytes, offset + i);
  return value;
}

}  // namespace

std::string_view to_string(FrameError error) {
  switch (error) {
    case FrameError::kBadMagic:
      return "bad_magic";
    case FrameError::kWrongVersion:
      return "wrong_version";
    case FrameError::kUnknownType:
      return "unknown_type";
    case FrameError::kOversized:
      return "oversized";
    case FrameError::kTruncated:
      return "truncated";
    case FrameError::kUndecodable:
      return "undecodable";
    case FrameError::kUnsealed:
      return "unsealed";
    case FrameError::kUnknownKey:
      return "unknown_key";
    case FrameError::kUnauthenticated:
      return "unauthenticated";
    case FrameError::kReplayed:
      return "replayed";
  }
  return "unknown_frame_error";
}

const char* frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::kPeerMessage:
      return "peer message";
    case FrameType::kClientRequest:
      return "client request";
    case FrameType::kClientResponse:
      return "client response";
  }
  return nullptr;
}

HeaderResult parse_frame_header(std::string_view bytes, std::size_t max_payload_bytes, std::string& detail) {
  HeaderResult result;
  if (bytes.size() < kFrameHeaderBytes) {
    result.error = FrameError::kTruncated;
    detail = cat("frame of ", bytes.size(), " bytes is shorter than the ", kFrameHeaderBytes, "-byte header");
    return result;
  }
  if (bytes.substr(kMagicOffset, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) {
    result.error = FrameError::kBadMagic;
    detail = "frame does not start with the magic \"CAIR\"";
    return result;
  }
  FrameHeader& header = result.header;
  header.version = get_u8(bytes, kVersionOffset);
  if (header.version != kProtocolVersion) {
    result.error = FrameError::kWrongVersion;
    detail = cat("frame has protocol version ", unsigned{header.version}, "; this build speaks version ",
                 unsigned{kProtocolVersion});
    return result;
  }
  const std::uint8_t type = get_u8(bytes, kTypeOffset);
  header.type = static_cast<FrameType>(type);
  if (frame_type_name(header.type) == nullptr) {
    result.error = FrameError::kUnknownType;
    detail = cat("frame has unknown frame type ", unsigned{type});
    return result;
  }
  header.flags = get_u16(bytes, kFlagsOffset);
  header.key_id = get_u32(bytes, kKeyIdOffset);
  for (std::size_t i = 0; i < header.nonce.size(); ++i) header.nonce[i] = get_u8(bytes, kNonceOffset + i);
  header.payload_length = get_u32(bytes, kPayloadLengthOffset);
  if (header.payload_length > max_payload_bytes) {
    result.error = FrameError::kOversized;
    detail = cat("frame header announces a payload of ", header.payload_length, " bytes, over the limit of ",
                 max_payload_bytes);
    return result;
  }
  result.ok = true;
  return result;
}

HeaderResult parse_frame_header(std::string_view bytes, std::size_t max_payload_bytes) {
  std::string detail;
  return parse_frame_header(bytes, max_payload_bytes, detail);
}

std::string encode_frame_header(const FrameHeader& header) {
  std::string bytes(kFrameHeaderBytes, '\0');
  std::memcpy(bytes.data() + kMagicOffset, kMagic, sizeof kMagic);
  bytes[kVersionOffset] = static_cast<char>(header.version);
  bytes[kTypeOffset] = static_cast<char>(header.type);
  put_u16(bytes.data() + kFlagsOffset, header.flags);
  put_u32(bytes.data() + kKeyIdOffset, header.key_id);
  std::memcpy(bytes.data() + kNonceOffset, header.nonce.data(), header.nonce.size());
  put_u32(bytes.data() + kPayloadLengthOffset, header.payload_length);
  return bytes;
}

}  // namespace cairn::codec
