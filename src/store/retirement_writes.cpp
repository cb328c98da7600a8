#include "src/store/retirement_writes.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/delta_log.h"

namespace cairn::store {
namespace {

bool own_beyond(crdt::ReplicaId self, std::uint64_t through, const crdt::Dot& dot) {
  return dot.replica == self && dot.counter > through;
}

void collect_record(const codec::RecordKey& key, const codec::RecordValue& value, crdt::ReplicaId self,
                    std::uint64_t through, codec::RetiredWrites& out) {
  if (const auto* reg = std::get_if<crdt::LwwRegister::Store>(&value)) {
    for (const auto& [dot, entry] : reg->entries()) {
      if (own_beyond(self, through, dot)) {
        out.registers.push_back(codec::RetiredRegisterWrite{key.key, entry.value, entry.timestamp, dot});
      }
    }
  } else if (const auto* set = std::get_if<crdt::DotSet>(&value)) {
    const auto& dots = set->dots();
    if (std::any_of(dots.begin(), dots.end(), [&](const crdt::Dot& dot) { return own_beyond(self, through, dot); })) {
      out.members.push_back(codec::RetiredMemberAdd{key.key, key.member});
    }
  } else {
    // Per chain, the newest contribution carries the chain's running totals.
    std::map<crdt::Dot, codec::RetiredCounterTotals> chains;
    for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(value).entries()) {
      // A reset minted by an offline delete: what that delete cancels of contributions it had not seen.
      if (entry.kind == crdt::CounterEntry::Kind::kReset && own_beyond(self, through, dot)) {
        out.resets.push_back(codec::RetiredCounterReset{key.key, entry});
        continue;
      }
      if (entry.kind != crdt::CounterEntry::Kind::kContribution || entry.contributor != self) continue;
      if (!own_beyond(self, through, dot)) continue;
      auto& totals = chains.try_emplace(entry.chain, codec::RetiredCounterTotals{key.key, entry.chain}).first->second;
      totals.increments = std::max(totals.increments, entry.increments);
      totals.decrements = std::max(totals.decrements, entry.decrements);
      totals.deleted_increments = std::max(totals.deleted_increments, entry.deleted_increments);
      totals.deleted_decrements = std::max(totals.deleted_decrements, entry.deleted_decrements);
    }
    for (auto& [chain, totals] : chains) out.counters.push_back(std::move(totals));
  }
}

// What one logged local delta removed, or nullopt when it removed nothing.
std::optional<codec::RetiredRemoval> removal_of(const codec::DeltaGroup& group, crdt::ReplicaId self,
                                                std::uint64_t through) {
  std::set<crdt::Dot> minted;
  for (const codec::RecordFragment& fragment : group.records) {
    for_each_dot(fragment.value, [&](const crdt::Dot& dot) { minted.insert(dot); });
  }
  const auto keep = [&](const crdt::Dot& dot) { return !minted.contains(dot) && !own_beyond(self, through, dot); };
  // A vector entry stands for a range of dots: it stays a range up to the first dot it loses, and
  // the rest of it (at most the dots this one delta saw) goes dot by dot.
  crdt::VersionVector vector;
  std::set<crdt::Dot> cloud;
  for (const auto& [replica, counter] : group.context.vector().entries()) {
    const std::uint64_t last = replica == self ? std::min(counter, through) : counter;
    std::uint64_t first_minted = last + 1;
    for (const crdt::Dot& dot : minted) {
      if (dot.replica == replica && dot.counter <= last) first_minted = std::min(first_minted, dot.counter);
    }
    vector.raise(replica, first_minted - 1);
    for (std::uint64_t n = first_minted + 1; n <= last; ++n) {
      if (keep(crdt::Dot{replica, n})) cloud.insert(crdt::Dot{replica, n});
    }
  }
  for (const crdt::Dot& dot : group.context.cloud()) {
    if (keep(dot)) cloud.insert(dot);
  }
  codec::RetiredRemoval removal;
  removal.context = crdt::DotContext::from_parts(std::move(vector), cloud);
  if (removal.context.empty()) return std::nullopt;
  for (const codec::RecordFragment& fragment : group.records) removal.records.push_back(fragment.key);
  return removal;
}

}  // namespace

Result<codec::RetiredWrites> collect_retired_writes(const Txn& txn, const Databases& databases,
                                                    crdt::ReplicaId self, std::uint64_t through) {
  codec::RetiredWrites writes;
  writes.old_replica = self;
  writes.through = through;
  auto collected = for_each_record(txn, databases.values, [&](const codec::RecordKey& key, const codec::RecordValue& value) {
    collect_record(key, value, self, through, writes);
    return ok();
  });
  if (!collected) return tl::unexpected(collected.error());
  auto logged = delta_log::for_each_group(txn, databases, 0, [&](std::uint64_t, const codec::DeltaGroup& group) -> Status {
    if (group.origin.value != 0) return ok();  // Received: its removals came from elsewhere.
    if (auto removal = removal_of(group, self, through)) writes.removals.push_back(std::move(*removal));
    return ok();
  });
  if (!logged) return tl::unexpected(logged.error());
  return writes;
}

namespace {

// Generous per-item overhead (pointers, dots, timestamps, list tags) over the payload bytes.
constexpr std::size_t kItemOverhead = 64;
// What one set-aside message may hold: half the codec's message limit (the estimate is rough) and
// fewer items per list than its list limit.
constexpr std::size_t kChunkBytes = codec::kMaxMessageBytes / 2;
constexpr std::size_t kChunkItems = codec::kMaxListLength / 2;

std::size_t estimated_bytes(const codec::RetiredRegisterWrite& write) {
  return write.key.size() + write.value.size() + kItemOverhead;
}
std::size_t estimated_bytes(const codec::RetiredMemberAdd& add) { return add.key.size() + add.member.size() + kItemOverhead; }
std::size_t estimated_bytes(const codec::RetiredCounterTotals& totals) { return totals.key.size() + kItemOverhead; }
std::size_t estimated_bytes(const codec::RetiredCounterReset& reset) { return reset.key.size() + kItemOverhead; }
std::size_t estimated_bytes(const codec::RetiredRemoval& removal) {
  std::size_t bytes = (removal.context.vector().size() + removal.context.cloud().size()) * 24 + kItemOverhead;
  for (const auto& key : removal.records) bytes += key.key.size() + key.member.size() + kItemOverhead;
  return bytes;
}

}  // namespace

std::vector<codec::RetiredWrites> split_into_messages(codec::RetiredWrites writes) {
  std::vector<codec::RetiredWrites> chunks;
  std::size_t bytes = 0, items = 0;
  const auto chunk_for = [&](std::size_t item_bytes) -> codec::RetiredWrites& {
    // A chunk takes at least one item, however large (one value is at most 16 MiB, within the limit).
    if (chunks.empty() || (items > 0 && (bytes + item_bytes > kChunkBytes || items + 1 > kChunkItems))) {
      chunks.push_back(codec::RetiredWrites{writes.old_replica, writes.through, {}, {}, {}, {}, {}, writes.old_replica_kept});
      bytes = 0;
      items = 0;
    }
    bytes += item_bytes;
    ++items;
    return chunks.back();
  };
  for (auto& write : writes.registers) chunk_for(estimated_bytes(write)).registers.push_back(std::move(write));
  for (auto& add : writes.members) chunk_for(estimated_bytes(add)).members.push_back(std::move(add));
  for (auto& totals : writes.counters) chunk_for(estimated_bytes(totals)).counters.push_back(std::move(totals));
  for (auto& reset : writes.resets) chunk_for(estimated_bytes(reset)).resets.push_back(std::move(reset));
  for (auto& removal : writes.removals) chunk_for(estimated_bytes(removal)).removals.push_back(std::move(removal));
  if (chunks.empty()) chunks.push_back(codec::RetiredWrites{writes.old_replica, writes.through, {}, {}, {}, {}, {}, writes.old_replica_kept});
  return chunks;
}

void append_chunk(codec::RetiredWrites& into, codec::RetiredWrites chunk) {
  const auto append = [](auto& to, auto& from) { std::move(from.begin(), from.end(), std::back_inserter(to)); };
  append(into.registers, chunk.registers);
  append(into.members, chunk.members);
  append(into.counters, chunk.counters);
  append(into.resets, chunk.resets);
  append(into.removals, chunk.removals);
}

Status clear_databases_except(Txn& txn, std::initializer_list<std::string_view> keep) {
  MDB_dbi main = 0;
  if (int rc = mdb_dbi_open(txn.get(), nullptr, 0, &main); rc != 0) {
    return tl::unexpected(lmdb_error(rc, "open the main database"));
  }
  std::vector<std::string> names;
  {
    auto cursor = LmdbCursor::open(txn, main);
    if (!cursor) return tl::unexpected(cursor.error());
    for (auto entry = cursor->seek("");; entry = cursor->next()) {
      if (!entry) return tl::unexpected(entry.error());
      if (!entry->has_value()) break;
      const std::string_view name = (*entry)->key;
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) names.emplace_back(name);
    }
  }
  for (const std::string& name : names) {
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn.get(), name.c_str(), 0, &dbi); rc != 0) {
      return tl::unexpected(lmdb_error(rc, "open database " + name));
    }
    if (int rc = mdb_drop(txn.get(), dbi, 0); rc != 0) return tl::unexpected(lmdb_error(rc, "empty database " + name));
  }
  return ok();
}

bool still_wins(const codec::RetiredRegisterWrite& write, const crdt::LwwRegister::Store& current) {
  const crdt::LwwEntry mine{write.value, write.timestamp};
  return std::all_of(current.entries().begin(), current.entries().end(), [&](const auto& item) {
    return crdt::LwwRegister::wins_over(crdt::LwwVersion{write.dot, &mine},
                                        crdt::LwwVersion{item.first, &item.second});
  });
}

codec::DeltaGroup removal_group(const codec::RetiredRemoval& removal) {
  codec::DeltaGroup group;
  group.context = removal.context;
  for (const codec::RecordKey& key : removal.records) {
    group.records.push_back(codec::RecordFragment{key, empty_record(key.type)});
  }
  return group;
}

std::pair<std::uint64_t, std::uint64_t> counter_reissue(const codec::RetiredCounterTotals& totals,
                                                        const crdt::PnCounter::Store& current,
                                                        crdt::ReplicaId old_replica) {
  std::uint64_t synced_inc = totals.deleted_increments, synced_dec = totals.deleted_decrements;
  for (const auto& [dot, entry] : current.entries()) {
    if (entry.contributor != old_replica || entry.chain != totals.chain) continue;
    synced_inc = std::max(synced_inc, entry.increments);
    synced_dec = std::max(synced_dec, entry.decrements);
  }
  return {totals.increments > synced_inc ? totals.increments - synced_inc : 0,
          totals.decrements > synced_dec ? totals.decrements - synced_dec : 0};
}

}  // namespace cairn::store
