// Record keys: the order-preserving LMDB keys of records (not Cap'n Proto; src/codec/codec.h).
#include "src/codec/parts.h"

#include <cassert>

namespace cairn::codec {

using namespace detail;

namespace {

// The byte that ends an escaped user key inside a record key is 0x00 0x01; a 0x00 inside it is 0x00 0xFF.
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';
constexpr char kTerminator = '\x01';

void append_escaped(std::string& out, std::string_view key) {
  for (const char c : key) {
    out.push_back(c);
    if (c == kEscape) out.push_back(kEscapedZero);
  }
}

// Unescapes the user key at the front of a record key; `position` ends just past its terminator.
Result<std::string> read_escaped_key(std::string_view bytes, std::size_t& position) {
  std::string key;
  while (position < bytes.size()) {
    const char c = bytes[position++];
    if (c != kEscape) {
      key.push_back(c);
      continue;
    }
    if (position == bytes.size()) break;
    const char next = bytes[position++];
    if (next == kTerminator) return key;
    if (next != kEscapedZero) {
      return corrupt(cat("record key has byte 0x00 followed by 0x", std::hex,
                         static_cast<unsigned>(static_cast<unsigned char>(next)), std::dec, " at offset ",
                         position - 2, "; only 0x00 0xFF (a zero byte) and 0x00 0x01 (the end) occur"));
    }
    key.push_back('\0');
  }
  return corrupt(
      cat("record key of ", bytes.size(), " bytes ends before the 0x00 0x01 that ends its user key"));
}

}  // namespace

std::string encode_record_key(const RecordKey& key) {
  assert(is_known(key.type) && "record key of an unknown value type");
  assert((key.type == ValueType::kSetMember || key.member.empty()) && "only set members name a member");
  std::string out;
  out.reserve(key.key.size() + 3 + key.member.size());
  append_escaped(out, key.key);
  out.push_back(kEscape);
  out.push_back(kTerminator);
  out.push_back(static_cast<char>(key.type));
  out.append(key.member);
  return out;
}

Result<RecordKey> decode_record_key(std::string_view bytes) {
  std::size_t position = 0;
  auto user_key = read_escaped_key(bytes, position);
  if (!user_key) return forward(user_key);
  if (position == bytes.size()) return corrupt("record key ends before its value type byte");
  auto type = to_value_type(static_cast<unsigned char>(bytes[position++]), "record key");
  if (!type) return forward(type);
  RecordKey key{std::move(*user_key), *type, std::string(bytes.substr(position))};
  if (auto member = check_member(key, "record key"); !member) return forward(member);
  return key;
}

std::string encode_key_prefix(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size());
  append_escaped(out, prefix);
  return out;
}

std::string encode_exact_key_prefix(std::string_view key) {
  std::string out = encode_key_prefix(key);
  out.push_back(kEscape);
  out.push_back(kTerminator);
  return out;
}

}  // namespace cairn::codec
