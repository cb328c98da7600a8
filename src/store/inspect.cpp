// LmdbStore::inspect: the CRDT metadata behind one key (include/cairn/store.h, KeyInspection).
//
// Everything is read in one read transaction, so the sections agree with each other. A set's members
// are walked record by record: at most kInspectMaxMembersCounted of them are counted (their dots join
// the key's context) and the first kInspectMaxMembersListed are returned with their dots, so a huge set
// costs a bounded amount of work and memory.
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "crdt/causal.h"
#include "src/codec/codec.h"
#include "src/store/databases.h"
#include "src/store/delta_apply.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {
namespace {

using codec::RecordKey;
using codec::ValueType;

InspectedDot inspected(const crdt::Dot& dot) { return InspectedDot{dot.replica.value, dot.counter}; }

void add_register(const crdt::LwwRegister::Store& store, KeyInspection& out, std::set<crdt::Dot>& dots) {
  for (const crdt::LwwVersion& version : crdt::LwwRegister::versions(store)) {
    out.versions.push_back(RegisterVersion{inspected(version.dot), version.entry->timestamp.wall_ms,
                                           version.entry->timestamp.logical, version.entry->value});
  }
  if (!out.versions.empty()) out.writing_replica = out.versions.front().dot.replica;
  store.collect_dots(dots);
}

void add_counter(const crdt::PnCounter::Store& store, KeyInspection& out, std::set<crdt::Dot>& dots) {
  const crdt::CounterTotal total = crdt::PnCounter::total_of(store);
  out.counter_out_of_range = !crdt::PnCounter::fits_int64(total);
  if (out.counter_out_of_range) {
    out.counter_value = total > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  } else {
    out.counter_value = static_cast<std::int64_t>(total);
  }
  for (const auto& [dot, entry] : store.entries()) {
    CounterPart part;
    part.dot = inspected(dot);
    part.reset = entry.kind == crdt::CounterEntry::Kind::kReset;
    part.contributor = entry.contributor.value;
    part.chain = inspected(entry.chain);
    part.increments = entry.increments;
    part.decrements = entry.decrements;
    part.deleted_increments = entry.deleted_increments;
    part.deleted_decrements = entry.deleted_decrements;
    part.observed = inspected(entry.observed);
    out.counter_parts.push_back(part);
  }
  store.collect_dots(dots);
}

// Counts (up to the cap) and lists (up to the listing limit) the member records of `key`.
Status add_members(const Txn& txn, MDB_dbi values, std::string_view key, KeyInspection& out,
                   std::set<crdt::Dot>& dots) {
  const std::string prefix = codec::encode_exact_key_prefix(key) + static_cast<char>(ValueType::kSetMember);
  auto cursor = LmdbCursor::open(txn, values);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek(prefix);; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value() || !(*entry)->key.starts_with(prefix)) break;
    if (out.member_count >= kInspectMaxMembersCounted) {
      out.member_count_capped = true;
      break;
    }
    auto record_key = codec::decode_record_key((*entry)->key);
    if (!record_key) return tl::unexpected(record_key.error());
    auto value = codec::decode_record((*entry)->value, ValueType::kSetMember);
    if (!value) return tl::unexpected(value.error());
    const auto& member_dots = std::get<crdt::DotSet>(*value);
    if (member_dots.empty()) continue;
    ++out.member_count;
    member_dots.collect_dots(dots);
    if (out.members.size() < kInspectMaxMembersListed) {
      InspectedMember member{std::move(record_key->member), {}};
      for (const crdt::Dot& dot : member_dots.dots()) member.dots.push_back(inspected(dot));
      out.members.push_back(std::move(member));
    }
  }
  return ok();
}

// The key's causal context: the store-wide context (every dot this peer has seen, which is the context
// of every key in the causal map) restricted to the replicas whose dots the key holds. A dot of such a
// replica that is in it but not in the key was overwritten or deleted.
Status set_context(const Txn& txn, MDB_dbi meta, const std::set<crdt::Dot>& dots, KeyInspection& out) {
  auto stored = txn.read(meta, kMetaContextKey);
  if (!stored) return tl::unexpected(stored.error());
  crdt::DotContext context;
  if (*stored) {
    auto decoded = codec::decode_context(**stored);
    if (!decoded) return tl::unexpected(decoded.error());
    context = std::move(*decoded);
  }
  std::set<crdt::ReplicaId> replicas;
  for (const crdt::Dot& dot : dots) replicas.insert(dot.replica);
  for (const auto& [replica, counter] : context.vector().entries()) {
    if (replicas.contains(replica)) out.version_vector.emplace_back(replica.value, counter);
  }
  for (const crdt::Dot& dot : context.cloud()) {
    if (replicas.contains(dot.replica)) out.dots_outside_vector.push_back(inspected(dot));
  }
  return ok();
}

}  // namespace

Result<KeyInspection> LmdbStore::inspect(std::string_view key) {
  if (key.empty()) return fail(ErrorCode::kInvalidArgument, "a key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return fail(ErrorCode::kLimitExceeded,
                "key of " + std::to_string(key.size()) + " bytes exceeds the limit of " + std::to_string(kMaxKeyBytes));
  }
  return with_read_txn([&](const Txn& txn) -> Result<KeyInspection> {
    const MDB_dbi values = databases().values;
    auto kinds = kinds_at(txn, values, key);
    if (!kinds) return tl::unexpected(kinds.error());
    if (!kinds->any()) return fail(ErrorCode::kNotFound, "no key '" + std::string(key) + "'");
    KeyInspection out;
    out.key = std::string(key);
    std::set<crdt::Dot> dots;
    if (kinds->register_value) {
      auto record = read_record(txn, values, RecordKey{out.key, ValueType::kRegister, {}});
      if (!record) return tl::unexpected(record.error());
      add_register(std::get<crdt::LwwRegister::Store>(*record), out, dots);
      out.kinds.push_back(ValueKind::kRegister);
    }
    if (kinds->set) {
      if (auto members = add_members(txn, values, key, out, dots); !members) return tl::unexpected(members.error());
      out.kinds.push_back(ValueKind::kSet);
    }
    if (kinds->counter) {
      auto record = read_record(txn, values, RecordKey{out.key, ValueType::kCounter, {}});
      if (!record) return tl::unexpected(record.error());
      add_counter(std::get<crdt::PnCounter::Store>(*record), out, dots);
      out.kinds.push_back(ValueKind::kCounter);
    }
    out.kind = out.kinds.front();
    if (auto context = set_context(txn, databases().meta, dots, out); !context) return tl::unexpected(context.error());
    return out;
  });
}

}  // namespace cairn::store
