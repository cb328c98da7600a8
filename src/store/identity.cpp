#include "src/store/identity.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/delta_log.h"
#include "src/store/environment.h"

namespace cairn::store {
namespace {

std::uint64_t highest_in_context(const crdt::DotContext& context, crdt::ReplicaId replica) {
  return context.next_dot(replica).counter - 1;
}

codec::RecordKey counter_key(std::string_view key) {
  return codec::RecordKey{std::string(key), codec::ValueType::kCounter, {}};
}

// The contribution of `self`'s chain `chain` remembered for the counter at `key`, if any.
Result<std::optional<std::pair<crdt::Dot, crdt::CounterEntry>>> remembered_contribution(
    const Txn& txn, const Databases& databases, const std::string& key, crdt::ReplicaId self, const crdt::Dot& chain) {
  using Found = std::optional<std::pair<crdt::Dot, crdt::CounterEntry>>;
  if (databases.unconfirmed_chains == 0) return Found{};
  auto bytes = txn.read(databases.unconfirmed_chains, codec::encode_record_key(counter_key(key)));
  if (!bytes) return tl::unexpected(bytes.error());
  if (!bytes->has_value()) return Found{};
  auto value = codec::decode_record(**bytes, codec::ValueType::kCounter);
  if (!value) return fail(value.error().code(), "unconfirmed chains of '" + key + "': " + value.error().message());
  for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(*value).entries()) {
    if (entry.kind == crdt::CounterEntry::Kind::kContribution && entry.contributor == self && entry.chain == chain) {
      return Found{std::pair{dot, entry}};
    }
  }
  return Found{};
}

// `context` without any dot of `replica`.
crdt::DotContext without_replica(const crdt::DotContext& context, crdt::ReplicaId replica) {
  crdt::VersionVector vector;
  for (const auto& [other, counter] : context.vector().entries()) {
    if (other != replica) vector.raise(other, counter);
  }
  std::set<crdt::Dot> cloud;
  for (const crdt::Dot& dot : context.cloud()) {
    if (dot.replica != replica) cloud.insert(dot);
  }
  return crdt::DotContext::from_parts(std::move(vector), cloud);
}

// The removals as a conflict re-applies them. On a counter record, a removal of the store's own
// entries is left out: an increment's removal of the chain entry it replaced would take away what
// both copies share (the re-issue adds only what was minted since), and a delete's cancels that
// shared part through its re-issued reset instead.
std::vector<codec::RetiredRemoval> removals_for_conflict(std::vector<codec::RetiredRemoval> removals,
                                                         crdt::ReplicaId self) {
  std::vector<codec::RetiredRemoval> result;
  for (codec::RetiredRemoval& removal : removals) {
    codec::RetiredRemoval counters{{}, without_replica(removal.context, self)};
    codec::RetiredRemoval others{{}, removal.context};
    for (codec::RecordKey& key : removal.records) {
      (key.type == codec::ValueType::kCounter ? counters : others).records.push_back(std::move(key));
    }
    if (!others.records.empty()) result.push_back(std::move(others));
    if (!counters.records.empty() && !counters.context.empty()) result.push_back(std::move(counters));
  }
  return result;
}

// The resets about `self`'s own chains that local deltas logged from `first_sequence` on minted
// beyond `through`: a later own write absorbs such a reset into its chain and drops it from the
// record, so the record alone no longer tells what that delete cancelled.
Result<std::vector<codec::RetiredCounterReset>> logged_own_resets(const Txn& txn, const Databases& databases,
                                                                  crdt::ReplicaId self, std::uint64_t through,
                                                                  std::uint64_t first_sequence) {
  std::vector<codec::RetiredCounterReset> resets;
  auto visited = delta_log::for_each_group(txn, databases, first_sequence,
                                           [&](std::uint64_t, const codec::DeltaGroup& group) -> Status {
    if (group.origin.value != 0) return ok();
    for (const codec::RecordFragment& fragment : group.records) {
      const auto* counter = std::get_if<crdt::PnCounter::Store>(&fragment.value);
      if (counter == nullptr) continue;
      for (const auto& [dot, counter_entry] : counter->entries()) {
        if (dot.replica == self && dot.counter > through && counter_entry.kind == crdt::CounterEntry::Kind::kReset &&
            counter_entry.contributor == self) {
          resets.push_back(codec::RetiredCounterReset{fragment.key.key, counter_entry});
        }
      }
    }
    return ok();
  });
  if (!visited) return tl::unexpected(visited.error());
  return resets;
}

}  // namespace

void move_to_new_id(codec::StoreMeta& meta, crdt::ReplicaId new_replica) {
  meta.predecessors.push_back(meta.replica);
  if (meta.predecessors.size() > kMaxPredecessors) {
    meta.predecessors.erase(meta.predecessors.begin(),
                            meta.predecessors.end() - static_cast<std::ptrdiff_t>(kMaxPredecessors));
  }
  meta.replica = new_replica;
  meta.unconfirmed_from = 0;
  meta.unconfirmed_from_sequence = 0;
}

std::uint64_t highest_dot_of(const codec::DeltaGroup& group, crdt::ReplicaId replica) {
  std::uint64_t highest = highest_in_context(group.context, replica);
  for (const codec::RecordFragment& fragment : group.records) {
    for_each_dot(fragment.value, [&](const crdt::Dot& dot) {
      if (dot.replica == replica) highest = std::max(highest, dot.counter);
    });
  }
  return highest;
}

bool shows_another_copy(std::uint64_t highest, std::uint64_t own_counter, std::uint64_t unconfirmed_from) {
  if (highest > own_counter) return true;
  return unconfirmed_from != 0 && highest >= unconfirmed_from;
}

Status remember_unconfirmed_chain(Txn& txn, const Databases& databases, std::string_view key, crdt::ReplicaId self,
                                  std::uint64_t unconfirmed_from) {
  if (databases.unconfirmed_chains == 0) return ok();
  const std::string record_key = codec::encode_record_key(counter_key(key));
  auto known = txn.read(databases.unconfirmed_chains, record_key);
  if (!known) return tl::unexpected(known.error());
  if (known->has_value()) return ok();  // Remembered by an earlier write: that is the state to measure from.
  auto current = read_record(txn, databases.values, counter_key(key));
  if (!current) return tl::unexpected(current.error());
  crdt::PnCounter::Store::Entries before;
  for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(*current).entries()) {
    if (entry.kind == crdt::CounterEntry::Kind::kContribution && entry.contributor == self &&
        dot.counter < unconfirmed_from) {
      before.emplace(dot, entry);
    }
  }
  // Nothing of ours from before: every chain of ours this record gets is minted unconfirmed (measured
  // from zero), so there is nothing to remember (and the next write looks again, finding the same).
  if (before.empty()) return ok();
  return txn.write(databases.unconfirmed_chains, record_key,
                   codec::encode_record(crdt::PnCounter::Store(std::move(before))));
}

Status forget_unconfirmed_chains(Txn& txn, const Databases& databases) {
  if (databases.unconfirmed_chains == 0) return ok();
  if (int rc = mdb_drop(txn.get(), databases.unconfirmed_chains, 0); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "empty the unconfirmed chains"));
  }
  return ok();
}

Status measure_unconfirmed_writes(const Txn& txn, const Databases& databases, crdt::ReplicaId self,
                                  std::uint64_t first_sequence, codec::RetiredWrites& writes) {
  writes.old_replica_kept = true;
  // The record's resets about our own chains are among those the log holds: take them from there.
  std::erase_if(writes.resets, [&](const codec::RetiredCounterReset& retired) { return retired.reset.contributor == self; });
  auto logged = logged_own_resets(txn, databases, self, writes.through, first_sequence);
  if (!logged) return tl::unexpected(logged.error());
  writes.resets.insert(writes.resets.end(), logged->begin(), logged->end());
  for (codec::RetiredCounterTotals& totals : writes.counters) {
    auto before = remembered_contribution(txn, databases, totals.key, self, totals.chain);
    if (!before) return tl::unexpected(before.error());
    const std::uint64_t base_increments = *before ? (*before)->second.increments : 0;
    const std::uint64_t base_decrements = *before ? (*before)->second.decrements : 0;
    totals.increments = totals.increments > base_increments ? totals.increments - base_increments : 0;
    totals.decrements = totals.decrements > base_decrements ? totals.decrements - base_decrements : 0;
    totals.deleted_increments = 0;
    totals.deleted_decrements = 0;
  }
  std::vector<codec::RetiredCounterReset> resets;
  for (codec::RetiredCounterReset& retired : writes.resets) {
    crdt::CounterEntry& reset = retired.reset;
    if (reset.contributor != self) {
      resets.push_back(std::move(retired));
      continue;
    }
    auto before = remembered_contribution(txn, databases, retired.key, self, reset.chain);
    if (!before) return tl::unexpected(before.error());
    if (!*before) continue;  // A chain minted after `through`: only this copy ever held it.
    // The delete saw the chain as it was confirmed plus what this copy added since; the other copy's
    // chain shares only the first part, so that is all the re-issued reset may cancel.
    reset.increments = std::min(reset.increments, (*before)->second.increments);
    reset.decrements = std::min(reset.decrements, (*before)->second.decrements);
    reset.observed = (*before)->first;
    resets.push_back(std::move(retired));
  }
  writes.resets = std::move(resets);
  writes.removals = removals_for_conflict(std::move(writes.removals), self);
  return ok();
}

}  // namespace cairn::store
