// Delta-groups: record fragments under their keys, with the causal context they come with
// (src/codec/codec.h).
#include "src/codec/parts.h"

#include <cassert>

namespace cairn::codec {

using namespace detail;

namespace detail {

void write_key(schema::RecordKey::Builder out, const RecordKey& key) {
  out.setKey(as_data(key.key));
  out.setType(static_cast<schema::ValueType>(key.type));
  out.setMember(as_data(key.member));
}

Result<RecordKey> read_key(schema::RecordKey::Reader in) {
  auto type = to_value_type(static_cast<unsigned>(in.getType()), "a record fragment's key");
  if (!type) return forward(type);
  RecordKey key{as_string(in.getKey()), *type, as_string(in.getMember())};
  if (auto member = check_member(key, "a record fragment's key"); !member) return forward(member);
  return key;
}

}  // namespace detail

namespace {

void write_fragment(schema::RecordFragment::Builder out, const RecordFragment& fragment) {
  assert(type_of(fragment.value) == fragment.key.type && "fragment value does not match its key's type");
  write_key(out.initKey(), fragment.key);
  write_value(out, fragment.value);
}

Result<RecordFragment> read_fragment(schema::RecordFragment::Reader in) {
  auto key = read_key(in.getKey());
  if (!key) return forward(key);
  auto type = union_type<schema::RecordFragment>(in, "a record fragment");
  if (!type) return forward(type);
  if (*type != key->type) {
    return corrupt(
        cat("a record fragment holds a ", type_name(*type), " under a key of a ", type_name(key->type)));
  }
  auto value = read_value<schema::RecordFragment>(in, *type);
  if (!value) return forward(value);
  return RecordFragment{std::move(*key), std::move(*value)};
}

Result<DeltaGroup> read_delta_group(schema::DeltaGroup::Reader root) {
  if (auto header = check_header(root, schema::MessageType::DELTA_GROUP); !header) return forward(header);
  DeltaGroup group;
  group.origin = ReplicaId{root.getOrigin()};
  const auto records = root.getRecords();
  if (auto length = check_length(records, "a delta-group's record list"); !length) return forward(length);
  group.records.reserve(records.size());
  for (const auto element : records) {
    auto fragment = read_fragment(element);
    if (!fragment) return forward(fragment);
    group.records.push_back(std::move(*fragment));
  }
  auto context = read_context(root.getContext());
  if (!context) return forward(context);
  group.context = std::move(*context);
  return group;
}

}  // namespace

std::string encode_delta_group(const DeltaGroup& group) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::DeltaGroup>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::DELTA_GROUP);
  root.setOrigin(group.origin.value);
  auto records = root.initRecords(static_cast<unsigned>(group.records.size()));
  for (unsigned i = 0; i < group.records.size(); ++i) write_fragment(records[i], group.records[i]);
  write_context(root.initContext(), group.context);
  return to_bytes(message);
}

Result<DeltaGroup> decode_delta_group(std::string_view bytes) {
  return decode_message<schema::DeltaGroup>(bytes, "delta-group", read_delta_group);
}

}  // namespace cairn::codec
