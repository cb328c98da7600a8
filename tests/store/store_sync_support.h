// Helpers that reconcile stores in tests the way gossip does, with the Store's own replication methods:
// the delta log (store_test_support.h's ship_deltas), and the anti-entropy bucket exchange.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "tests/store/store_test_support.h"

namespace cairn::test {

// The context `store` ships (tree_hashes with_context), as encoded.
inline std::string shipped_context_of(store::Replica& store) {
  auto hashes = store.tree_hashes(0, {0}, true);
  REQUIRE(hashes.has_value());
  return hashes->context;
}

// Every level-1 node of the hash tree.
inline std::vector<std::uint32_t> level1_nodes() {
  std::vector<std::uint32_t> nodes(kTreeFanout);
  for (std::uint32_t i = 0; i < kTreeFanout; ++i) nodes[i] = i;
  return nodes;
}

// Ships, with the anti-entropy bucket methods, every record `from` holds that `to` lacks or holds
// differently, and names as absent every record of `to` that `from` lacks, under `from`'s shipped
// context: one bucket exchange covering the whole store.
inline void ship_buckets(store::Replica& from, store::Replica& to) {
  const std::string context = shipped_context_of(from);  // Read first: it may be older than the records.
  std::vector<std::uint32_t> every_bucket(kTreeLeafBuckets);
  for (std::uint32_t i = 0; i < kTreeLeafBuckets; ++i) every_bucket[i] = i;
  const auto max = std::numeric_limits<std::size_t>::max();
  auto theirs = from.bucket_digests(every_bucket, max);
  auto mine = to.bucket_digests(every_bucket, max);
  REQUIRE(theirs.has_value());
  REQUIRE(mine.has_value());
  std::set<std::uint64_t> their_keys, send, absent;
  std::set<std::uint32_t> buckets;
  for (const RecordDigest& digest : theirs->records) {
    their_keys.insert(digest.key_hash);
    if (std::find(mine->records.begin(), mine->records.end(), digest) == mine->records.end()) {
      send.insert(digest.key_hash);
      buckets.insert(static_cast<std::uint32_t>(digest.key_hash >> 48));
    }
  }
  for (const RecordDigest& digest : mine->records) {
    if (their_keys.contains(digest.key_hash)) continue;
    absent.insert(digest.key_hash);
    buckets.insert(static_cast<std::uint32_t>(digest.key_hash >> 48));
  }
  if (buckets.empty()) return;
  const std::vector<std::uint32_t> bucket_list(buckets.begin(), buckets.end());
  auto records = from.bucket_records(bucket_list, {send.begin(), send.end()}, max);
  REQUIRE(records.has_value());
  auto merged = to.merge_buckets(bucket_list, records->group, {absent.begin(), absent.end()}, context,
                                 from.replica_id());
  INFO((merged ? std::string("merged") : merged.error().to_string()));
  REQUIRE(merged.has_value());
}

// Joins `from`'s shipped context into `to` when their trees are equal, as a round that found no
// difference does; returns whether it joined.
inline bool join_context(store::Replica& from, store::Replica& to) {
  auto level1 = from.tree_hashes(1, level1_nodes(), true);
  REQUIRE(level1.has_value());
  auto joined = to.join_context_if_tree_equals(level1->hashes, level1->context);
  REQUIRE(joined.has_value());
  return *joined;
}

// `to` filled from `from` as a full anti-entropy round would: records, then the whole context.
inline void refill(store::Replica& from, store::Replica& to) {
  ship_buckets(from, to);
  REQUIRE(join_context(from, to));
}

// Every store ships every delta it logged to every other, until nothing new moves.
inline void sync_all(const std::vector<store::Replica*>& stores) {
  for (int round = 0; round < 2; ++round) {
    for (store::Replica* from : stores) {
      for (store::Replica* to : stores) {
        if (from != to) ship_deltas(*from, *to);
      }
    }
  }
}

}  // namespace cairn::test
