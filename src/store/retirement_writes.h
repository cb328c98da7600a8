// A retired replica's own writes beyond its retirement: setting them aside when it reincarnates, and
// deciding what of them to re-issue once anti-entropy has refilled its store (see retirement.h and
// LmdbStore::reincarnate / reissue_retired_writes).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// Every write of `self` beyond `through` in `txn`: register versions and set adds with a dot of `self`
// beyond it, and the running totals of `self`'s counter contributions minted beyond it. Also what
// the local deltas (origin 0) still in the delta log removed: each one's context without the dots its
// own records hold (those it minted) and without dots of `self` beyond `through`, with the records it
// named; deltas that removed nothing are left out. An offline `del` or `srem` mints no dot, so this is
// the only trace of it.
Result<codec::RetiredWrites> collect_retired_writes(const Txn& txn, const Databases& databases,
                                                    crdt::ReplicaId self, std::uint64_t through);

// `writes` cut into messages that each fit the codec's limits (list lengths and message bytes, with
// room for the encoding's overhead), in order, so any number of set-aside writes can be stored (as
// several meta records) and read back. At least one message, possibly empty.
std::vector<codec::RetiredWrites> split_into_messages(codec::RetiredWrites writes);
// Appends the lists of `chunk` to those of `into` (reading the messages back into one).
void append_chunk(codec::RetiredWrites& into, codec::RetiredWrites chunk);

// Empties every named database of the environment except those named in `keep`, generically: the
// names are read from LMDB's main database, so a database added later is emptied too.
Status clear_databases_except(Txn& txn, std::initializer_list<std::string_view> keep);

// Whether a register write of (timestamp, dot) still beats every version of `current`: a larger
// (HLC, replica id, counter) than each, the order every replica reads the winner by.
bool still_wins(const codec::RetiredRegisterWrite& write, const crdt::LwwRegister::Store& current);

// The delta-group that re-applies `removal`: an empty fragment per record it named, its context.
codec::DeltaGroup removal_group(const codec::RetiredRemoval& removal);

// The increments and decrements of the set-aside chain `totals` of `old_replica` still to re-issue at
// a counter holding `current`: its totals less what is accounted for here already, i.e. the larger of
// the componentwise maximum over the record's contributions and resets of that chain (arrived, or
// deleted by a reset here) and the deleted offset the chain had absorbed (deletes the old replica had
// seen, whose resets may be gone here).
std::pair<std::uint64_t, std::uint64_t> counter_reissue(const codec::RetiredCounterTotals& totals,
                                                        const crdt::PnCounter::Store& current,
                                                        crdt::ReplicaId old_replica);

}  // namespace cairn::store
