// Metadata compaction of PN-counter reset entries: context_vector() and compact_counter_resets()
// (include/cairn/store.h, docs/metadata-gc.md).
//
// A delete of a counter leaves, per contributor C it observed, a reset entry R (dot r, about C's chain
// c) that cancels the part of c's running totals the delete saw (crdt/pn_counter.h). C absorbs R the
// next time it writes; if C never writes the key again, R would stay forever. R is dropped here, with
// no wall-clock guess and no coordination, when BOTH:
//
//  1. the record holds no contribution of C's chain c (PnCounter::orphaned_resets): otherwise R still
//     subtracts from a live contribution, and goes when C next writes; and
//  2. no contribution of chain c that R must cancel can still arrive here (SettledContributors):
//     - C is this store's own replica: every dot of C was minted here, so we have all of them; or
//     - C's report (the version vector C last reported of its own causal context) covers r, and this
//       store's committed context covers every dot of C up to that report's own entry for C
//       (context.vector().get(C) >= report_C[C]). C's report covering r means C had seen R by then, so
//       every contribution C minted without having seen R has a dot <= report_C[C]; we have seen all of
//       them, so any we no longer hold was removed by something causal that reaches every replica.
//       Contributions C minted after seeing R absorbed R themselves and do not need it; or
//     - C is retired through t and this store's context covers C up to t: 1..t is all C ever minted.
//
// Why no coordination is needed: dropping R is like an observed-remove of its dot. Our causal context
// keeps r, so a delta (or a peer's whole record) holding R never brings it back here, and anti-entropy
// comparing our record with a peer's that still holds R removes it there too, which the same argument
// shows is safe. Hence the rewrite is not logged as a delta and notifies no subscriber (the value is
// unchanged), but it goes through write_record so the hash tree and the reset index stay in step. A
// record left with no entry at all is removed.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crdt/pn_counter.h"
#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/lmdb_store.h"

namespace cairn::store {
namespace {

// Condition 2 of the rule above, for one pass: whether a contribution of `contributor` that a reset
// (dot `reset`) must cancel could still arrive at this store.
class SettledContributors {
 public:
  SettledContributors(crdt::ReplicaId self, const crdt::DotContext& context,
                      const std::vector<ReplicaReport>& reports, const std::vector<Retirement>& retirements)
      : self_(self), context_(context) {
    for (const ReplicaReport& report : reports) {
      crdt::VersionVector vector;
      for (const VersionVectorEntry& entry : report.vector)
        vector.raise(crdt::ReplicaId{entry.replica}, entry.counter);
      reports_[crdt::ReplicaId{report.replica}].push_back(std::move(vector));
    }
    for (const Retirement& retirement : retirements)
      retired_through_[crdt::ReplicaId{retirement.replica}] = retirement.through;
  }

  bool settled(const crdt::Dot& reset, crdt::ReplicaId contributor) const {
    if (contributor == self_) return true;
    const std::uint64_t seen_of_contributor = context_.vector().get(contributor);
    if (auto retired = retired_through_.find(contributor); retired != retired_through_.end()) {
      if (seen_of_contributor >= retired->second) return true;
    }
    auto reported = reports_.find(contributor);
    if (reported == reports_.end()) return false;
    // Every truthful report of C is a snapshot of C's context; any one that passes suffices.
    for (const crdt::VersionVector& report : reported->second) {
      if (report.contains(reset) && seen_of_contributor >= report.get(contributor)) return true;
    }
    return false;
  }

 private:
  crdt::ReplicaId self_;
  const crdt::DotContext& context_;
  std::map<crdt::ReplicaId, std::vector<crdt::VersionVector>> reports_;
  std::map<crdt::ReplicaId, std::uint64_t> retired_through_;
};

// Up to `max_records` record keys of the reset index in circular order: those after `after` to the
// end, then (once the end is reached, which sets `wrapped`) those from the start up to and including
// `after`. No key comes twice.
Result<std::vector<std::string>> next_indexed_records(const Txn& txn, MDB_dbi resets,
                                                      const std::string& after, std::size_t max_records,
                                                      bool& wrapped) {
  std::vector<std::string> keys;
  if (max_records == 0) return keys;
  auto cursor = LmdbCursor::open(txn, resets);
  if (!cursor) return tl::unexpected(cursor.error());
  auto entry = cursor->seek(after);
  if (entry && entry->has_value() && !after.empty() && (*entry)->key == after) entry = cursor->next();
  for (; keys.size() < max_records; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) {
      wrapped = true;
      break;
    }
    keys.emplace_back((*entry)->key);
  }
  if (!wrapped || after.empty()) return keys;  // Starting from the beginning, the first leg saw them all.
  for (entry = cursor->seek(""); keys.size() < max_records; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value() || (*entry)->key > after) break;
    keys.emplace_back((*entry)->key);
  }
  return keys;
}

}  // namespace

Result<std::vector<VersionVectorEntry>> LmdbStore::context_vector() {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  return with_read_txn([&](const Txn& txn) -> Result<std::vector<VersionVectorEntry>> {
    auto context = committed_context(txn);
    if (!context) return tl::unexpected(context.error());
    std::map<std::uint64_t, VersionVectorEntry> entries;  // Ordered by replica id: ascending, as promised.
    for (const auto& [replica, counter] : context->vector().entries()) {
      entries[replica.value] = VersionVectorEntry{replica.value, counter, 0};
    }
    // The cloud holds only dots past a gap (the context folds the others into the vector).
    for (const crdt::Dot& dot : context->cloud()) {
      VersionVectorEntry& entry = entries[dot.replica.value];
      entry.replica = dot.replica.value;
      entry.beyond_gap = std::max(entry.beyond_gap, dot.counter);
    }
    std::vector<VersionVectorEntry> vector;
    for (const auto& [replica, entry] : entries) vector.push_back(entry);
    return vector;
  });
}

Result<CompactionPass> LmdbStore::compact_counter_resets(const std::vector<ReplicaReport>& reports,
                                                         std::size_t max_records) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  // Read before queueing (a read on the writer thread could wait on the queue). A retirement read now
  // can only be lowered by the time the pass runs, which drops dots beyond it: the context covers less
  // of that replica, never more, so a stale value errs on the side of keeping resets.
  auto retired = retirements();
  if (!retired) return tl::unexpected(retired.error());
  CompactionPass pass;
  // The resume key as the write first saw it: a batch that fails with a full map runs it again.
  std::optional<std::string> start;
  auto done = run_write([&](Txn& txn) -> Status {
    pass = CompactionPass{};
    if (!start) start = counter_gc_resume_after_;
    auto keys = next_indexed_records(txn, databases().resets, *start, max_records, pass.wrapped);
    if (!keys) return tl::unexpected(keys.error());
    // The working context is the writer's causal context: what this transaction commits (earlier
    // writes of the same batch commit with it).
    const SettledContributors settled(working_.replica, working_.whole().context, reports, *retired);
    for (const std::string& record_key : *keys) {
      auto key = codec::decode_record_key(record_key);
      if (!key || key->type != codec::ValueType::kCounter) {
        // Not a counter record: the index entry is stale (write_record never makes one).
        if (auto erased = txn.erase(databases().resets, record_key); !erased) return erased;
        continue;
      }
      auto record = read_record(txn, databases().values, *key);
      // A record that does not decode is left alone (reads of its key report the damage); failing the
      // pass would stop compaction of every other record for good.
      if (!record) continue;
      const auto& counter = std::get<crdt::PnCounter::Store>(*record);
      ++pass.records_examined;
      const crdt::PnCounter::Store compacted = crdt::PnCounter::without_settled_resets(
          counter, [&](const crdt::Dot& dot, const crdt::CounterEntry& reset) {
            return settled.settled(dot, reset.contributor);
          });
      if (compacted == counter && crdt::PnCounter::holds_resets(counter)) continue;
      // Through write_record: the hash tree and the reset index change with the record (an empty
      // record is removed). Not logged and not a Change: the counter's value is the same.
      if (auto written = write_record(txn, databases(), *key, compacted); !written) return written;
      pass.resets_dropped += counter.size() - compacted.size();
      if (compacted.empty()) ++pass.records_removed;
    }
    // The last step that can fail is done: now the in-memory resume key may move.
    counter_gc_resume_after_ = keys->empty() ? std::string() : keys->back();
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return pass;
}

}  // namespace cairn::store
