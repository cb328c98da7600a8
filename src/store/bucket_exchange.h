// The store side of anti-entropy's bucket exchange: reading the records of some hash tree buckets as
// one delta-group, and turning another replica's such group into the delta that joins it here.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "cairn/store.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// The records of `buckets` (in the order given, stopping after the bucket that takes them past
// `max_bytes`) and `context`, as an encoded delta-group. Every record is read in `txn`.
Result<BucketRecords> read_bucket_records(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets, std::size_t max_bytes,
                                          const crdt::DotContext& context);

// The delta that joins `theirs` (another replica's records of `buckets` plus its whole context) into
// the records in `txn`: their records, an empty fragment for each record of ours in those buckets
// they lack, and a context of only the dots that concern these records: every dot of their records,
// and the dots of our records their context covers (those their side removed). Joined like any delta,
// it equals joining their records under their whole context, without marking dots of other buckets
// as seen. kCorrupt when one of their records lies outside `buckets`.
Result<codec::DeltaGroup> bucket_delta(const Txn& txn, const Databases& databases,
                                       const std::set<std::uint32_t>& buckets, const codec::DeltaGroup& theirs);

}  // namespace cairn::store
