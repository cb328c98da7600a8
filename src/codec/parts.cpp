// Names and bytes shared by the record codec (src/codec/parts.h).
#include "src/codec/parts.h"

#include <kj/array.h>

#include <cassert>

namespace cairn::codec {

using namespace detail;

namespace detail {

const char* type_name(ValueType type) {
  switch (type) {
    case ValueType::kRegister:
      return "register";
    case ValueType::kSetMember:
      return "set member";
    case ValueType::kCounter:
      return "counter";
  }
  return "unknown value type";
}

std::string message_type_name(schema::MessageType type) {
  switch (type) {
    case schema::MessageType::VALUE_RECORD:
      return "value record";
    case schema::MessageType::STORED_CONTEXT:
      return "stored context";
    case schema::MessageType::STORE_META:
      return "store meta";
    case schema::MessageType::DELTA_GROUP:
      return "delta-group";
    case schema::MessageType::PEER_RECORD:
      return "peer record";
    case schema::MessageType::RETIREMENT_TABLE:
      return "retirement table";
    case schema::MessageType::RETIRED_WRITES:
      return "retired writes";
    case schema::MessageType::CHANGE_RECORD:
      return "change record";
    case schema::MessageType::CHANGE_LOG_HEADER:
      return "change log header";
    case schema::MessageType::UNKNOWN:
      break;
  }
  return cat("unknown message type ", static_cast<unsigned>(type));
}

// Checks a value type read from bytes: 0 is never written; a number above the known ones may come
// from a newer cairn.
Result<ValueType> to_value_type(unsigned raw, const char* what) {
  if (raw == 0) return corrupt(cat(what, " has value type 0, which no cairn writes"));
  const auto type = static_cast<ValueType>(raw & 0xFF);
  if (raw > 0xFF || !is_known(type)) {
    return fail(ErrorCode::kUnsupported,
                cat(what, " has value type ", raw, ", unknown to this build (written by a newer cairn?)"));
  }
  return type;
}

Status check_member(const RecordKey& key, const char* what) {
  if (key.type != ValueType::kSetMember && !key.member.empty()) {
    return corrupt(cat(what, " of a ", type_name(key.type), " names a set member (", key.member.size(),
                       " bytes); only set member records have one"));
  }
  return ok();
}

capnp::Data::Reader as_data(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

std::string as_string(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

std::string to_bytes(capnp::MessageBuilder& message) {
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  const kj::ArrayPtr<const char> chars = words.asChars();
  assert(chars.size() <= kMaxMessageBytes && "message over kMaxMessageBytes: the reader would refuse it");
  return std::string(chars.begin(), chars.size());
}

}  // namespace detail

}  // namespace cairn::codec
