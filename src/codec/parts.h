// Internal to the record codec (src/codec/codec.h): what every record family shares. Only
// src/codec/*.cpp include this header (it names the generated schema).
//
// Decoding has two layers. decode_message() checks the raw bytes (size, word alignment), builds a
// Cap'n Proto reader with traversal and nesting limits, and turns every kj::Exception Cap'n Proto
// throws on malformed input into ErrorCode::kCorrupt, so no exception leaves the codec. The read_*
// functions copy a reader into the in-memory types and check each invariant on the way; they read
// every pointer field once, because each read counts against the traversal limit.
//
// Encoders assume values the store can hold: every list within kMaxListLength and the whole message
// within kMaxMessageBytes (only the size is checked, by assert). Anything larger would be written but
// refused on read.
//
// Where each family lives: parts.cpp (names, bytes in and out), contexts.cpp (dots, causal contexts),
// registers.cpp, sets.cpp, counters.cpp (the dot store of each value type), values.cpp (value
// records), deltas.cpp (record keys inside messages, fragments, delta-groups), meta.cpp (store
// identity, peer records), retirements.cpp (retirement tables, retired writes), record_keys.cpp (the
// order-preserving LMDB record keys, not Cap'n Proto).
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "cairn/status.h"
#include "schema/records.capnp.h"
#include "src/codec/codec.h"
#include "src/codec/untrusted_message.h"

namespace cairn::codec::detail {

using crdt::CounterEntry;
using crdt::Dot;
using crdt::DotContext;
using crdt::ReplicaId;
using RegisterStore = crdt::LwwRegister::Store;
using CounterStore = crdt::PnCounter::Store;

// The deepest legitimate message nests 7 pointers (group, records, fragment, counter value, entries,
// entry, dot); the limit leaves room for fields a later format adds.
constexpr int kNestingLimit = 16;

// Every legitimate message is at most kMaxMessageBytes and we read each object once, so twice that
// leaves room while capping how far a message that points many pointers at one object can amplify.
constexpr std::uint64_t kTraversalLimitWords = 2 * kMaxMessageBytes / sizeof(capnp::word);

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

inline tl::unexpected<Error> corrupt(std::string message) { return fail(ErrorCode::kCorrupt, std::move(message)); }

template <typename T>
tl::unexpected<Error> forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

// ---- Names for messages (parts.cpp). ----

const char* type_name(ValueType type);
std::string message_type_name(schema::MessageType type);

inline ValueType type_of(const RecordValue& value) { return static_cast<ValueType>(value.index() + 1); }

inline bool is_known(ValueType type) {
  return type == ValueType::kRegister || type == ValueType::kSetMember || type == ValueType::kCounter;
}

// Checks a value type read from bytes: 0 is never written; a number above the known ones may come
// from a newer cairn.
Result<ValueType> to_value_type(unsigned raw, const char* what);

Status check_member(const RecordKey& key, const char* what);

// ---- Bytes in and out (parts.cpp). ----

capnp::Data::Reader as_data(const std::string& bytes);
std::string as_string(capnp::Data::Reader data);
std::string to_bytes(capnp::MessageBuilder& message);

// Parses `bytes` as one Cap'n Proto message with root `Root` and returns `read(root)`; every way the
// bytes can fail to be such a message becomes kCorrupt. `what` names the message in errors.
template <typename Root, typename Read>
auto decode_message(std::string_view bytes, const char* what, Read&& read)
    -> decltype(read(std::declval<typename Root::Reader>())) {
  if (bytes.size() > kMaxMessageBytes) {
    return corrupt(cat(what, " is ", bytes.size(), " bytes, over the limit of ", kMaxMessageBytes));
  }
  return read_untrusted_message<Root>(bytes, MessageLimits{kTraversalLimitWords, kNestingLimit},
                                      ErrorCode::kCorrupt, what, std::forward<Read>(read));
}

// Checks the format version and type tag every top-level message starts with.
template <typename Reader>
Status check_header(Reader root, schema::MessageType expected) {
  const unsigned version = root.getFormatVersion();
  if (version > kFormatVersion) {
    return fail(ErrorCode::kUnsupported, cat(message_type_name(expected), " has format version ", version,
                                             " but this build reads versions 1 to ", kFormatVersion,
                                             ": it was written by a newer cairn"));
  }
  if (version == 0) {
    return corrupt(cat(message_type_name(expected),
                       " has format version 0, which no cairn writes (zeroed or foreign bytes)"));
  }
  if (root.getType() != expected) {
    return corrupt(cat("expected a ", message_type_name(expected), " but the type tag says ",
                       message_type_name(root.getType())));
  }
  return ok();
}

template <typename List>
Status check_length(const List& list, const char* what) {
  if (list.size() > kMaxListLength) {
    return corrupt(cat(what, " has ", list.size(), " elements, over the limit of ", kMaxListLength));
  }
  return ok();
}

// ---- Dots and contexts (contexts.cpp). ----

void write_dot(schema::Dot::Builder out, const Dot& dot);
Result<Dot> read_dot(schema::Dot::Reader in, const char* what);
void write_context(schema::DotContext::Builder out, const DotContext& context);
// Rebuilds a context in canonical form: repeated vector entries and cloud dots the vector covers are
// redundant, not contradictory, so they are folded rather than refused.
Result<DotContext> read_context(schema::DotContext::Reader in);

// ---- Dot stores (registers.cpp, sets.cpp, counters.cpp). ----

void write_register(schema::RegisterValue::Builder out, const RegisterStore& store);
Result<RegisterStore> read_register(schema::RegisterValue::Reader in);
void write_set_member(schema::SetMemberValue::Builder out, const crdt::DotSet& store);
Result<crdt::DotSet> read_set_member(schema::SetMemberValue::Reader in);
void write_counter(schema::CounterValue::Builder out, const CounterStore& store);
Result<CounterStore> read_counter(schema::CounterValue::Reader in);

// ---- The value union, shared by ValueRecord and RecordFragment (`Struct`). ----

template <typename Builder>
void write_value(Builder out, const RecordValue& value) {
  if (const auto* store = std::get_if<RegisterStore>(&value)) {
    write_register(out.initRegister(), *store);
  } else if (const auto* dots = std::get_if<crdt::DotSet>(&value)) {
    write_set_member(out.initSetMember(), *dots);
  } else {
    write_counter(out.initCounter(), std::get<CounterStore>(value));
  }
}

// The type the union holds; a discriminant this build does not know comes from a newer writer.
template <typename Struct>
Result<ValueType> union_type(typename Struct::Reader in, const char* what) {
  switch (in.which()) {
    case Struct::REGISTER:
      return ValueType::kRegister;
    case Struct::SET_MEMBER:
      return ValueType::kSetMember;
    case Struct::COUNTER:
      return ValueType::kCounter;
  }
  return fail(ErrorCode::kUnsupported, cat(what, " holds value kind ", static_cast<unsigned>(in.which()),
                                           ", unknown to this build (written by a newer cairn?)"));
}

template <typename T>
Result<RecordValue> as_value(Result<T> store) {
  if (!store) return forward(store);
  return RecordValue(std::in_place_type<T>, std::move(*store));
}

template <typename Struct>
Result<RecordValue> read_value(typename Struct::Reader in, ValueType type) {
  switch (type) {
    case ValueType::kRegister:
      return as_value(read_register(in.getRegister()));
    case ValueType::kSetMember:
      return as_value(read_set_member(in.getSetMember()));
    case ValueType::kCounter:
      return as_value(read_counter(in.getCounter()));
  }
  return corrupt("unreachable: unknown value type");
}

// ---- Record keys inside messages (deltas.cpp). ----

void write_key(schema::RecordKey::Builder out, const RecordKey& key);
Result<RecordKey> read_key(schema::RecordKey::Reader in);

}  // namespace cairn::codec::detail
