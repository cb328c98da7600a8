#include "src/store/bucket_exchange.h"

#include <map>
#include <variant>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/hash_tree.h"

namespace cairn::store {
namespace {

Status check_bucket(std::uint32_t bucket) {
  if (bucket >= tree::kLeafBuckets) return fail(ErrorCode::kInvalidArgument, "bucket out of range");
  return ok();
}

}  // namespace

Result<BucketDigests> read_bucket_digests(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets,
                                          std::size_t max_records) {
  BucketDigests result;
  for (std::uint32_t bucket : buckets) {
    if (auto valid = check_bucket(bucket); !valid) return tl::unexpected(valid.error());
    if (!result.buckets.empty() && result.records.size() > max_records) break;
    auto entries = tree::bucket_entries(txn, databases, bucket);
    if (!entries) return tl::unexpected(entries.error());
    for (const tree::BucketEntry& entry : *entries) {
      result.records.push_back(RecordDigest{tree::key_hash(entry.record_key), entry.record_hash});
    }
    result.buckets.push_back(bucket);
  }
  return result;
}

Result<BucketRecords> read_bucket_records(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets,
                                          const std::set<std::uint64_t>& key_hashes, std::size_t max_bytes) {
  codec::DeltaGroup group;
  std::size_t bytes = 0;
  for (std::uint32_t bucket : buckets) {
    if (auto valid = check_bucket(bucket); !valid) return tl::unexpected(valid.error());
    auto entries = tree::bucket_entries(txn, databases, bucket);
    if (!entries) return tl::unexpected(entries.error());
    for (const tree::BucketEntry& entry : *entries) {
      if (!key_hashes.contains(tree::key_hash(entry.record_key))) continue;
      if (!group.records.empty() && bytes > max_bytes) break;
      auto key = codec::decode_record_key(entry.record_key);
      if (!key) return tl::unexpected(key.error());
      auto stored = txn.read(databases.values, entry.record_key);
      if (!stored) return tl::unexpected(stored.error());
      if (!stored->has_value()) continue;  // Indexed but gone would be a bug; nothing to send.
      auto value = codec::decode_record(**stored, key->type);
      if (!value) return tl::unexpected(value.error());
      bytes += entry.record_key.size() + (*stored)->size();
      group.records.push_back(codec::RecordFragment{std::move(*key), std::move(*value)});
    }
  }
  BucketRecords result;
  result.records = group.records.size();
  result.group = codec::encode_delta_group(group);
  return result;
}

Result<BucketDelta> bucket_delta(const Txn& txn, const Databases& databases,
                                 const std::set<std::uint32_t>& buckets, const codec::DeltaGroup& theirs,
                                 const std::set<std::uint64_t>& absent) {
  BucketDelta delta;
  delta.group.origin = theirs.origin;
  std::set<std::uint64_t> their_keys;
  for (const codec::RecordFragment& fragment : theirs.records) {
    const std::string record_key = codec::encode_record_key(fragment.key);
    const std::uint64_t hash = tree::key_hash(record_key);
    if (!buckets.contains(tree::bucket_of_key_hash(hash))) {
      return fail(ErrorCode::kCorrupt, "anti-entropy records of key '" + fragment.key.key +
                                           "' lie outside the buckets they were sent for");
    }
    their_keys.insert(hash);
    delta.received.push_back(
        RecordDigest{hash, tree::record_hash(record_key, codec::encode_record(fragment.value))});
    for_each_dot(fragment.value, [&](const crdt::Dot& dot) { delta.group.context.insert(dot); });
    delta.group.records.push_back(fragment);
  }
  for (std::uint64_t hash : absent) {
    if (!buckets.contains(tree::bucket_of_key_hash(hash))) {
      return fail(ErrorCode::kCorrupt, "an anti-entropy absent key lies outside the buckets it was sent for");
    }
  }
  for (std::uint32_t bucket : buckets) {
    auto entries = tree::bucket_entries(txn, databases, bucket);
    if (!entries) return tl::unexpected(entries.error());
    for (const tree::BucketEntry& entry : *entries) {
      const std::uint64_t hash = tree::key_hash(entry.record_key);
      const bool sent = their_keys.contains(hash);
      if (!sent && !absent.contains(hash)) continue;  // Not involved: its dots must not join our context.
      auto key = codec::decode_record_key(entry.record_key);
      if (!key) return tl::unexpected(key.error());
      auto mine = read_record(txn, databases.values, *key);
      if (!mine) return tl::unexpected(mine.error());
      for_each_dot(*mine, [&](const crdt::Dot& dot) {
        if (theirs.context.contains(dot)) delta.group.context.insert(dot);
      });
      if (!sent)
        delta.group.records.push_back(codec::RecordFragment{std::move(*key), empty_record(key->type)});
    }
  }
  return delta;
}

}  // namespace cairn::store
