// The store side of anti-entropy's bucket exchange: the digests of the records of some hash tree
// buckets, chosen records of them as one delta-group, and turning another replica's such group into
// the delta that joins it here.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "cairn/store.h"
#include "src/store/replica_types.h"
#include "src/codec/records.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"

namespace cairn::store {

// The digests of every record of `buckets`, in the order given, stopping after the bucket that takes
// the count past `max_records`.
Result<BucketDigests> read_bucket_digests(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets, std::size_t max_records);

// The records of `buckets` whose key hash is in `key_hashes`, as an encoded delta-group with an empty
// context; stops once they pass `max_bytes` (at least one record).
Result<BucketRecords> read_bucket_records(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets,
                                          const std::set<std::uint64_t>& key_hashes, std::size_t max_bytes);

// What bucket_delta() makes of another replica's records.
struct BucketDelta {
  codec::DeltaGroup group;
  std::vector<RecordDigest> received;  // The digests of their records.
};

// The delta that joins `theirs` (another replica's records of `buckets`, with its whole context) into
// the records in `txn`, our records with a key hash in `absent` counting as absent there: their
// records, an empty fragment for each absent one of ours, and a context of only the dots that concern
// these records (every dot of theirs, and the dots of ours for the same keys that their context
// covers, i.e. that their side removed). Joined like any delta it equals joining those records under
// their whole context, without marking dots of other records as seen. kCorrupt when a record or key
// hash of theirs lies outside `buckets`.
Result<BucketDelta> bucket_delta(const Txn& txn, const Databases& databases,
                                 const std::set<std::uint32_t>& buckets, const codec::DeltaGroup& theirs,
                                 const std::set<std::uint64_t>& absent);

}  // namespace cairn::store
