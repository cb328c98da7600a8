// The change log's entries and header (src/codec/codec.h, src/store/change_log.h).
#include "cairn/options.h"
#include "src/codec/parts.h"

namespace cairn::codec {

using namespace detail;

namespace {

schema::ValueType to_schema(ValueKind kind) {
  switch (kind) {
    case ValueKind::kRegister: return schema::ValueType::REGISTER;
    case ValueKind::kSet: return schema::ValueType::SET_MEMBER;
    case ValueKind::kCounter: return schema::ValueType::COUNTER;
  }
  return schema::ValueType::UNKNOWN;
}

Result<ValueKind> kind_from(schema::ValueType type) {
  switch (type) {
    case schema::ValueType::REGISTER: return ValueKind::kRegister;
    case schema::ValueType::SET_MEMBER: return ValueKind::kSet;
    case schema::ValueType::COUNTER: return ValueKind::kCounter;
    case schema::ValueType::UNKNOWN: break;
  }
  return corrupt(cat("change record has value type ", static_cast<unsigned>(type)));
}

Result<ChangeOp> op_from(schema::ChangeOp op) {
  switch (op) {
    case schema::ChangeOp::PUT: return ChangeOp::kPut;
    case schema::ChangeOp::DEL: return ChangeOp::kDel;
    case schema::ChangeOp::SADD: return ChangeOp::kSadd;
    case schema::ChangeOp::SREM: return ChangeOp::kSrem;
    case schema::ChangeOp::COUNTER: return ChangeOp::kCounter;
    case schema::ChangeOp::UNKNOWN: break;
  }
  return corrupt(cat("change record has operation ", static_cast<unsigned>(op)));
}

}  // namespace

std::string encode_change_record(const Change& change, std::uint64_t time_ms) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::ChangeRecord>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::CHANGE_RECORD);
  root.setKey(as_data(change.key));
  root.setKind(to_schema(change.kind));
  root.setOp(static_cast<schema::ChangeOp>(static_cast<std::uint16_t>(change.op)));
  if (!change.member.empty()) root.setMember(as_data(change.member));
  if (!change.value.empty()) root.setValue(as_data(change.value));
  root.setDeleted(change.deleted);
  root.setLocal(change.local);
  root.setTimeMs(time_ms);
  return to_bytes(message);
}

Result<StoredChange> decode_change_record(std::string_view bytes) {
  return decode_message<schema::ChangeRecord>(
      bytes, "change record", [](schema::ChangeRecord::Reader root) -> Result<StoredChange> {
        if (auto header = check_header(root, schema::MessageType::CHANGE_RECORD); !header) return forward(header);
        StoredChange out;
        auto kind = kind_from(root.getKind());
        if (!kind) return forward(kind);
        auto op = op_from(root.getOp());
        if (!op) return forward(op);
        out.change.kind = *kind;
        out.change.op = *op;
        out.change.key = as_string(root.getKey());
        out.change.member = as_string(root.getMember());
        out.change.value = as_string(root.getValue());
        out.change.deleted = root.getDeleted();
        out.change.local = root.getLocal();
        out.time_ms = root.getTimeMs();
        if (out.change.key.size() > kMaxKeyBytes) return corrupt("change record key is over the size limit");
        if (out.change.member.size() > kMaxMemberBytes) return corrupt("change record member is over the size limit");
        const bool set_op = *op == ChangeOp::kSadd || *op == ChangeOp::kSrem;
        if (set_op != (*kind == ValueKind::kSet)) return corrupt("change record's operation does not fit its kind");
        return out;
      });
}

std::string encode_change_log_header(const ChangeLogHeader& header) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::ChangeLogHeader>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::CHANGE_LOG_HEADER);
  root.setLogId(header.log_id);
  root.setReplica(header.replica);
  return to_bytes(message);
}

Result<ChangeLogHeader> decode_change_log_header(std::string_view bytes) {
  return decode_message<schema::ChangeLogHeader>(
      bytes, "change log header", [](schema::ChangeLogHeader::Reader root) -> Result<ChangeLogHeader> {
        if (auto header = check_header(root, schema::MessageType::CHANGE_LOG_HEADER); !header) return forward(header);
        if (root.getLogId() == 0) return corrupt("change log header has log id 0");
        return ChangeLogHeader{root.getLogId(), root.getReplica()};
      });
}

}  // namespace cairn::codec
