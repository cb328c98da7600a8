#include "src/store/local_ops.h"

#include <utility>

#include "crdt/or_set.h"
#include "src/codec/codec.h"
#include "src/store/delta_apply.h"

namespace cairn::store {
namespace {

using codec::RecordKey;
using codec::ValueType;

// Collects the fragments of one local write into delta-groups of at most kMaxFragmentsPerGroup. Dots
// minted for one fragment must be visible when the next is computed (one write may mint several), so
// each fragment is computed against a working context that already holds the previous fragments'.
class DeltaBuilder {
 public:
  explicit DeltaBuilder(const LocalWrite& write)
      : write_(write), working_context_(write.context), groups_(1) {}

  // `make(current_store, working_context)` returns the record's Causal<Store> delta.
  template <typename Store, typename Make>
  Status add(RecordKey key, Make&& make) {
    auto current = read_record(write_.txn, write_.values, key);
    if (!current) return tl::unexpected(current.error());
    crdt::Causal<Store> delta = std::forward<Make>(make)(std::get<Store>(*current), working_context_);
    working_context_.join(delta.context);
    if (groups_.back().records.size() >= kMaxFragmentsPerGroup) groups_.emplace_back();
    groups_.back().context.join(delta.context);
    groups_.back().records.push_back(codec::RecordFragment{std::move(key), std::move(delta.store)});
    return ok();
  }

  LocalDelta finish() && { return std::move(groups_); }

 private:
  const LocalWrite& write_;
  crdt::DotContext working_context_;
  LocalDelta groups_;
};

// Runs OrSet's member operation on the one member record, as a one-member OrSet store.
template <typename Operation>
crdt::Causal<crdt::DotSet> member_delta(const crdt::DotSet& member_dots, const crdt::DotContext& context,
                                        const std::string& member, Operation&& operation) {
  crdt::OrSet::Store one_member;
  one_member.assign(member, member_dots);
  crdt::Causal<crdt::OrSet::Store> set_delta = std::forward<Operation>(operation)(one_member, context);
  const crdt::DotSet* dots = set_delta.store.find(member);
  return crdt::Causal<crdt::DotSet>{dots != nullptr ? *dots : crdt::DotSet{}, std::move(set_delta.context)};
}

// Adds to `builder` the fragment of OrSet operation `operation` ("add_delta" or "remove_delta") on
// each member of `key`.
template <typename Operation>
Status add_member_fragments(DeltaBuilder& builder, std::string_view key,
                            const std::vector<std::string>& members, Operation&& operation) {
  for (const std::string& member : members) {
    auto added = builder.add<crdt::DotSet>(RecordKey{std::string(key), ValueType::kSetMember, member},
                                           [&](const crdt::DotSet& current, const crdt::DotContext& context) {
                                             return member_delta(current, context, member,
                                                                 [&](const auto& store, const auto& ctx) {
                                                                   return operation(store, ctx, member);
                                                                 });
                                           });
    if (!added) return added;
  }
  return ok();
}

// Every set member record of `key`, in member order.
Result<std::vector<std::string>> member_names(const Txn& txn, MDB_dbi values, std::string_view key) {
  const std::string prefix = codec::encode_exact_key_prefix(key) + static_cast<char>(ValueType::kSetMember);
  auto cursor = LmdbCursor::open(txn, values);
  if (!cursor) return tl::unexpected(cursor.error());
  std::vector<std::string> members;
  for (auto entry = cursor->seek(prefix);; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value() || !(*entry)->key.starts_with(prefix)) break;
    auto record_key = codec::decode_record_key((*entry)->key);
    if (!record_key) return tl::unexpected(record_key.error());
    members.push_back(std::move(record_key->member));
  }
  return members;
}

}  // namespace

Result<KindsAtKey> kinds_at(const Txn& txn, MDB_dbi values, std::string_view key) {
  KindsAtKey kinds;
  const std::string prefix = codec::encode_exact_key_prefix(key);
  auto cursor = LmdbCursor::open(txn, values);
  if (!cursor) return tl::unexpected(cursor.error());
  // Records of one key are contiguous and sort by type byte: register, set members, counter. Walk
  // them from the first, stepping record by record except over set members, which may number
  // millions: past the first member, seek straight to where a counter would be. The usual key holds
  // one kind, so this costs one seek and one step.
  auto entry = cursor->seek(prefix);
  while (true) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value() || !(*entry)->key.starts_with(prefix) || (*entry)->key.size() == prefix.size())
      break;
    const auto type = static_cast<ValueType>((*entry)->key[prefix.size()]);
    if (type == ValueType::kRegister) {
      kinds.register_value = true;
      entry = cursor->next();
    } else if (type == ValueType::kSetMember) {
      kinds.set = true;
      entry = cursor->seek(prefix + static_cast<char>(ValueType::kCounter));
    } else {
      if (type == ValueType::kCounter) {
        auto value = codec::decode_record((*entry)->value, ValueType::kCounter);
        if (!value)
          return fail(value.error().code(), "counter '" + std::string(key) + "': " + value.error().message());
        kinds.counter = crdt::PnCounter::present(std::get<crdt::PnCounter::Store>(*value));
      }
      break;  // The counter is the last record a key can have.
    }
  }
  return kinds;
}

Status check_kind(const KindsAtKey& kinds, ValueKind kind, std::string_view key) {
  const bool other = (kind != ValueKind::kRegister && kinds.register_value) ||
                     (kind != ValueKind::kSet && kinds.set) || (kind != ValueKind::kCounter && kinds.counter);
  if (!other) return ok();
  const char* held = kinds.register_value ? "a register" : kinds.set ? "a set" : "a counter";
  return fail(ErrorCode::kWrongType, "key '" + std::string(key) + "' holds " + held);
}

Result<LocalDelta> put_delta(const LocalWrite& write, std::string_view key, std::string_view value,
                             crdt::HlcTimestamp timestamp) {
  DeltaBuilder builder(write);
  auto added = builder.add<crdt::LwwRegister::Store>(
      RecordKey{std::string(key), ValueType::kRegister, {}},
      [&](const crdt::LwwRegister::Store& current, const crdt::DotContext& context) {
        return crdt::LwwRegister::write_delta(current, context, write.replica, std::string(value), timestamp);
      });
  if (!added) return tl::unexpected(added.error());
  return std::move(builder).finish();
}

Result<LocalDelta> del_delta(const LocalWrite& write, std::string_view key) {
  DeltaBuilder builder(write);
  const std::string key_string(key);
  auto clear_register = builder.add<crdt::LwwRegister::Store>(
      RecordKey{key_string, ValueType::kRegister, {}},
      [&](const crdt::LwwRegister::Store& current, const crdt::DotContext& context) {
        return crdt::LwwRegister::clear_delta(current, context, write.replica);
      });
  if (!clear_register) return tl::unexpected(clear_register.error());
  auto clear_counter = builder.add<crdt::PnCounter::Store>(
      RecordKey{key_string, ValueType::kCounter, {}},
      [&](const crdt::PnCounter::Store& current, const crdt::DotContext& context) {
        return crdt::PnCounter::clear_delta(current, context, write.replica);
      });
  if (!clear_counter) return tl::unexpected(clear_counter.error());
  auto members = member_names(write.txn, write.values, key);
  if (!members) return tl::unexpected(members.error());
  auto removed =
      add_member_fragments(builder, key, *members, [&](const auto& store, const auto& ctx, const auto& m) {
        return crdt::OrSet::remove_delta(store, ctx, write.replica, m);
      });
  if (!removed) return tl::unexpected(removed.error());
  return std::move(builder).finish();
}

Result<LocalDelta> sadd_delta(const LocalWrite& write, std::string_view key,
                              const std::vector<std::string>& members) {
  DeltaBuilder builder(write);
  auto applied =
      add_member_fragments(builder, key, members, [&](const auto& store, const auto& ctx, const auto& m) {
        return crdt::OrSet::add_delta(store, ctx, write.replica, m);
      });
  if (!applied) return tl::unexpected(applied.error());
  return std::move(builder).finish();
}

Result<LocalDelta> srem_delta(const LocalWrite& write, std::string_view key,
                              const std::vector<std::string>& members) {
  DeltaBuilder builder(write);
  auto applied =
      add_member_fragments(builder, key, members, [&](const auto& store, const auto& ctx, const auto& m) {
        return crdt::OrSet::remove_delta(store, ctx, write.replica, m);
      });
  if (!applied) return tl::unexpected(applied.error());
  return std::move(builder).finish();
}

namespace {

// The decimal digits of `total` (no standard formatter takes 128-bit integers).
std::string total_text(crdt::CounterTotal total) {
  const bool negative = total < 0;
  // Negated digit by digit, so the most negative total needs no special case.
  std::string digits;
  do {
    const auto digit = static_cast<int>(total % 10);
    digits.push_back(static_cast<char>('0' + (negative ? -digit : digit)));
    total /= 10;
  } while (total != 0);
  if (negative) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

// "+N", "-N" or "+N-M": the change an add makes, for messages.
std::string change_text(std::uint64_t increments, std::uint64_t decrements) {
  std::string text;
  if (increments > 0 || decrements == 0) text += "+" + std::to_string(increments);
  if (decrements > 0) text += "-" + std::to_string(decrements);
  return text;
}

// Refuses (kOutOfRange) an add PnCounter::check_add does not accept; `check_value_range` false checks
// only the running totals.
Status check_counter_add(const crdt::PnCounter::Store& current, const LocalWrite& write, std::string_view key,
                         std::uint64_t increments, std::uint64_t decrements, bool check_value_range) {
  using Check = crdt::PnCounter::AddCheck;
  const Check check = crdt::PnCounter::check_add(current, write.replica, increments, decrements);
  const std::string change = change_text(increments, decrements);
  if (check == Check::kRunningTotalOverflow) {
    return fail(ErrorCode::kOutOfRange, "increment or decrement would overflow: counter '" + std::string(key) +
                                            "': this replica's running total of its increments or decrements "
                                            "would pass 2^64-1 with " + change + " (del the key to start over)");
  }
  if (check == Check::kValueOutOfRange && check_value_range) {
    const crdt::CounterTotal after =
        crdt::PnCounter::total_of(current) + increments - static_cast<crdt::CounterTotal>(decrements);
    return fail(ErrorCode::kOutOfRange, "increment or decrement would overflow: counter '" + std::string(key) +
                                            "' is " + total_text(crdt::PnCounter::total_of(current)) + ", and " +
                                            change + " would make it " + total_text(after) +
                                            ", outside the signed 64-bit range");
  }
  return ok();
}

Result<LocalDelta> add_to_counter(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                  std::uint64_t decrements, bool check_value_range) {
  DeltaBuilder builder(write);
  Status refused = ok();
  auto added = builder.add<crdt::PnCounter::Store>(
      RecordKey{std::string(key), ValueType::kCounter, {}},
      [&](const crdt::PnCounter::Store& current, const crdt::DotContext& context) {
        refused = check_counter_add(current, write, key, increments, decrements, check_value_range);
        // A refused add still returns a delta to the builder, an empty one, and the whole write fails.
        if (!refused) return crdt::Causal<crdt::PnCounter::Store>{};
        return crdt::PnCounter::add_delta(current, context, write.replica, increments, decrements);
      });
  if (!added) return tl::unexpected(added.error());
  if (!refused) return tl::unexpected(refused.error());
  return std::move(builder).finish();
}

}  // namespace

Result<LocalDelta> counter_delta(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                 std::uint64_t decrements) {
  return add_to_counter(write, key, increments, decrements, /*check_value_range=*/false);
}

Result<LocalDelta> local_counter_delta(const LocalWrite& write, std::string_view key, std::uint64_t increments,
                                       std::uint64_t decrements) {
  return add_to_counter(write, key, increments, decrements, /*check_value_range=*/true);
}

Error counter_out_of_range(std::string_view key, crdt::CounterTotal total) {
  return Error(ErrorCode::kOutOfRange,
               "counter '" + std::string(key) + "' is " + total_text(total) +
                   ", outside the signed 64-bit range: concurrent writes of several peers added up past it; "
                   "decr/incr it back into range or del it");
}

}  // namespace cairn::store
