#include "src/store/delta_apply.h"

#include <algorithm>
#include <map>
#include <variant>

#include "src/codec/codec.h"
#include "src/store/hash_tree.h"
#include "src/store/record_checks.h"

namespace cairn::store {
namespace {

template <typename S>
S join_stores(const S& mine, const crdt::DotContext& my_context, const S& theirs,
              const crdt::DotContext& their_context) {
  return S::join(mine, my_context, theirs, their_context);
}

bool value_is_empty(const codec::RecordValue& value) {
  return std::visit([](const auto& store) { return store.empty(); }, value);
}

bool type_matches(codec::ValueType type, const codec::RecordValue& value) {
  switch (type) {
    case codec::ValueType::kRegister: return std::holds_alternative<crdt::LwwRegister::Store>(value);
    case codec::ValueType::kSetMember: return std::holds_alternative<crdt::DotSet>(value);
    case codec::ValueType::kCounter: return std::holds_alternative<crdt::PnCounter::Store>(value);
  }
  return false;
}

}  // namespace

codec::RecordValue join_values(const codec::RecordValue& mine, const crdt::DotContext& my_context,
                               const codec::RecordValue& theirs, const crdt::DotContext& their_context) {
  return std::visit(
      [&](const auto& my_store) -> codec::RecordValue {
        using S = std::decay_t<decltype(my_store)>;
        return join_stores(my_store, my_context, std::get<S>(theirs), their_context);
      },
      mine);
}

codec::RecordValue empty_record(codec::ValueType type) {
  switch (type) {
    case codec::ValueType::kRegister: return crdt::LwwRegister::Store{};
    case codec::ValueType::kSetMember: return crdt::DotSet{};
    case codec::ValueType::kCounter: return crdt::PnCounter::Store{};
  }
  return crdt::LwwRegister::Store{};
}

Result<codec::RecordValue> read_record(const Txn& txn, MDB_dbi values, const codec::RecordKey& key) {
  auto bytes = txn.read(values, codec::encode_record_key(key));
  if (!bytes) return tl::unexpected(bytes.error());
  if (!bytes->has_value()) return empty_record(key.type);
  auto value = codec::decode_record(**bytes, key.type);
  if (!value) {
    return fail(value.error().code(), "record of key '" + key.key + "': " + value.error().message());
  }
  if (auto checked = check_record(key, *value); !checked) return tl::unexpected(checked.error());
  return value;
}

Status for_each_record(const Txn& txn, MDB_dbi values,
                       const std::function<Status(const codec::RecordKey&, const codec::RecordValue&)>& visit) {
  auto cursor = LmdbCursor::open(txn, values);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek("");; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) return ok();
    auto key = codec::decode_record_key((*entry)->key);
    if (!key) return tl::unexpected(key.error());
    auto value = codec::decode_record((*entry)->value, key->type);
    if (!value) return fail(value.error().code(), "record of key '" + key->key + "': " + value.error().message());
    if (auto checked = check_record(*key, *value); !checked) return checked;
    if (auto visited = visit(*key, *value); !visited) return visited;
  }
}

Status write_record(Txn& txn, const Databases& databases, const codec::RecordKey& key,
                    const codec::RecordValue& value) {
  const std::string record_key = codec::encode_record_key(key);
  // The index of counter records holding resets (the records metadata compaction looks at) changes
  // with the record, in the same transaction.
  if (key.type == codec::ValueType::kCounter) {
    const auto* counter = std::get_if<crdt::PnCounter::Store>(&value);
    const bool holds_resets = counter != nullptr && crdt::PnCounter::holds_resets(*counter);
    if (auto indexed = holds_resets ? txn.write(databases.resets, record_key, "")
                                    : txn.erase(databases.resets, record_key);
        !indexed) {
      return indexed;
    }
  }
  if (value_is_empty(value)) {
    if (auto erased = txn.erase(databases.values, record_key); !erased) return erased;
    return tree::update(txn, databases, record_key, std::nullopt);
  }
  const std::string bytes = codec::encode_record(value);
  if (auto written = txn.write(databases.values, record_key, bytes); !written) return written;
  return tree::update(txn, databases, record_key, bytes);
}

bool context_covers(const crdt::DotContext& context, const crdt::DotContext& fragment) {
  for (const auto& [replica, counter] : fragment.vector().entries()) {
    if (context.vector().get(replica) >= counter) continue;
    for (std::uint64_t n = context.vector().get(replica) + 1; n <= counter; ++n) {
      if (!context.contains(crdt::Dot{replica, n})) return false;
    }
  }
  return std::all_of(fragment.cloud().begin(), fragment.cloud().end(),
                     [&](const crdt::Dot& dot) { return context.contains(dot); });
}

Result<AppliedDelta> apply_delta_group(Txn& txn, const Databases& databases, crdt::DotContext& context,
                                       const codec::DeltaGroup& group) {
  // A key listed twice (a group joined from deltas) is joined with itself first, under the group's own
  // context; joining it into the store twice against the stale store context would be wrong.
  std::map<codec::RecordKey, codec::RecordValue> fragments;
  for (const codec::RecordFragment& fragment : group.records) {
    if (!type_matches(fragment.key.type, fragment.value)) {
      return fail(ErrorCode::kCorrupt, "delta fragment for key '" + fragment.key.key + "' has the wrong value type");
    }
    auto [it, inserted] = fragments.try_emplace(fragment.key, fragment.value);
    if (!inserted) it->second = join_values(it->second, group.context, fragment.value, group.context);
  }

  AppliedDelta applied;
  for (const auto& [key, fragment] : fragments) {
    auto current = read_record(txn, databases.values, key);
    if (!current) return tl::unexpected(current.error());
    codec::RecordValue joined = join_values(*current, context, fragment, group.context);
    if (joined == *current) continue;
    // Right before the write: the record must hold only dots its store will have seen after the join
    // (an empty value is an erase: nothing is written to check).
    if (auto checked = value_is_empty(joined) ? ok() : check_record_under(key, joined, context, &group.context);
        !checked) {
      return tl::unexpected(checked.error());
    }
    if (auto written = write_record(txn, databases, key, joined); !written) return tl::unexpected(written.error());
    applied.changed.push_back(key);
  }
  // Forward the whole group when any of it was new: a fragment that changed nothing here may still
  // remove dots a neighbour holds, and its context alone would not tell the neighbour which record.
  if (!applied.changed.empty() || !context_covers(context, group.context)) {
    applied.new_part.origin = group.origin;
    applied.new_part.context = group.context;
    for (auto& [key, fragment] : fragments) applied.new_part.records.push_back(codec::RecordFragment{key, fragment});
  }
  context.join(group.context);
  return applied;
}

}  // namespace cairn::store
