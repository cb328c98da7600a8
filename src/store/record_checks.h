// Invariant checks at the LMDB boundary, as TigerBeetle pairs its assertions around I/O: a record is
// checked right after it is read and decoded and right before it is written, a causal context right
// after it is read. They are cheap (one pass over the dots already in memory) and always on. A failed
// check is a kCorrupt error for that key, never a crash: the store refuses to serve or merge what it
// cannot trust, and every other key reads as before. LmdbStore counts the failures it returns
// (StoreUsage::failed_record_checks, the cairn_store_failed_record_checks_total metric).
#pragma once

#include "cairn/status.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"

namespace cairn::store {

// The invariants of one record value: every dot names a replica (id != 0) and an event (counter > 0);
// a set member record holds at least one dot (an empty one is erased, never stored); a counter entry
// names its contributor and a chain of that contributor. kCorrupt naming the key when one fails.
Status check_record(const codec::RecordKey& key, const codec::RecordValue& value);

// check_record, and every dot of `value` is in `context` (a record never holds a dot its store has
// not seen): what a record must satisfy right before it is written under `context`.
// `also` (may be null) is a second context the dots may be in: a delta-group's, joined into `context`
// in the same transaction.
Status check_record_under(const codec::RecordKey& key, const codec::RecordValue& value,
                          const crdt::DotContext& context, const crdt::DotContext* also = nullptr);

// The invariants of a causal context: every vector entry names a replica and counts above 0, and
// every cloud dot is above its replica's vector entry (below it, the vector covers it already).
// kCorrupt naming `what` when one fails.
Status check_context(const crdt::DotContext& context, std::string_view what);

// Whether `error` is a failed check of this file (the store counts them apart from other errors).
bool is_failed_check(const Error& error);

}  // namespace cairn::store
