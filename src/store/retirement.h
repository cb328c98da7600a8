// Retired replicas in the store: the retirement table, dropping dots beyond a retirement, and the
// causal context as it is persisted and shipped without the retired replicas (docs/metadata-gc.md).
//
// A replica X retired through n has minted dots (X,1..n) and no other dot of X is ever accepted. So
// once a store's context covers (X,1..n), X's entry says nothing a peer with the same retirement
// cannot restore, and leaves the persisted and shipped context. The stored form then names the
// retirement table it left out by its digest (codec::retirement_digest):
//   - a reader whose own table has that digest adds (X,1..n) back for every X of it: exact, since the
//     writer omitted them only after seeing all of them;
//   - any other reader (another table, none, an older build that ignores the field) takes the omitted
//     replicas as unseen. Under-coverage is safe: a dot the context does not cover is never removed on
//     its account; the two only converge more slowly until their tables agree. Over-coverage (taking a
//     dot as seen that the sender never saw) would delete data, and this scheme never produces it.
// The writer omits the retired replicas only when it covers every one of its table (all or none), so
// the digest always names exactly the table the reader compares with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "crdt/dot_context.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// Keys inside the meta database (kept here, not in databases.h: they belong to retirement alone).
inline constexpr char kMetaRetirementsKey[] = "retirements";      // codec RetirementTable.
inline constexpr char kMetaRetiredWritesKey[] = "retired-writes";  // codec RetiredWrites, while pending.
// The meta key of the index-th set-aside message: kMetaRetiredWritesKey, then "retired-writes/1", ...
inline std::string retired_writes_key(std::size_t index) {
  return index == 0 ? std::string(kMetaRetiredWritesKey) : std::string(kMetaRetiredWritesKey) + "/" + std::to_string(index);
}

// Retired replica -> through: its dots 1..through are all there will ever be.
using RetiredMap = std::map<crdt::ReplicaId, std::uint64_t>;

// True when `dot` belongs to a retired replica and lies beyond its retirement.
bool beyond_retirement(const RetiredMap& retired, const crdt::Dot& dot);

// `context` without the dots beyond a retirement (vector entries capped, cloud dots dropped).
crdt::DotContext without_dots_beyond(const crdt::DotContext& context, const RetiredMap& retired);
// `value` without the dots beyond a retirement; `dropped` is set when any went.
codec::RecordValue without_dots_beyond(const codec::RecordValue& value, const RetiredMap& retired, bool& dropped);
// Drops the dots beyond a retirement from every record fragment and from the context of `group`.
void drop_dots_beyond(codec::DeltaGroup& group, const RetiredMap& retired);

// The context as persisted and shipped: without the retired replicas when it covers all of them.
codec::StoredContext stored_context(const crdt::DotContext& context, const RetiredMap& retired);
// The context a stored or shipped one stands for here: the omitted replicas added back when `retired`
// is the table they were omitted for, otherwise left out; never any dot beyond a retirement.
crdt::DotContext restored_context(const codec::StoredContext& stored, const RetiredMap& retired);

// The table in `meta` (empty when none), and writing it.
Result<RetiredMap> read_retirements(const Txn& txn, MDB_dbi meta);
Status write_retirements(Txn& txn, MDB_dbi meta, const RetiredMap& retired);
std::vector<codec::RetiredReplica> as_table(const RetiredMap& retired);

// Removes the dots beyond a retirement from every record (the hash tree follows). A full scan: call
// it only when the context shows such dots exist.
Status purge_dots_beyond(Txn& txn, const Databases& databases, const RetiredMap& retired);

}  // namespace cairn::store
