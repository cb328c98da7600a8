// Dropping dots beyond a retirement, the stored form of the causal context, and the retirement table
// (see retirement.h).
#include <utility>
#include <variant>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/retirement.h"

namespace cairn::store {
namespace {

template <typename Entries, typename Keep>
Entries filtered(const Entries& entries, Keep&& keep, bool& dropped) {
  Entries out;
  for (const auto& item : entries) {
    if (keep(item.first)) {
      out.insert(item);
    } else {
      dropped = true;
    }
  }
  return out;
}

}  // namespace

bool beyond_retirement(const RetiredMap& retired, const crdt::Dot& dot) {
  auto it = retired.find(dot.replica);
  return it != retired.end() && dot.counter > it->second;
}

crdt::DotContext without_dots_beyond(const crdt::DotContext& context, const RetiredMap& retired) {
  if (retired.empty()) return context;
  bool any = false;
  for (const auto& [replica, through] : retired) {
    if (context.vector().get(replica) > through) any = true;
  }
  for (const crdt::Dot& dot : context.cloud()) any = any || beyond_retirement(retired, dot);
  if (!any) return context;
  crdt::VersionVector vector;
  for (const auto& [replica, counter] : context.vector().entries()) {
    auto it = retired.find(replica);
    vector.raise(replica, it == retired.end() ? counter : std::min(counter, it->second));
  }
  std::set<crdt::Dot> cloud;
  for (const crdt::Dot& dot : context.cloud()) {
    if (!beyond_retirement(retired, dot)) cloud.insert(dot);
  }
  return crdt::DotContext::from_parts(std::move(vector), cloud);
}

codec::RecordValue without_dots_beyond(const codec::RecordValue& value, const RetiredMap& retired, bool& dropped) {
  const auto keep = [&](const crdt::Dot& dot) { return !beyond_retirement(retired, dot); };
  if (const auto* set = std::get_if<crdt::DotSet>(&value)) {
    std::set<crdt::Dot> dots;
    for (const crdt::Dot& dot : set->dots()) {
      if (keep(dot)) {
        dots.insert(dot);
      } else {
        dropped = true;
      }
    }
    return crdt::DotSet(std::move(dots));
  }
  if (const auto* reg = std::get_if<crdt::LwwRegister::Store>(&value)) {
    return crdt::LwwRegister::Store(filtered(reg->entries(), keep, dropped));
  }
  const auto& counter = std::get<crdt::PnCounter::Store>(value);
  return crdt::PnCounter::Store(filtered(counter.entries(), keep, dropped));
}

void drop_dots_beyond(codec::DeltaGroup& group, const RetiredMap& retired) {
  if (retired.empty()) return;
  for (codec::RecordFragment& fragment : group.records) {
    bool dropped = false;
    codec::RecordValue kept = without_dots_beyond(fragment.value, retired, dropped);
    // The fragment stays listed, possibly empty: the rest of the group's context still speaks of it.
    if (dropped) fragment.value = std::move(kept);
  }
  group.context = without_dots_beyond(group.context, retired);
}

std::vector<codec::RetiredReplica> as_table(const RetiredMap& retired) {
  std::vector<codec::RetiredReplica> table;
  table.reserve(retired.size());
  for (const auto& [replica, through] : retired) table.push_back(codec::RetiredReplica{replica, through});
  return table;
}

codec::StoredContext stored_context(const crdt::DotContext& context, const RetiredMap& retired) {
  if (retired.empty()) return codec::StoredContext{context, std::nullopt};
  // All or none: the digest must name exactly the table a reader restores from.
  for (const auto& [replica, through] : retired) {
    if (context.vector().get(replica) < through) return codec::StoredContext{context, std::nullopt};
  }
  crdt::VersionVector vector;
  for (const auto& [replica, counter] : context.vector().entries()) {
    if (!retired.contains(replica)) vector.raise(replica, counter);
  }
  std::set<crdt::Dot> cloud;
  for (const crdt::Dot& dot : context.cloud()) {
    if (!retired.contains(dot.replica)) cloud.insert(dot);
  }
  return codec::StoredContext{crdt::DotContext::from_parts(std::move(vector), cloud),
                              codec::retirement_digest(as_table(retired))};
}

crdt::DotContext restored_context(const codec::StoredContext& stored, const RetiredMap& retired) {
  crdt::DotContext context = without_dots_beyond(stored.context, retired);
  if (!stored.omitted_retirements || *stored.omitted_retirements != codec::retirement_digest(as_table(retired))) {
    return context;  // Omitted replicas we cannot name count as unseen: cautious, never wrong.
  }
  crdt::VersionVector vector = context.vector();
  for (const auto& [replica, through] : retired) vector.raise(replica, through);
  return crdt::DotContext::from_parts(std::move(vector), context.cloud());
}

Result<RetiredMap> read_retirements(const Txn& txn, MDB_dbi meta) {
  auto bytes = txn.read(meta, kMetaRetirementsKey);
  if (!bytes) return tl::unexpected(bytes.error());
  RetiredMap retired;
  if (!bytes->has_value()) return retired;
  auto table = codec::decode_retirements(**bytes);
  if (!table) return fail(table.error().code(), "retirement table: " + table.error().message());
  for (const codec::RetiredReplica& entry : *table) retired.emplace(entry.replica, entry.through);
  return retired;
}

Status write_retirements(Txn& txn, MDB_dbi meta, const RetiredMap& retired) {
  return txn.write(meta, kMetaRetirementsKey, codec::encode_retirements(as_table(retired)));
}

Status purge_dots_beyond(Txn& txn, const Databases& databases, const RetiredMap& retired) {
  // Collected first: write_record must not run under an open cursor of the same database.
  std::vector<std::pair<codec::RecordKey, codec::RecordValue>> changed;
  auto walked = for_each_record(txn, databases.values, [&](const codec::RecordKey& key, const codec::RecordValue& value) {
    bool dropped = false;
    codec::RecordValue kept = without_dots_beyond(value, retired, dropped);
    if (dropped) changed.emplace_back(key, std::move(kept));
    return ok();
  });
  if (!walked) return walked;
  for (const auto& [key, value] : changed) {
    if (auto written = write_record(txn, databases, key, value); !written) return written;
  }
  return ok();
}

}  // namespace cairn::store
