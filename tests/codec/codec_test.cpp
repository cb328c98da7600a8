#include "src/codec/codec.h"

#include <catch2/catch.hpp>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "schema/records.capnp.h"
#include "tests/support/property.h"

namespace cairn::codec {
namespace {

using crdt::CounterEntry;
using crdt::Dot;
using crdt::DotContext;
using crdt::ReplicaId;
using RegisterStore = crdt::LwwRegister::Store;
using CounterStore = crdt::PnCounter::Store;

// ---- Random values. ----

// Bytes biased towards the ones the key encoding treats specially.
std::string random_bytes(Rng& rng, std::uint64_t max_length) {
  static constexpr char kInteresting[] = {'\x00', '\x01', '\xFF', '\xFE', 'a', 'b'};
  std::string out(rng.below(max_length + 1), '\0');
  for (char& c : out) {
    c = rng.chance(3, 4) ? kInteresting[rng.below(sizeof kInteresting)] : static_cast<char>(rng.below(256));
  }
  return out;
}

ReplicaId random_replica(Rng& rng) { return ReplicaId{rng.chance(3, 4) ? rng.below(6) : rng.next()}; }

std::uint64_t random_counter(Rng& rng) {
  if (rng.chance(1, 10)) return UINT64_MAX;
  if (rng.chance(1, 5)) return 1 + rng.below(UINT64_MAX);
  return 1 + rng.below(12);
}

Dot random_dot(Rng& rng) { return Dot{random_replica(rng), random_counter(rng)}; }

DotContext random_context(Rng& rng) {
  crdt::VersionVector vector;
  for (std::uint64_t i = rng.below(5); i > 0; --i) vector.raise(random_replica(rng), random_counter(rng));
  std::set<Dot> cloud;
  for (std::uint64_t i = rng.below(7); i > 0; --i) cloud.insert(random_dot(rng));
  return DotContext::from_parts(vector, cloud);
}

crdt::HlcTimestamp random_timestamp(Rng& rng) {
  return crdt::HlcTimestamp{rng.chance(1, 8) ? UINT64_MAX : rng.below(1u << 20),
                            static_cast<std::uint32_t>(rng.chance(1, 8) ? UINT32_MAX : rng.below(4))};
}

RegisterStore random_register(Rng& rng) {
  RegisterStore store;
  for (std::uint64_t i = rng.below(4); i > 0; --i) {
    store.insert(random_dot(rng), crdt::LwwEntry{random_bytes(rng, 40), random_timestamp(rng)});
  }
  return store;
}

crdt::DotSet random_set_member(Rng& rng) {
  std::set<Dot> dots;
  for (std::uint64_t i = rng.below(5); i > 0; --i) dots.insert(random_dot(rng));
  return crdt::DotSet(dots);
}

CounterStore random_counter_store(Rng& rng) {
  CounterStore store;
  for (std::uint64_t i = rng.below(5); i > 0; --i) {
    CounterEntry entry;
    entry.kind = rng.chance(1, 2) ? CounterEntry::Kind::kReset : CounterEntry::Kind::kContribution;
    entry.contributor = random_replica(rng);
    entry.chain = random_dot(rng);
    entry.increments = rng.chance(1, 2) ? rng.below(100) : rng.next();
    entry.decrements = rng.chance(1, 2) ? rng.below(100) : rng.next();
    entry.deleted_increments = rng.below(3) == 0 ? rng.next() : 0;
    entry.deleted_decrements = rng.below(3) == 0 ? rng.next() : 0;
    if (entry.kind == CounterEntry::Kind::kReset) entry.observed = random_dot(rng);
    store.insert(random_dot(rng), entry);
  }
  return store;
}

ValueType random_type(Rng& rng) { return static_cast<ValueType>(1 + rng.below(3)); }

RecordValue random_value(Rng& rng, ValueType type) {
  switch (type) {
    case ValueType::kRegister:
      return random_register(rng);
    case ValueType::kSetMember:
      return random_set_member(rng);
    case ValueType::kCounter:
      return random_counter_store(rng);
  }
  FAIL("unknown value type");
  return {};
}

RecordKey random_record_key(Rng& rng, std::uint64_t max_length) {
  RecordKey key;
  key.key = random_bytes(rng, max_length);
  key.type = random_type(rng);
  if (key.type == ValueType::kSetMember) key.member = random_bytes(rng, max_length);
  return key;
}

DeltaGroup random_delta_group(Rng& rng) {
  DeltaGroup group;
  group.origin = random_replica(rng);
  for (std::uint64_t i = rng.below(6); i > 0; --i) {
    RecordFragment fragment;
    fragment.key = random_record_key(rng, 8);
    fragment.value = random_value(rng, fragment.key.type);
    group.records.push_back(std::move(fragment));
  }
  group.context = random_context(rng);
  return group;
}

// ---- Helpers. ----

// `bytes` copied to an address that is 1 byte past an 8-byte boundary, as LMDB may hand it out.
class Unaligned {
 public:
  explicit Unaligned(const std::string& bytes) : storage_(bytes.size() / 8 + 2) {
    std::memcpy(start(), bytes.data(), bytes.size());
    view_ = std::string_view(start(), bytes.size());
  }
  std::string_view view() const { return view_; }

 private:
  char* start() { return reinterpret_cast<char*>(storage_.data()) + 1; }
  std::vector<std::uint64_t> storage_;
  std::string_view view_;
};

std::string to_bytes(capnp::MessageBuilder& message) {
  const auto words = capnp::messageToFlatArray(message);
  return std::string(words.asChars().begin(), words.asChars().size());
}

template <typename T>
void check_error(const Result<T>& result, ErrorCode code, const std::string& fragment) {
  REQUIRE_FALSE(result.has_value());
  INFO("error: " << result.error().to_string());
  CHECK(result.error().code() == code);
  CHECK_THAT(result.error().message(), Catch::Contains(fragment));
}

const ValueType kAllTypes[] = {ValueType::kRegister, ValueType::kSetMember, ValueType::kCounter};

RecordValue empty_value(ValueType type) {
  switch (type) {
    case ValueType::kRegister:
      return RegisterStore{};
    case ValueType::kSetMember:
      return crdt::DotSet{};
    case ValueType::kCounter:
      return CounterStore{};
  }
  return {};
}

int sign(int value) { return (value > 0) - (value < 0); }

int sign_of(std::strong_ordering order) { return order < 0 ? -1 : order > 0 ? 1 : 0; }

// ---- Round trips. ----

TEST_CASE("codec: random value records round-trip, aligned and unaligned") {
  test::for_each_history("codec records round-trip", 300, [](Rng& rng) {
    for (const ValueType type : kAllTypes) {
      const RecordValue value = random_value(rng, type);
      const std::string bytes = encode_record(value);
      const auto decoded = decode_record(bytes, type);
      REQUIRE(decoded.has_value());
      CHECK(*decoded == value);
      const auto unaligned = decode_record(Unaligned(bytes).view(), type);
      REQUIRE(unaligned.has_value());
      CHECK(*unaligned == value);
      CHECK(encode_record(*decoded) == bytes);  // Encoding is deterministic.
    }
  });
}

TEST_CASE("codec: empty values of every type round-trip") {
  for (const ValueType type : kAllTypes) {
    const auto decoded = decode_record(encode_record(empty_value(type)), type);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == empty_value(type));
  }
}

TEST_CASE("codec: a large register value round-trips") {
  RegisterStore store;
  std::string value(1u << 20, '\0');
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  store.insert(Dot{ReplicaId{9}, 1}, crdt::LwwEntry{value, crdt::HlcTimestamp{1, 2}});
  const auto decoded = decode_record(encode_record(store), ValueType::kRegister);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == RecordValue(store));
}

TEST_CASE("codec: random contexts round-trip, aligned and unaligned") {
  test::for_each_history("codec contexts round-trip", 300, [](Rng& rng) {
    const DotContext context = random_context(rng);
    const std::string bytes = encode_context(context);
    const auto decoded = decode_context(bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == context);
    const auto unaligned = decode_context(Unaligned(bytes).view());
    REQUIRE(unaligned.has_value());
    CHECK(*unaligned == context);
  });
}

TEST_CASE("codec: a context with huge vector entries round-trips") {
  crdt::VersionVector vector;
  vector.raise(ReplicaId{1}, UINT64_MAX);
  vector.raise(ReplicaId{UINT64_MAX}, UINT64_MAX - 1);
  const DotContext context = DotContext::from_parts(vector, {Dot{ReplicaId{2}, UINT64_MAX}});
  const auto decoded = decode_context(encode_context(context));
  REQUIRE(decoded.has_value());
  CHECK(*decoded == context);
  CHECK(decoded->vector().get(ReplicaId{1}) == UINT64_MAX);
  CHECK(decoded->contains(Dot{ReplicaId{2}, UINT64_MAX}));
}

TEST_CASE("codec: the empty context round-trips") {
  const auto decoded = decode_context(encode_context(DotContext{}));
  REQUIRE(decoded.has_value());
  CHECK(decoded->empty());
}

TEST_CASE("codec: a non-canonical context decodes to its canonical form") {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  root.setFormatVersion(kFormatVersion);
  root.setType(schema::MessageType::STORED_CONTEXT);
  auto context = root.initContext();
  auto vector = context.initVector(3);
  const std::uint64_t entries[][2] = {{1, 5}, {1, 3} /* repeated: the larger prefix holds */, {2, 1}};
  for (unsigned i = 0; i < 3; ++i) {
    vector[i].setReplica(entries[i][0]);
    vector[i].setCounter(entries[i][1]);
  }
  // Covered by the vector; extends it; extends it once the previous folds in; a real gap.
  const std::uint64_t dots[][2] = {{1, 4}, {2, 2}, {2, 3}, {3, 9}};
  auto cloud = context.initCloud(4);
  for (unsigned i = 0; i < 4; ++i) {
    cloud[i].setReplica(dots[i][0]);
    cloud[i].setCounter(dots[i][1]);
  }
  const auto decoded = decode_context(to_bytes(message));
  REQUIRE(decoded.has_value());

  crdt::VersionVector expected_vector;
  expected_vector.raise(ReplicaId{1}, 5);
  expected_vector.raise(ReplicaId{2}, 3);
  CHECK(*decoded == DotContext::from_parts(expected_vector, {Dot{ReplicaId{3}, 9}}));
  CHECK(decoded->cloud() == std::set<Dot>{Dot{ReplicaId{3}, 9}});
}

TEST_CASE("codec: store meta round-trips, including extreme values") {
  for (const StoreMeta& meta : {StoreMeta{}, StoreMeta{1, ReplicaId{42}, 7},
                                StoreMeta{UINT32_MAX, ReplicaId{UINT64_MAX}, UINT64_MAX}}) {
    const std::string bytes = encode_meta(meta);
    const auto decoded = decode_meta(bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == meta);
    const auto unaligned = decode_meta(Unaligned(bytes).view());
    REQUIRE(unaligned.has_value());
    CHECK(*unaligned == meta);
  }
}

TEST_CASE("codec: random delta-groups round-trip, aligned and unaligned") {
  test::for_each_history("codec delta-groups round-trip", 300, [](Rng& rng) {
    const DeltaGroup group = random_delta_group(rng);
    const std::string bytes = encode_delta_group(group);
    const auto decoded = decode_delta_group(bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == group);
    const auto unaligned = decode_delta_group(Unaligned(bytes).view());
    REQUIRE(unaligned.has_value());
    CHECK(*unaligned == group);
    CHECK(encode_delta_group(*decoded) == bytes);
  });
}

TEST_CASE("codec: a delta-group keeps empty fragments, their order and repeated keys") {
  DeltaGroup group;
  group.origin = ReplicaId{3};
  group.records.push_back(RecordFragment{RecordKey{"k", ValueType::kSetMember, "m"}, crdt::DotSet{}});
  group.records.push_back(RecordFragment{RecordKey{"", ValueType::kRegister, ""}, RegisterStore{}});
  group.records.push_back(RecordFragment{RecordKey{"k", ValueType::kSetMember, "m"}, crdt::DotSet{}});
  group.records.push_back(RecordFragment{RecordKey{"c", ValueType::kCounter, ""}, CounterStore{}});
  group.context.insert(Dot{ReplicaId{3}, 1});
  const auto decoded = decode_delta_group(encode_delta_group(group));
  REQUIRE(decoded.has_value());
  CHECK(*decoded == group);
}

TEST_CASE("codec: record keys round-trip") {
  test::for_each_history("codec record keys round-trip", 300, [](Rng& rng) {
    const RecordKey key = random_record_key(rng, 12);
    const std::string bytes = encode_record_key(key);
    const auto decoded = decode_record_key(bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == key);
  });
}

// ---- Record key order. ----

TEST_CASE("codec: a < a+NUL < ab holds for record keys as for strings") {
  using namespace std::string_literals;
  const std::vector<std::string> keys = {""s,   "\x00"s,  "\x00\x00"s,  "\x00\xFF"s,
                                         "a"s,  "a\x00"s, "a\x00\x01"s, "a\x01"s,
                                         "ab"s, "a\xFF"s, "\xFF"s,      "\xFF\x00"s};
  REQUIRE(std::is_sorted(keys.begin(), keys.end()));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (std::size_t j = 0; j < keys.size(); ++j) {
      for (const ValueType type : kAllTypes) {
        // Every record of a smaller key sorts before every record of a larger key, whatever the type.
        const std::string left = encode_record_key(RecordKey{keys[i], ValueType::kCounter, ""});
        const std::string right =
            encode_record_key(RecordKey{keys[j], type, type == ValueType::kSetMember ? "\xFF\xFF"s : ""s});
        INFO("keys " << i << " and " << j);
        if (i < j) CHECK(left < right);
        if (i > j) CHECK(left > right);
      }
    }
  }
}

// Every key over {0x00, 0x01, 0xFF, 'a'} of length up to 3, with every type and a few members.
std::vector<RecordKey> exhaustive_keys() {
  const std::string alphabet(
      "\x00\x01\xFF"
      "a",
      4);
  std::vector<std::string> strings = {""};
  for (std::size_t begin = 0, length = 1; length <= 3; ++length) {
    const std::size_t end = strings.size();
    for (std::size_t i = begin; i < end; ++i) {
      for (const char c : alphabet) strings.push_back(strings[i] + c);
    }
    begin = end;
  }
  std::vector<RecordKey> keys;
  for (const std::string& key : strings) {
    keys.push_back(RecordKey{key, ValueType::kRegister, ""});
    keys.push_back(RecordKey{key, ValueType::kCounter, ""});
    for (const std::string& member :
         {std::string(), std::string(1, '\0'), std::string("a"), std::string("\xFF")}) {
      keys.push_back(RecordKey{key, ValueType::kSetMember, member});
    }
  }
  return keys;
}

TEST_CASE("codec: record keys sort exactly like (key, type, member) under byte order") {
  const std::vector<RecordKey> keys = exhaustive_keys();
  REQUIRE(keys.size() == 85 * 6);
  for (const RecordKey& a : keys) {
    const std::string a_bytes = encode_record_key(a);
    for (const RecordKey& b : keys) {
      const std::string b_bytes = encode_record_key(b);
      // std::string compares bytes as unsigned, then length: LMDB's default order.
      if (sign(a_bytes.compare(b_bytes)) != sign_of(a <=> b)) {
        FAIL_CHECK("order differs for keys of " << a.key.size() << " and " << b.key.size() << " bytes");
      }
    }
  }
}

TEST_CASE("codec: random record keys sort like (key, type, member)") {
  test::for_each_history("codec record key order", 300, [](Rng& rng) {
    for (int i = 0; i < 20; ++i) {
      const RecordKey a = random_record_key(rng, 6);
      // Often the same user key, so that the type and member decide.
      const RecordKey b =
          rng.chance(1, 4) ? RecordKey{a.key, random_type(rng), ""} : random_record_key(rng, 6);
      CHECK(sign(encode_record_key(a).compare(encode_record_key(b))) == sign_of(a <=> b));
    }
  });
}

TEST_CASE("codec: a key prefix covers exactly the records whose user key starts with it, contiguously") {
  const std::vector<RecordKey> keys = exhaustive_keys();
  std::vector<std::string> encoded;
  for (const RecordKey& key : keys) encoded.push_back(encode_record_key(key));
  std::vector<std::size_t> order(keys.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return encoded[a] < encoded[b]; });

  std::set<std::string> prefixes;
  for (const RecordKey& key : keys) {
    for (std::size_t length = 0; length <= key.key.size(); ++length)
      prefixes.insert(key.key.substr(0, length));
  }
  prefixes.insert("b");  // Matches nothing.
  for (const std::string& prefix : prefixes) {
    const std::string prefix_bytes = encode_key_prefix(prefix);
    const std::string exact_bytes = encode_exact_key_prefix(prefix);
    std::vector<bool> matched;
    for (const std::size_t i : order) {
      const bool covered = encoded[i].starts_with(prefix_bytes);
      CHECK(covered == keys[i].key.starts_with(prefix));
      CHECK(encoded[i].starts_with(exact_bytes) == (keys[i].key == prefix));
      // A cursor positioned at the prefix (MDB_SET_RANGE) lands on the first covered record.
      if (covered) CHECK(encoded[i] >= prefix_bytes);
      matched.push_back(covered);
    }
    // The covered records form one contiguous run in LMDB order.
    const auto first = std::find(matched.begin(), matched.end(), true);
    const auto past = std::find(first, matched.end(), false);
    CHECK(std::find(past, matched.end(), true) == matched.end());
  }
}

TEST_CASE("codec: the empty prefix covers every record key") {
  CHECK(encode_key_prefix("").empty());
  CHECK(encode_exact_key_prefix("") == std::string("\x00\x01", 2));
  CHECK(encode_record_key(RecordKey{"", ValueType::kRegister, ""}) == std::string("\x00\x01\x01", 3));
}

TEST_CASE("codec: record key bytes are the documented layout") {
  using namespace std::string_literals;
  CHECK(encode_record_key(RecordKey{"a\x00z"s, ValueType::kSetMember, "m\x00"s}) ==
        "a\x00\xFFz\x00\x01\x02m\x00"s);
  CHECK(encode_record_key(RecordKey{"k"s, ValueType::kCounter, ""}) == "k\x00\x01\x03"s);
}

// ---- Record key errors. ----

TEST_CASE("codec: malformed record keys are refused") {
  using namespace std::string_literals;
  check_error(decode_record_key(""), ErrorCode::kCorrupt, "ends before");
  check_error(decode_record_key("abc"), ErrorCode::kCorrupt, "ends before the 0x00 0x01");
  check_error(decode_record_key("a\x00"s), ErrorCode::kCorrupt, "ends before the 0x00 0x01");
  check_error(decode_record_key("a\x00\x02\x01"s), ErrorCode::kCorrupt, "0x00 followed by 0x2");
  check_error(decode_record_key("a\x00\x01"s), ErrorCode::kCorrupt, "value type byte");
  check_error(decode_record_key("a\x00\x01\x00"s), ErrorCode::kCorrupt, "value type 0");
  check_error(decode_record_key("a\x00\x01\x09"s), ErrorCode::kUnsupported, "value type 9");
  check_error(decode_record_key("a\x00\x01\x01m"s), ErrorCode::kCorrupt, "names a set member");
  check_error(decode_record_key("a\x00\x01\x03m"s), ErrorCode::kCorrupt, "names a set member");
  const auto member = decode_record_key("a\x00\xFF\x00\x01\x02\x00\x01"s);
  REQUIRE(member.has_value());
  CHECK(*member == RecordKey{"a\x00"s, ValueType::kSetMember, "\x00\x01"s});
}

// ---- Retirement records. ----

std::vector<RetiredReplica> random_retirements(Rng& rng) {
  std::set<std::uint64_t> replicas;
  for (std::uint64_t i = 1 + rng.below(5); i > 0; --i) replicas.insert(1 + rng.below(UINT64_MAX));
  std::vector<RetiredReplica> table;
  for (std::uint64_t replica : replicas) table.push_back(RetiredReplica{ReplicaId{replica}, rng.below(UINT64_MAX)});
  return table;
}

RetiredWrites random_retired_writes(Rng& rng) {
  RetiredWrites writes;
  writes.old_replica = ReplicaId{1 + rng.below(UINT64_MAX)};
  writes.through = rng.below(1000);
  for (std::uint64_t i = 1 + rng.below(3); i > 0; --i) {
    writes.registers.push_back(
        RetiredRegisterWrite{random_bytes(rng, 20), random_bytes(rng, 40), random_timestamp(rng), random_dot(rng)});
  }
  for (std::uint64_t i = 1 + rng.below(3); i > 0; --i) {
    writes.members.push_back(RetiredMemberAdd{random_bytes(rng, 20), random_bytes(rng, 20)});
  }
  for (std::uint64_t i = 1 + rng.below(3); i > 0; --i) {
    writes.counters.push_back(RetiredCounterTotals{random_bytes(rng, 20), random_dot(rng), rng.next(), rng.next(),
                                                   rng.next(), rng.next()});
  }
  for (std::uint64_t i = 1 + rng.below(3); i > 0; --i) {
    RetiredRemoval removal;
    for (std::uint64_t j = rng.below(4); j > 0; --j) removal.records.push_back(random_record_key(rng, 20));
    removal.context = random_context(rng);
    writes.removals.push_back(std::move(removal));
  }
  for (std::uint64_t i = rng.below(3); i > 0; --i) {
    crdt::CounterEntry reset;
    reset.kind = crdt::CounterEntry::Kind::kReset;
    reset.contributor = ReplicaId{1 + rng.below(UINT64_MAX)};
    reset.chain = random_dot(rng);
    reset.increments = rng.next();
    reset.decrements = rng.next();
    reset.observed = random_dot(rng);
    writes.resets.push_back(RetiredCounterReset{random_bytes(rng, 20), reset});
  }
  writes.old_replica_kept = rng.below(2) == 1;
  return writes;
}

// ---- Message errors. ----

// One valid encoding of each message kind, with a decoder that reports only the error.
struct Kind {
  const char* name;
  std::string bytes;
  std::function<std::optional<Error>(std::string_view)> decode;
};

template <typename T>
std::optional<Error> error_of(const Result<T>& result) {
  if (result) return std::nullopt;
  return result.error();
}

std::vector<Kind> every_kind() {
  Rng rng(7);
  RegisterStore reg;
  reg.insert(Dot{ReplicaId{1}, 2}, crdt::LwwEntry{"value", crdt::HlcTimestamp{5, 1}});
  DeltaGroup group = random_delta_group(rng);
  while (group.records.empty()) group = random_delta_group(rng);
  std::vector<Kind> kinds;
  kinds.push_back({"register", encode_record(reg),
                   [](std::string_view b) { return error_of(decode_record(b, ValueType::kRegister)); }});
  kinds.push_back({"set member", encode_record(crdt::DotSet({Dot{ReplicaId{1}, 1}, Dot{ReplicaId{2}, 9}})),
                   [](std::string_view b) { return error_of(decode_record(b, ValueType::kSetMember)); }});
  kinds.push_back({"counter", encode_record(random_counter_store(rng)),
                   [](std::string_view b) { return error_of(decode_record(b, ValueType::kCounter)); }});
  kinds.push_back({"context", encode_context(random_context(rng)),
                   [](std::string_view b) { return error_of(decode_context(b)); }});
  kinds.push_back({"meta", encode_meta(StoreMeta{1, ReplicaId{77}, 3}),
                   [](std::string_view b) { return error_of(decode_meta(b)); }});
  kinds.push_back({"delta-group", encode_delta_group(group),
                   [](std::string_view b) { return error_of(decode_delta_group(b)); }});
  kinds.push_back({"retirement table", encode_retirements(random_retirements(rng)),
                   [](std::string_view b) { return error_of(decode_retirements(b)); }});
  kinds.push_back({"retired writes", encode_retired_writes(random_retired_writes(rng)),
                   [](std::string_view b) { return error_of(decode_retired_writes(b)); }});
  return kinds;
}

TEST_CASE("codec: every truncation of a valid message is refused as corrupt") {
  for (const Kind& kind : every_kind()) {
    INFO(kind.name);
    REQUIRE_FALSE(kind.decode(kind.bytes).has_value());
    for (std::size_t length = 0; length < kind.bytes.size(); ++length) {
      const auto error = kind.decode(std::string_view(kind.bytes).substr(0, length));
      INFO("truncated to " << length << " of " << kind.bytes.size() << " bytes");
      REQUIRE(error.has_value());
      CHECK(error->code() == ErrorCode::kCorrupt);
    }
  }
}

TEST_CASE("codec: trailing bytes after a message are refused") {
  for (const Kind& kind : every_kind()) {
    INFO(kind.name);
    const auto error = kind.decode(kind.bytes + std::string(8, '\0'));
    REQUIRE(error.has_value());
    CHECK(error->code() == ErrorCode::kCorrupt);
    CHECK_THAT(error->message(), Catch::Contains("8 bytes after the end"));
  }
}

TEST_CASE("codec: garbage and bit-flipped messages never crash and fail with corrupt or unsupported") {
  const std::vector<Kind> kinds = every_kind();
  test::for_each_history("codec garbage", 300, [&](Rng& rng) {
    for (const Kind& kind : kinds) {
      std::string garbage = random_bytes(rng, 96);
      if (rng.chance(1, 2)) garbage.resize(garbage.size() / 8 * 8);
      std::string flipped = kind.bytes;
      for (std::uint64_t i = 1 + rng.below(4); i > 0; --i) {
        flipped[rng.below(flipped.size())] ^= static_cast<char>(1 + rng.below(255));
      }
      for (const std::string& bytes : {garbage, flipped}) {
        for (const auto& error : {kind.decode(bytes), kind.decode(Unaligned(bytes).view())}) {
          if (error)
            CHECK((error->code() == ErrorCode::kCorrupt || error->code() == ErrorCode::kUnsupported));
        }
      }
    }
  });
}

TEST_CASE("codec: a message of one kind is refused as another") {
  const std::vector<Kind> kinds = every_kind();
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    for (std::size_t j = 0; j < kinds.size(); ++j) {
      if (i == j) continue;
      INFO(kinds[i].name << " decoded as " << kinds[j].name);
      const auto error = kinds[j].decode(kinds[i].bytes);
      REQUIRE(error.has_value());
      CHECK(error->code() == ErrorCode::kCorrupt);
    }
  }
}

TEST_CASE("codec: a record of another type than its key names is corrupt") {
  for (const ValueType stored : kAllTypes) {
    for (const ValueType expected : kAllTypes) {
      const auto decoded = decode_record(encode_record(empty_value(stored)), expected);
      if (stored == expected) {
        CHECK(decoded.has_value());
      } else {
        check_error(decoded, ErrorCode::kCorrupt, "but its key names a");
      }
    }
  }
  check_error(decode_record(encode_record(crdt::DotSet{}), static_cast<ValueType>(0)),
              ErrorCode::kInvalidArgument, "value type 0");
}

TEST_CASE("codec: a wrong message type tag is corrupt") {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoreMeta>();
  root.setFormatVersion(kFormatVersion);
  root.setType(static_cast<schema::MessageType>(42));
  check_error(decode_meta(to_bytes(message)), ErrorCode::kCorrupt, "type tag says unknown message type 42");
  root.setType(schema::MessageType::DELTA_GROUP);
  check_error(decode_meta(to_bytes(message)), ErrorCode::kCorrupt, "type tag says delta-group");
}

// Fills the header of any top-level message.
template <typename Builder>
void set_header(Builder root, std::uint16_t version, schema::MessageType type) {
  root.setFormatVersion(version);
  root.setType(type);
}

TEST_CASE("codec: a newer format version is unsupported, version 0 corrupt, for every message") {
  for (const std::uint16_t version :
       {std::uint16_t(kFormatVersion + 1), std::uint16_t(0xFFFF), std::uint16_t(0)}) {
    const bool newer = version != 0;
    const ErrorCode code = newer ? ErrorCode::kUnsupported : ErrorCode::kCorrupt;
    const std::string text =
        newer ? "format version " + std::to_string(version) + " but this build reads versions 1 to 1"
              : "format version 0";
    INFO("version " << version);
    {
      capnp::MallocMessageBuilder message;
      auto root = message.initRoot<schema::ValueRecord>();
      set_header(root, version, schema::MessageType::VALUE_RECORD);
      root.initSetMember();
      check_error(decode_record(to_bytes(message), ValueType::kSetMember), code, "value record has " + text);
    }
    {
      capnp::MallocMessageBuilder message;
      set_header(message.initRoot<schema::StoredContext>(), version, schema::MessageType::STORED_CONTEXT);
      check_error(decode_context(to_bytes(message)), code, "stored context has " + text);
    }
    {
      capnp::MallocMessageBuilder message;
      set_header(message.initRoot<schema::StoreMeta>(), version, schema::MessageType::STORE_META);
      check_error(decode_meta(to_bytes(message)), code, "store meta has " + text);
    }
    {
      capnp::MallocMessageBuilder message;
      set_header(message.initRoot<schema::DeltaGroup>(), version, schema::MessageType::DELTA_GROUP);
      check_error(decode_delta_group(to_bytes(message)), code, "delta-group has " + text);
    }
  }
}

TEST_CASE("codec: an all-zero message (version 0) is corrupt") {
  capnp::MallocMessageBuilder message;
  message.initRoot<schema::ValueRecord>();
  check_error(decode_record(to_bytes(message), ValueType::kRegister), ErrorCode::kCorrupt,
              "format version 0");
  // One segment of one word holding a null root pointer: every field reads as its default.
  check_error(decode_meta(std::string("\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0", 16)), ErrorCode::kCorrupt,
              "format version 0");
}

// Overwrites the union discriminant of `builder` with `value`, as a newer writer's union member would.
template <typename Struct>
void set_discriminant(typename Struct::Builder builder, std::uint16_t value) {
  const auto offset = capnp::Schema::from<Struct>().getProto().getStruct().getDiscriminantOffset();
  capnp::AnyStruct::Builder any(std::move(builder));
  auto data = any.getDataSection();
  REQUIRE(data.size() >= 2 * (offset + 1));
  data[2 * offset] = static_cast<kj::byte>(value & 0xFF);
  data[2 * offset + 1] = static_cast<kj::byte>(value >> 8);
}

TEST_CASE("codec: an unknown union member (from a newer writer) is unsupported") {
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::ValueRecord>();
    set_header(root, kFormatVersion, schema::MessageType::VALUE_RECORD);
    root.initCounter();
    set_discriminant<schema::ValueRecord>(root, 3);
    check_error(decode_record(to_bytes(message), ValueType::kCounter), ErrorCode::kUnsupported,
                "value record holds value kind 3, unknown to this build");
  }
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::DeltaGroup>();
    set_header(root, kFormatVersion, schema::MessageType::DELTA_GROUP);
    auto fragment = root.initRecords(1)[0];
    fragment.initKey().setType(schema::ValueType::REGISTER);
    fragment.initRegister();
    set_discriminant<schema::RecordFragment>(fragment, 17);
    check_error(decode_delta_group(to_bytes(message)), ErrorCode::kUnsupported,
                "a record fragment holds value kind 17");
  }
}

// A delta-group with one fragment, which `edit` adjusts.
std::string group_with_fragment(const std::function<void(schema::RecordFragment::Builder)>& edit) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::DeltaGroup>();
  set_header(root, kFormatVersion, schema::MessageType::DELTA_GROUP);
  auto fragment = root.initRecords(1)[0];
  auto key = fragment.initKey();
  key.setKey(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("k"), 1));
  key.setType(schema::ValueType::SET_MEMBER);
  fragment.initSetMember();
  edit(fragment);
  return to_bytes(message);
}

TEST_CASE("codec: malformed record fragments are refused") {
  CHECK(decode_delta_group(group_with_fragment([](auto) {})).has_value());
  check_error(
      decode_delta_group(group_with_fragment([](auto f) { f.getKey().setType(schema::ValueType::UNKNOWN); })),
      ErrorCode::kCorrupt, "value type 0");
  check_error(decode_delta_group(group_with_fragment(
                  [](auto f) { f.getKey().setType(static_cast<schema::ValueType>(300)); })),
              ErrorCode::kUnsupported, "value type 300");
  check_error(decode_delta_group(group_with_fragment([](auto f) { f.initCounter(); })), ErrorCode::kCorrupt,
              "holds a counter under a key of a set member");
  check_error(decode_delta_group(group_with_fragment([](auto f) {
                f.getKey().setType(schema::ValueType::REGISTER);
                f.initRegister();
                f.getKey().setMember(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("m"), 1));
              })),
              ErrorCode::kCorrupt, "names a set member");
  check_error(
      decode_delta_group(group_with_fragment([](auto f) { f.getSetMember().initDots(1)[0].setReplica(4); })),
      ErrorCode::kCorrupt, "has counter 0");
}

// A value record holding `type`, which `edit` fills.
template <typename Edit>
std::string record_with(Edit&& edit) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::ValueRecord>();
  set_header(root, kFormatVersion, schema::MessageType::VALUE_RECORD);
  edit(root);
  return to_bytes(message);
}

TEST_CASE("codec: zero dots are corrupt wherever a dot names an event") {
  check_error(decode_record(record_with([](auto root) { root.initSetMember().initDots(1)[0].setReplica(1); }),
                            ValueType::kSetMember),
              ErrorCode::kCorrupt, "a set member's dot (r1,0) has counter 0");
  check_error(
      decode_record(record_with([](auto root) { root.initRegister().initEntries(1); }), ValueType::kRegister),
      ErrorCode::kCorrupt, "a register entry's dot (r0,0) has counter 0");

  auto counter_entry = [](auto edit) {
    return record_with([&](auto root) {
      auto entry = root.initCounter().initEntries(1)[0];
      entry.initDot().setCounter(1);
      entry.initChain().setCounter(1);
      entry.setKind(schema::CounterEntry::Kind::RESET);
      entry.initObserved().setCounter(1);
      edit(entry);
    });
  };
  CHECK(decode_record(counter_entry([](auto) {}), ValueType::kCounter).has_value());
  check_error(decode_record(counter_entry([](auto e) { e.getDot().setCounter(0); }), ValueType::kCounter),
              ErrorCode::kCorrupt, "a counter entry's dot");
  check_error(decode_record(counter_entry([](auto e) { e.getChain().setCounter(0); }), ValueType::kCounter),
              ErrorCode::kCorrupt, "a counter entry's chain");
  check_error(
      decode_record(counter_entry([](auto e) { e.getObserved().setCounter(0); }), ValueType::kCounter),
      ErrorCode::kCorrupt, "a counter reset's observed contribution");
  // A contribution does not name an observed contribution, so its field may stay unset.
  CHECK(decode_record(counter_entry([](auto e) {
                        e.setKind(schema::CounterEntry::Kind::CONTRIBUTION);
                        e.getObserved().setCounter(0);
                      }),
                      ValueType::kCounter)
            .has_value());

  auto context_with = [](auto edit) {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::StoredContext>();
    set_header(root, kFormatVersion, schema::MessageType::STORED_CONTEXT);
    edit(root.initContext());
    return to_bytes(message);
  };
  check_error(decode_context(context_with([](auto c) { c.initCloud(1)[0].setReplica(5); })),
              ErrorCode::kCorrupt, "a cloud dot (r5,0) has counter 0");
  check_error(decode_context(context_with([](auto c) { c.initVector(1)[0].setReplica(5); })),
              ErrorCode::kCorrupt, "version vector entry of replica 5 has counter 0");
}

TEST_CASE("codec: an unknown counter entry kind is unsupported") {
  const std::string bytes = record_with([](auto root) {
    auto entry = root.initCounter().initEntries(1)[0];
    entry.initDot().setCounter(1);
    entry.initChain().setCounter(1);
    entry.setKind(static_cast<schema::CounterEntry::Kind>(2));
  });
  check_error(decode_record(bytes, ValueType::kCounter), ErrorCode::kUnsupported, "counter entry has kind 2");
}

TEST_CASE("codec: a dot listed twice in a register or counter is corrupt") {
  check_error(
      decode_record(record_with([](auto root) {
                      auto entries = root.initRegister().initEntries(2);
                      for (auto entry : entries) entry.initDot().setCounter(4);
                      entries[1].setValue(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("x"), 1));
                    }),
                    ValueType::kRegister),
      ErrorCode::kCorrupt, "a register lists dot (r0,4) twice");
  check_error(decode_record(record_with([](auto root) {
                              for (auto entry : root.initCounter().initEntries(2)) {
                                entry.initDot().setCounter(4);
                                entry.initChain().setCounter(1);
                              }
                            }),
                            ValueType::kCounter),
              ErrorCode::kCorrupt, "a counter lists dot (r0,4) twice");
}

TEST_CASE("codec: input over kMaxMessageBytes is refused before parsing") {
  const std::string huge(kMaxMessageBytes + 8, '\0');
  check_error(decode_delta_group(huge), ErrorCode::kCorrupt,
              "over the limit of " + std::to_string(kMaxMessageBytes));
}

TEST_CASE("codec: a list over kMaxListLength is refused") {
  const std::string bytes = record_with([](auto root) {
    auto dots = root.initSetMember().initDots(static_cast<unsigned>(kMaxListLength + 1));
    std::uint64_t counter = 0;
    for (auto dot : dots) dot.setCounter(++counter);
  });
  check_error(decode_record(bytes, ValueType::kSetMember), ErrorCode::kCorrupt,
              "a set member has " + std::to_string(kMaxListLength + 1) + " elements, over the limit");
}

// A stored context whose cloud is a list of `count` zero-sized structs occupying no bytes: the
// amplification attack the traversal limit and kMaxListLength defend against.
std::string context_with_amplified_cloud(std::uint32_t count) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoredContext>();
  set_header(root, kFormatVersion, schema::MessageType::STORED_CONTEXT);
  auto context = root.initContext();
  context.initVector(0);
  context.initCloud(0);
  std::string bytes = to_bytes(message);
  // The cloud's tag word is the last word written: 0 elements of 2 data words and 0 pointers.
  std::uint64_t tag = 0;
  std::memcpy(&tag, bytes.data() + bytes.size() - 8, 8);
  REQUIRE(tag == (std::uint64_t{2} << 32));
  tag = std::uint64_t{count} << 2;  // `count` elements of 0 data words and 0 pointers.
  std::memcpy(bytes.data() + bytes.size() - 8, &tag, 8);
  return bytes;
}

TEST_CASE("codec: lists of zero-sized elements cannot amplify a small message") {
  CHECK(context_with_amplified_cloud(0).size() < 100);
  check_error(decode_context(context_with_amplified_cloud(1)), ErrorCode::kCorrupt, "has counter 0");
  check_error(decode_context(context_with_amplified_cloud(static_cast<std::uint32_t>(kMaxListLength + 1))),
              ErrorCode::kCorrupt,
              "a context's cloud has " + std::to_string(kMaxListLength + 1) + " elements");
  check_error(decode_context(context_with_amplified_cloud((1u << 29) - 1)), ErrorCode::kCorrupt, "malformed");
}

TEST_CASE("codec: a pointer of the wrong kind is reported as corrupt, not thrown") {
  std::string bytes = encode_record(crdt::DotSet({Dot{ReplicaId{1}, 1}}));
  bytes[8] = '\x01';  // Root pointer kind 1: a list where a struct belongs.
  const auto decoded = decode_record(bytes, ValueType::kSetMember);
  REQUIRE_FALSE(decoded.has_value());
  CHECK(decoded.error().code() == ErrorCode::kCorrupt);
}

TEST_CASE("codec: stored contexts round-trip with and without omitted retirements") {
  test::for_each_history("codec stored context", 100, [](Rng& rng) {
    StoredContext stored{random_context(rng), std::nullopt};
    if (rng.chance(1, 2)) stored.omitted_retirements = rng.next();
    const std::string bytes = encode_stored_context(stored);
    for (const auto& decoded : {decode_stored_context(bytes), decode_stored_context(Unaligned(bytes).view())}) {
      REQUIRE(decoded.has_value());
      CHECK(*decoded == stored);
    }
    // A reader that knows nothing of retirements reads the same context, without the omitted replicas.
    const auto bare = decode_context(bytes);
    REQUIRE(bare.has_value());
    CHECK(*bare == stored.context);
  });
  // A context written by encode_context omits nothing.
  const auto plain = decode_stored_context(encode_context(DotContext{}));
  REQUIRE(plain.has_value());
  CHECK_FALSE(plain->omitted_retirements.has_value());
}

TEST_CASE("codec: retirement tables and retired writes round-trip, aligned and unaligned") {
  test::for_each_history("codec retirements", 100, [](Rng& rng) {
    const std::vector<RetiredReplica> table = random_retirements(rng);
    const std::string table_bytes = encode_retirements(table);
    for (const auto& decoded : {decode_retirements(table_bytes), decode_retirements(Unaligned(table_bytes).view())}) {
      REQUIRE(decoded.has_value());
      CHECK(*decoded == table);
    }
    const RetiredWrites writes = random_retired_writes(rng);
    const std::string writes_bytes = encode_retired_writes(writes);
    for (const auto& decoded :
         {decode_retired_writes(writes_bytes), decode_retired_writes(Unaligned(writes_bytes).view())}) {
      REQUIRE(decoded.has_value());
      CHECK(*decoded == writes);
    }
  });
  const auto empty = decode_retirements(encode_retirements({}));
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
}

TEST_CASE("codec: the retirement digest tells tables apart") {
  const std::vector<RetiredReplica> one{{ReplicaId{5}, 10}};
  CHECK(retirement_digest(one) == retirement_digest(one));
  CHECK(retirement_digest(one) != retirement_digest({{ReplicaId{5}, 11}}));
  CHECK(retirement_digest(one) != retirement_digest({{ReplicaId{6}, 10}}));
  CHECK(retirement_digest(one) != retirement_digest({}));
  CHECK(retirement_digest(one) != retirement_digest({{ReplicaId{5}, 10}, {ReplicaId{7}, 1}}));
}

TEST_CASE("codec: malformed retirement tables and retired writes are refused") {
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::RetirementTable>();
    set_header(root, kFormatVersion, schema::MessageType::RETIREMENT_TABLE);
    auto list = root.initRetired(2);
    list[0].setReplica(9);
    list[1].setReplica(3);
    check_error(decode_retirements(to_bytes(message)), ErrorCode::kCorrupt, "not ascending");
    list[1].setReplica(9);
    check_error(decode_retirements(to_bytes(message)), ErrorCode::kCorrupt, "not ascending");
    list[0].setReplica(0);
    check_error(decode_retirements(to_bytes(message)), ErrorCode::kCorrupt, "replica 0");
  }
  {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::RetiredWrites>();
    set_header(root, kFormatVersion, schema::MessageType::RETIRED_WRITES);
    check_error(decode_retired_writes(to_bytes(message)), ErrorCode::kCorrupt, "replica 0");
    root.setOldReplica(4);
    auto registers = root.initRegisters(1);
    check_error(decode_retired_writes(to_bytes(message)), ErrorCode::kCorrupt, "dot");
    registers[0].initDot().setReplica(4);
    registers[0].getDot().setCounter(2);
    REQUIRE(decode_retired_writes(to_bytes(message)).has_value());
    root.initCounters(1);
    check_error(decode_retired_writes(to_bytes(message)), ErrorCode::kCorrupt, "chain");
    root.initCounters(0);
    auto removals = root.initRemovals(1);
    auto keys = removals[0].initRecords(1);
    keys[0].setType(schema::ValueType::REGISTER);
    keys[0].setMember(capnp::Data::Reader(reinterpret_cast<const kj::byte*>("m"), 1));
    check_error(decode_retired_writes(to_bytes(message)), ErrorCode::kCorrupt, "names a set member");
  }
  for (const std::uint16_t version : {std::uint16_t(kFormatVersion + 1), std::uint16_t(0)}) {
    const ErrorCode code = version == 0 ? ErrorCode::kCorrupt : ErrorCode::kUnsupported;
    capnp::MallocMessageBuilder table;
    set_header(table.initRoot<schema::RetirementTable>(), version, schema::MessageType::RETIREMENT_TABLE);
    check_error(decode_retirements(to_bytes(table)), code, "retirement table has format version");
    capnp::MallocMessageBuilder writes;
    set_header(writes.initRoot<schema::RetiredWrites>(), version, schema::MessageType::RETIRED_WRITES);
    check_error(decode_retired_writes(to_bytes(writes)), code, "retired writes has format version");
  }
}

TEST_CASE("codec: store meta keeps its fingerprint, predecessors and unconfirmed range") {
  StoreMeta meta{1, ReplicaId{42}, 7};
  meta.fingerprint = StoreFingerprint{12345, UINT64_MAX, 0};
  meta.predecessors = {ReplicaId{9}, ReplicaId{UINT64_MAX}};
  meta.unconfirmed_from = 31;
  meta.unconfirmed_from_sequence = 8;
  const auto decoded = decode_meta(encode_meta(meta));
  REQUIRE(decoded.has_value());
  CHECK(*decoded == meta);
  // A store written before fingerprints existed reads as having none (it records one on open).
  const auto older = decode_meta(encode_meta(StoreMeta{1, ReplicaId{42}, 7}));
  REQUIRE(older.has_value());
  CHECK_FALSE(older->fingerprint.has_value());

  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::StoreMeta>();
  set_header(root, kFormatVersion, schema::MessageType::STORE_META);
  root.setReplica(42);
  root.initPredecessors(1).set(0, 0);
  check_error(decode_meta(to_bytes(message)), ErrorCode::kCorrupt, "predecessor");
}

}  // namespace
}  // namespace cairn::codec
