// Value records: one register, set member or counter under its record key (src/codec/codec.h).
#include "src/codec/parts.h"

namespace cairn::codec {

using namespace detail;

std::string encode_record(const RecordValue& value) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::ValueRecord>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::VALUE_RECORD);
  write_value(root, value);
  return to_bytes(message);
}

Result<RecordValue> decode_record(std::string_view bytes, ValueType expected) {
  if (!is_known(expected)) {
    return fail(ErrorCode::kInvalidArgument, cat("decode_record was asked for value type ",
                                                 static_cast<unsigned>(expected), ", which does not exist"));
  }
  return decode_message<schema::ValueRecord>(
      bytes, "value record", [expected](schema::ValueRecord::Reader root) -> Result<RecordValue> {
        if (auto header = check_header(root, schema::MessageType::VALUE_RECORD); !header)
          return forward(header);
        auto type = union_type<schema::ValueRecord>(root, "value record");
        if (!type) return forward(type);
        if (*type != expected) {
          return corrupt(
              cat("value record holds a ", type_name(*type), " but its key names a ", type_name(expected)));
        }
        return read_value<schema::ValueRecord>(root, *type);
      });
}

}  // namespace cairn::codec
