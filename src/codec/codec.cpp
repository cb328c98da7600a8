// The codec over schema/records.capnp.
//
// Decoding has two layers. decode_message() checks the raw bytes (size, word alignment), builds a
// Cap'n Proto reader with traversal and nesting limits, and turns every kj::Exception Cap'n Proto
// throws on malformed input into ErrorCode::kCorrupt, so no exception leaves the codec. The read_*
// functions below it copy a reader into the in-memory types and check each invariant on the way;
// they read every pointer field once, because each read counts against the traversal limit.
//
// Encoders assume values the store can hold: every list within kMaxListLength and the whole message
// within kMaxMessageBytes (only the size is checked, by assert). Anything larger would be written but
// refused on read.
#include "src/codec/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>
#include <kj/exception.h>
#include <xxhash.h>

#include <cassert>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

#include "schema/records.capnp.h"
#include "src/codec/untrusted_message.h"

namespace cairn::codec {
namespace {

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

// The byte that ends an escaped user key inside a record key is 0x00 0x01; a 0x00 inside it is 0x00 0xFF.
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';
constexpr char kTerminator = '\x01';

template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

tl::unexpected<Error> corrupt(std::string message) { return fail(ErrorCode::kCorrupt, std::move(message)); }

template <typename T>
tl::unexpected<Error> forward(Result<T>& failed) {
  return tl::unexpected<Error>(std::move(failed.error()));
}

// ---- Names for messages. ----

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
    case schema::MessageType::UNKNOWN:
      break;
  }
  return cat("unknown message type ", static_cast<unsigned>(type));
}

[[maybe_unused]] ValueType type_of(const RecordValue& value) {
  return static_cast<ValueType>(value.index() + 1);
}

bool is_known(ValueType type) {
  return type == ValueType::kRegister || type == ValueType::kSetMember || type == ValueType::kCounter;
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

// ---- Bytes in and out. ----

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

// ---- Dots and contexts. ----

void write_dot(schema::Dot::Builder out, const Dot& dot) {
  out.setReplica(dot.replica.value);
  out.setCounter(dot.counter);
}

Result<Dot> read_dot(schema::Dot::Reader in, const char* what) {
  const Dot dot{ReplicaId{in.getReplica()}, in.getCounter()};
  if (dot.counter == 0) return corrupt(cat(what, " ", dot, " has counter 0; dot counters start at 1"));
  return dot;
}

void write_context(schema::DotContext::Builder out, const DotContext& context) {
  const auto& entries = context.vector().entries();
  auto vector = out.initVector(static_cast<unsigned>(entries.size()));
  unsigned i = 0;
  for (const auto& [replica, counter] : entries) {
    vector[i].setReplica(replica.value);
    vector[i].setCounter(counter);
    ++i;
  }
  auto cloud = out.initCloud(static_cast<unsigned>(context.cloud().size()));
  i = 0;
  for (const Dot& dot : context.cloud()) write_dot(cloud[i++], dot);
}

// Rebuilds a context in canonical form: repeated vector entries and cloud dots the vector covers are
// redundant, not contradictory, so they are folded rather than refused.
Result<DotContext> read_context(schema::DotContext::Reader in) {
  const auto entries = in.getVector();
  if (auto length = check_length(entries, "a version vector"); !length) return forward(length);
  crdt::VersionVector vector;
  for (const auto entry : entries) {
    if (entry.getCounter() == 0) {
      return corrupt(cat("a version vector entry of replica ", entry.getReplica(),
                         " has counter 0; replicas with no events have no entry"));
    }
    vector.raise(ReplicaId{entry.getReplica()}, entry.getCounter());
  }
  const auto cloud = in.getCloud();
  if (auto length = check_length(cloud, "a context's cloud"); !length) return forward(length);
  std::set<Dot> dots;
  for (const auto element : cloud) {
    auto dot = read_dot(element, "a cloud dot");
    if (!dot) return forward(dot);
    dots.insert(*dot);
  }
  return DotContext::from_parts(std::move(vector), dots);
}

// ---- Dot stores. ----

void write_register(schema::RegisterValue::Builder out, const RegisterStore& store) {
  auto entries = out.initEntries(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const auto& [dot, entry] : store.entries()) {
    auto element = entries[i++];
    write_dot(element.initDot(), dot);
    element.setValue(as_data(entry.value));
    auto timestamp = element.initTimestamp();
    timestamp.setWallMs(entry.timestamp.wall_ms);
    timestamp.setLogical(entry.timestamp.logical);
  }
}

Result<RegisterStore> read_register(schema::RegisterValue::Reader in) {
  const auto entries = in.getEntries();
  if (auto length = check_length(entries, "a register"); !length) return forward(length);
  RegisterStore::Entries out;
  for (const auto element : entries) {
    auto dot = read_dot(element.getDot(), "a register entry's dot");
    if (!dot) return forward(dot);
    const auto timestamp = element.getTimestamp();
    crdt::LwwEntry entry{as_string(element.getValue()),
                         crdt::HlcTimestamp{timestamp.getWallMs(), timestamp.getLogical()}};
    // A dot names one write: two entries for it would leave the value ambiguous.
    if (!out.emplace(*dot, std::move(entry)).second)
      return corrupt(cat("a register lists dot ", *dot, " twice"));
  }
  return RegisterStore(std::move(out));
}

void write_set_member(schema::SetMemberValue::Builder out, const crdt::DotSet& store) {
  auto dots = out.initDots(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const Dot& dot : store.dots()) write_dot(dots[i++], dot);
}

Result<crdt::DotSet> read_set_member(schema::SetMemberValue::Reader in) {
  const auto dots = in.getDots();
  if (auto length = check_length(dots, "a set member"); !length) return forward(length);
  std::set<Dot> out;
  for (const auto element : dots) {
    auto dot = read_dot(element, "a set member's dot");
    if (!dot) return forward(dot);
    out.insert(*dot);
  }
  return crdt::DotSet(std::move(out));
}

void write_counter_entry(schema::CounterEntry::Builder out, const Dot& dot, const CounterEntry& entry) {
  write_dot(out.initDot(), dot);
  out.setKind(entry.kind == CounterEntry::Kind::kReset ? schema::CounterEntry::Kind::RESET
                                                       : schema::CounterEntry::Kind::CONTRIBUTION);
  out.setContributor(entry.contributor.value);
  write_dot(out.initChain(), entry.chain);
  out.setIncrements(entry.increments);
  out.setDecrements(entry.decrements);
  out.setDeletedIncrements(entry.deleted_increments);
  out.setDeletedDecrements(entry.deleted_decrements);
  write_dot(out.initObserved(), entry.observed);
}

Result<CounterEntry> read_counter_entry(schema::CounterEntry::Reader in) {
  CounterEntry entry;
  switch (in.getKind()) {
    case schema::CounterEntry::Kind::CONTRIBUTION:
      entry.kind = CounterEntry::Kind::kContribution;
      break;
    case schema::CounterEntry::Kind::RESET:
      entry.kind = CounterEntry::Kind::kReset;
      break;
    default:
      return fail(ErrorCode::kUnsupported,
                  cat("a counter entry has kind ", static_cast<unsigned>(in.getKind()),
                      ", unknown to this build (written by a newer cairn?)"));
  }
  entry.contributor = ReplicaId{in.getContributor()};
  auto chain = read_dot(in.getChain(), "a counter entry's chain");
  if (!chain) return forward(chain);
  entry.chain = *chain;
  entry.increments = in.getIncrements();
  entry.decrements = in.getDecrements();
  entry.deleted_increments = in.getDeletedIncrements();
  entry.deleted_decrements = in.getDeletedDecrements();
  const auto observed = in.getObserved();
  if (entry.kind == CounterEntry::Kind::kReset) {
    // A reset names the contribution it observed; a contribution leaves the field unset.
    auto dot = read_dot(observed, "a counter reset's observed contribution");
    if (!dot) return forward(dot);
    entry.observed = *dot;
  } else {
    entry.observed = Dot{ReplicaId{observed.getReplica()}, observed.getCounter()};
  }
  return entry;
}

void write_counter(schema::CounterValue::Builder out, const CounterStore& store) {
  auto entries = out.initEntries(static_cast<unsigned>(store.size()));
  unsigned i = 0;
  for (const auto& [dot, entry] : store.entries()) write_counter_entry(entries[i++], dot, entry);
}

Result<CounterStore> read_counter(schema::CounterValue::Reader in) {
  const auto entries = in.getEntries();
  if (auto length = check_length(entries, "a counter"); !length) return forward(length);
  CounterStore::Entries out;
  for (const auto element : entries) {
    auto dot = read_dot(element.getDot(), "a counter entry's dot");
    if (!dot) return forward(dot);
    auto entry = read_counter_entry(element);
    if (!entry) return forward(entry);
    if (!out.emplace(*dot, *entry).second) return corrupt(cat("a counter lists dot ", *dot, " twice"));
  }
  return CounterStore(std::move(out));
}

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

// ---- Delta-groups. ----

void write_key(schema::RecordKey::Builder out, const RecordKey& key) {
  out.setKey(as_data(key.key));
  out.setType(static_cast<schema::ValueType>(key.type));
  out.setMember(as_data(key.member));
}

void write_fragment(schema::RecordFragment::Builder out, const RecordFragment& fragment) {
  assert(type_of(fragment.value) == fragment.key.type && "fragment value does not match its key's type");
  write_key(out.initKey(), fragment.key);
  write_value(out, fragment.value);
}

Result<RecordKey> read_key(schema::RecordKey::Reader in) {
  auto type = to_value_type(static_cast<unsigned>(in.getType()), "a record fragment's key");
  if (!type) return forward(type);
  RecordKey key{as_string(in.getKey()), *type, as_string(in.getMember())};
  if (auto member = check_member(key, "a record fragment's key"); !member) return forward(member);
  return key;
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

// ---- Record keys. ----

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

std::string encode_context(const DotContext& context) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORED_CONTEXT);
  write_context(root.initContext(), context);
  return to_bytes(message);
}

Result<DotContext> decode_context(std::string_view bytes) {
  return decode_message<schema::StoredContext>(
      bytes, "stored context", [](schema::StoredContext::Reader root) -> Result<DotContext> {
        if (auto header = check_header(root, schema::MessageType::STORED_CONTEXT); !header)
          return forward(header);
        return read_context(root.getContext());
      });
}

std::string encode_stored_context(const StoredContext& stored) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORED_CONTEXT);
  write_context(root.initContext(), stored.context);
  root.setOmitsRetired(stored.omitted_retirements.has_value());
  root.setRetirementDigest(stored.omitted_retirements.value_or(0));
  return to_bytes(message);
}

Result<StoredContext> decode_stored_context(std::string_view bytes) {
  return decode_message<schema::StoredContext>(
      bytes, "stored context", [](schema::StoredContext::Reader root) -> Result<StoredContext> {
        if (auto header = check_header(root, schema::MessageType::STORED_CONTEXT); !header)
          return forward(header);
        auto context = read_context(root.getContext());
        if (!context) return forward(context);
        StoredContext stored{std::move(*context), std::nullopt};
        if (root.getOmitsRetired()) stored.omitted_retirements = root.getRetirementDigest();
        return stored;
      });
}

std::string encode_meta(const StoreMeta& meta) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoreMeta>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORE_META);
  root.setStoreFormatVersion(meta.format_version);
  root.setReplica(meta.replica.value);
  root.setNextDeltaSequence(meta.next_delta_sequence);
  if (meta.fingerprint) {
    auto fingerprint = root.initFingerprint();
    fingerprint.setInode(meta.fingerprint->inode);
    fingerprint.setFilesystem(meta.fingerprint->filesystem);
    fingerprint.setMachine(meta.fingerprint->machine);
  }
  auto predecessors = root.initPredecessors(static_cast<unsigned>(meta.predecessors.size()));
  for (unsigned i = 0; i < meta.predecessors.size(); ++i) predecessors.set(i, meta.predecessors[i].value);
  root.setUnconfirmedFrom(meta.unconfirmed_from);
  root.setUnconfirmedFromSequence(meta.unconfirmed_from_sequence);
  return to_bytes(message);
}

Result<StoreMeta> decode_meta(std::string_view bytes) {
  return decode_message<
      schema::StoreMeta>(bytes, "store meta", [](schema::StoreMeta::Reader root) -> Result<StoreMeta> {
    if (auto header = check_header(root, schema::MessageType::STORE_META); !header) return forward(header);
    StoreMeta meta{root.getStoreFormatVersion(), ReplicaId{root.getReplica()}, root.getNextDeltaSequence()};
    if (root.hasFingerprint()) {
      const auto fingerprint = root.getFingerprint();
      meta.fingerprint = StoreFingerprint{fingerprint.getInode(), fingerprint.getFilesystem(), fingerprint.getMachine()};
    }
    const auto predecessors = root.getPredecessors();
    if (auto length = check_length(predecessors, "a store's predecessor ids"); !length) return forward(length);
    for (const std::uint64_t id : predecessors) {
      if (id == 0) return corrupt("store meta names replica 0 as a predecessor");
      meta.predecessors.push_back(ReplicaId{id});
    }
    meta.unconfirmed_from = root.getUnconfirmedFrom();
    meta.unconfirmed_from_sequence = root.getUnconfirmedFromSequence();
    return meta;
  });
}

std::string encode_peer_record(const PeerRecord& peer) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PeerRecord>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::PEER_RECORD);
  root.setId(peer.id);
  root.setHost(peer.host);
  root.setPort(peer.port);
  root.setStatus(peer.status);
  root.setIncarnation(peer.incarnation);
  return to_bytes(message);
}

Result<PeerRecord> decode_peer_record(std::string_view bytes) {
  return decode_message<
      schema::PeerRecord>(bytes, "peer record", [](schema::PeerRecord::Reader root) -> Result<PeerRecord> {
    if (auto header = check_header(root, schema::MessageType::PEER_RECORD); !header) return forward(header);
    if (root.getId() == 0) return fail(ErrorCode::kCorrupt, "peer record has replica id 0");
    if (root.getStatus() > 3) return fail(ErrorCode::kUnsupported, "peer record has an unknown member status");
    if (root.getHost().size() > 255) return fail(ErrorCode::kCorrupt, "peer record host is over 255 bytes");
    return PeerRecord{root.getId(), std::string(root.getHost().cStr(), root.getHost().size()), root.getPort(),
                      root.getStatus(), root.getIncarnation()};
  });
}

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

// ---- Retiring replicas. ----

std::uint64_t retirement_digest(const std::vector<RetiredReplica>& table) {
  std::string bytes;
  bytes.reserve(table.size() * 16);
  const auto append = [&](std::uint64_t value) {
    for (int i = 0; i < 8; ++i, value >>= 8) bytes.push_back(static_cast<char>(value & 0xFF));
  };
  for (const RetiredReplica& retired : table) {
    append(retired.replica.value);
    append(retired.through);
  }
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::string encode_retirements(const std::vector<RetiredReplica>& table) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::RetirementTable>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::RETIREMENT_TABLE);
  auto list = root.initRetired(static_cast<unsigned>(table.size()));
  for (unsigned i = 0; i < table.size(); ++i) {
    list[i].setReplica(table[i].replica.value);
    list[i].setThrough(table[i].through);
  }
  return to_bytes(message);
}

Result<std::vector<RetiredReplica>> decode_retirements(std::string_view bytes) {
  return decode_message<schema::RetirementTable>(
      bytes, "retirement table",
      [](schema::RetirementTable::Reader root) -> Result<std::vector<RetiredReplica>> {
        if (auto header = check_header(root, schema::MessageType::RETIREMENT_TABLE); !header)
          return forward(header);
        const auto list = root.getRetired();
        if (auto length = check_length(list, "a retirement table"); !length) return forward(length);
        std::vector<RetiredReplica> table;
        table.reserve(list.size());
        for (const auto element : list) {
          const RetiredReplica retired{ReplicaId{element.getReplica()}, element.getThrough()};
          if (retired.replica.value == 0) return corrupt("a retirement table names replica 0");
          if (!table.empty() && table.back().replica >= retired.replica) {
            return corrupt(cat("a retirement table is not ascending by replica at replica ",
                               retired.replica.value));
          }
          table.push_back(retired);
        }
        return table;
      });
}

namespace {

Result<RetiredWrites> read_retired_writes(schema::RetiredWrites::Reader root) {
  if (auto header = check_header(root, schema::MessageType::RETIRED_WRITES); !header) return forward(header);
  RetiredWrites writes;
  writes.old_replica = ReplicaId{root.getOldReplica()};
  if (writes.old_replica.value == 0) return corrupt("retired writes name replica 0 as the retired one");
  writes.through = root.getThrough();
  writes.old_replica_kept = root.getOldReplicaKept();
  const auto registers = root.getRegisters();
  if (auto length = check_length(registers, "retired register writes"); !length) return forward(length);
  for (const auto element : registers) {
    auto dot = read_dot(element.getDot(), "a retired register write's dot");
    if (!dot) return forward(dot);
    const auto timestamp = element.getTimestamp();
    writes.registers.push_back(RetiredRegisterWrite{as_string(element.getKey()), as_string(element.getValue()),
                                                    crdt::HlcTimestamp{timestamp.getWallMs(), timestamp.getLogical()},
                                                    *dot});
  }
  const auto members = root.getMembers();
  if (auto length = check_length(members, "retired set adds"); !length) return forward(length);
  for (const auto element : members) {
    writes.members.push_back(RetiredMemberAdd{as_string(element.getKey()), as_string(element.getMember())});
  }
  const auto counters = root.getCounters();
  if (auto length = check_length(counters, "retired counter totals"); !length) return forward(length);
  for (const auto element : counters) {
    auto chain = read_dot(element.getChain(), "retired counter totals' chain");
    if (!chain) return forward(chain);
    writes.counters.push_back(RetiredCounterTotals{as_string(element.getKey()), *chain, element.getIncrements(),
                                                   element.getDecrements(), element.getDeletedIncrements(),
                                                   element.getDeletedDecrements()});
  }
  const auto removals = root.getRemovals();
  if (auto length = check_length(removals, "retired removals"); !length) return forward(length);
  for (const auto element : removals) {
    RetiredRemoval removal;
    const auto keys = element.getRecords();
    if (auto length = check_length(keys, "a retired removal's records"); !length) return forward(length);
    for (const auto key : keys) {
      auto record_key = read_key(key);
      if (!record_key) return forward(record_key);
      removal.records.push_back(std::move(*record_key));
    }
    auto context = read_context(element.getContext());
    if (!context) return forward(context);
    removal.context = std::move(*context);
    writes.removals.push_back(std::move(removal));
  }
  const auto resets = root.getResets();
  if (auto length = check_length(resets, "retired counter resets"); !length) return forward(length);
  for (const auto element : resets) {
    auto chain = read_dot(element.getChain(), "a retired counter reset's chain");
    if (!chain) return forward(chain);
    auto observed = read_dot(element.getObserved(), "a retired counter reset's observed contribution");
    if (!observed) return forward(observed);
    crdt::CounterEntry reset;
    reset.kind = crdt::CounterEntry::Kind::kReset;
    reset.contributor = crdt::ReplicaId{element.getContributor()};
    reset.chain = *chain;
    reset.increments = element.getIncrements();
    reset.decrements = element.getDecrements();
    reset.observed = *observed;
    writes.resets.push_back(RetiredCounterReset{as_string(element.getKey()), reset});
  }
  return writes;
}

}  // namespace

std::string encode_retired_writes(const RetiredWrites& writes) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::RetiredWrites>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::RETIRED_WRITES);
  root.setOldReplica(writes.old_replica.value);
  root.setThrough(writes.through);
  root.setOldReplicaKept(writes.old_replica_kept);
  auto registers = root.initRegisters(static_cast<unsigned>(writes.registers.size()));
  for (unsigned i = 0; i < writes.registers.size(); ++i) {
    const RetiredRegisterWrite& write = writes.registers[i];
    registers[i].setKey(as_data(write.key));
    registers[i].setValue(as_data(write.value));
    auto timestamp = registers[i].initTimestamp();
    timestamp.setWallMs(write.timestamp.wall_ms);
    timestamp.setLogical(write.timestamp.logical);
    write_dot(registers[i].initDot(), write.dot);
  }
  auto members = root.initMembers(static_cast<unsigned>(writes.members.size()));
  for (unsigned i = 0; i < writes.members.size(); ++i) {
    members[i].setKey(as_data(writes.members[i].key));
    members[i].setMember(as_data(writes.members[i].member));
  }
  auto counters = root.initCounters(static_cast<unsigned>(writes.counters.size()));
  for (unsigned i = 0; i < writes.counters.size(); ++i) {
    const RetiredCounterTotals& totals = writes.counters[i];
    counters[i].setKey(as_data(totals.key));
    write_dot(counters[i].initChain(), totals.chain);
    counters[i].setIncrements(totals.increments);
    counters[i].setDecrements(totals.decrements);
    counters[i].setDeletedIncrements(totals.deleted_increments);
    counters[i].setDeletedDecrements(totals.deleted_decrements);
  }
  auto removals = root.initRemovals(static_cast<unsigned>(writes.removals.size()));
  for (unsigned i = 0; i < writes.removals.size(); ++i) {
    const RetiredRemoval& removal = writes.removals[i];
    auto keys = removals[i].initRecords(static_cast<unsigned>(removal.records.size()));
    for (unsigned j = 0; j < removal.records.size(); ++j) write_key(keys[j], removal.records[j]);
    write_context(removals[i].initContext(), removal.context);
  }
  auto resets = root.initResets(static_cast<unsigned>(writes.resets.size()));
  for (unsigned i = 0; i < writes.resets.size(); ++i) {
    const crdt::CounterEntry& reset = writes.resets[i].reset;
    resets[i].setKey(as_data(writes.resets[i].key));
    resets[i].setContributor(reset.contributor.value);
    write_dot(resets[i].initChain(), reset.chain);
    resets[i].setIncrements(reset.increments);
    resets[i].setDecrements(reset.decrements);
    write_dot(resets[i].initObserved(), reset.observed);
  }
  return to_bytes(message);
}

Result<RetiredWrites> decode_retired_writes(std::string_view bytes) {
  return decode_message<schema::RetiredWrites>(bytes, "retired writes", read_retired_writes);
}

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
