// A store's replica identity (docs/store.md, "Identity"): one id is minted by one copy of a store.
//
// Two layers keep it so. On open (Environment): the data file's fingerprint (fingerprint.h) differs
// from the one recorded when the id was minted, so the directory is a copy, and the store takes a new
// id, keeping every record; its old id becomes a predecessor, whose dots stay like any received ones.
// Later (LmdbStore, driven by the gossip layer): a copy that kept the fingerprint (a file rolled back
// in place, a cloned VM) re-mints dots its original already minted. So a gossiping store marks the
// dots it mints after start_identity_check() unconfirmed; gossip ships none of them (nor their delta
// log entries) until peers' contexts confirm that nobody holds a dot of the id from there on. A
// store that learns otherwise (a peer holds a dot it did not mint, or while unconfirmed one it never
// shipped) takes a new id in the same writer transaction, so it never mints under the old id again:
//   - with no unconfirmed dot minted, it keeps every record (the old id's dots are all genuine);
//   - otherwise those writes collide with the other copy's: they are set aside (retirement_writes.h,
//     with RetiredWrites::old_replica_kept), the store is emptied and refilled by anti-entropy (which
//     brings the other copy's versions) and re-issues them under the new id. The old id is NOT
//     retired: the other copy may live on. What a counter re-issues is what was minted since the
//     dots became unconfirmed, measured from the own contributions each record held then (kept in
//     the `unconfirmed_chains` database by the first write that touches the record).
#pragma once

#include <cstdint>
#include <string_view>

#include "cairn/status.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// How many predecessor ids a store remembers (the newest ones).
inline constexpr std::size_t kMaxPredecessors = 16;

// `meta` now names `new_replica`: the old id becomes the newest predecessor and no dot is unconfirmed.
void move_to_new_id(codec::StoreMeta& meta, crdt::ReplicaId new_replica);

// The highest dot of `replica` in `group` (its records and its context), 0 if none.
std::uint64_t highest_dot_of(const codec::DeltaGroup& group, crdt::ReplicaId replica);

// Whether a peer holding dots of this store's id up to `highest` shows that another copy minted under
// it: a dot beyond every one minted here (`own_counter`), or, while dots from `unconfirmed_from` on are
// unconfirmed (never shipped), one of those.
bool shows_another_copy(std::uint64_t highest, std::uint64_t own_counter, std::uint64_t unconfirmed_from);

// Before a local write to `key` while dots from `unconfirmed_from` on are unconfirmed: remembers the
// own contributions of `self` the counter record at `key` holds from before then, once per record.
Status remember_unconfirmed_chain(Txn& txn, const Databases& databases, std::string_view key, crdt::ReplicaId self,
                                  std::uint64_t unconfirmed_from);
// Empties the `unconfirmed_chains` database (once the dots are confirmed, or the id is given up).
Status forget_unconfirmed_chains(Txn& txn, const Databases& databases);

// Turns what collect_retired_writes set aside of `self`'s writes beyond `writes.through` into what a
// conflict must re-issue (`writes.old_replica_kept`): each counter chain's increments and decrements
// minted beyond it (its totals less those remembered from before); the resets about own chains that
// the local deltas logged from `first_sequence` on minted (a later own write may have absorbed them
// from the record), cut back to what had been remembered (a reset of a chain minted after `through`
// alone is dropped: the re-issued amounts already leave out what its delete removed); and removals on
// counter records without the store's own entries (the amounts and resets account for them).
Status measure_unconfirmed_writes(const Txn& txn, const Databases& databases, crdt::ReplicaId self,
                                  std::uint64_t first_sequence, codec::RetiredWrites& writes);

}  // namespace cairn::store
