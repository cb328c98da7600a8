#include "src/store/bucket_exchange.h"

#include <map>
#include <variant>

#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/hash_tree.h"

namespace cairn::store {
namespace {

template <typename Visit>
void for_each_dot(const codec::RecordValue& value, Visit&& visit) {
  if (const auto* set = std::get_if<crdt::DotSet>(&value)) {
    for (const crdt::Dot& dot : set->dots()) visit(dot);
  } else if (const auto* reg = std::get_if<crdt::LwwRegister::Store>(&value)) {
    for (const auto& [dot, entry] : reg->entries()) visit(dot);
  } else {
    for (const auto& [dot, entry] : std::get<crdt::PnCounter::Store>(value).entries()) visit(dot);
  }
}

}  // namespace

Result<BucketRecords> read_bucket_records(const Txn& txn, const Databases& databases,
                                          const std::vector<std::uint32_t>& buckets, std::size_t max_bytes,
                                          const crdt::DotContext& context) {
  BucketRecords result;
  codec::DeltaGroup group;
  group.context = context;
  std::size_t bytes = 0;
  for (std::uint32_t bucket : buckets) {
    if (bucket >= tree::kLeafBuckets) return fail(ErrorCode::kInvalidArgument, "bucket out of range");
    if (!result.buckets.empty() && bytes > max_bytes) break;
    auto keys = tree::bucket_record_keys(txn, databases, bucket);
    if (!keys) return tl::unexpected(keys.error());
    for (const std::string& record_key : *keys) {
      auto key = codec::decode_record_key(record_key);
      if (!key) return tl::unexpected(key.error());
      auto value = read_record(txn, databases.values, *key);
      if (!value) return tl::unexpected(value.error());
      bytes += record_key.size() + codec::encode_record(*value).size();
      group.records.push_back(codec::RecordFragment{std::move(*key), std::move(*value)});
    }
    result.buckets.push_back(bucket);
  }
  result.records = group.records.size();
  result.group = codec::encode_delta_group(group);
  return result;
}

Result<codec::DeltaGroup> bucket_delta(const Txn& txn, const Databases& databases,
                                       const std::set<std::uint32_t>& buckets, const codec::DeltaGroup& theirs) {
  codec::DeltaGroup delta;
  delta.origin = theirs.origin;
  std::set<codec::RecordKey> their_keys;
  for (const codec::RecordFragment& fragment : theirs.records) {
    if (!buckets.contains(tree::bucket_of(codec::encode_record_key(fragment.key)))) {
      return fail(ErrorCode::kCorrupt, "anti-entropy records of key '" + fragment.key.key +
                                           "' lie outside the buckets they were sent for");
    }
    their_keys.insert(fragment.key);
    for_each_dot(fragment.value, [&](const crdt::Dot& dot) { delta.context.insert(dot); });
    delta.records.push_back(fragment);
  }
  for (std::uint32_t bucket : buckets) {
    auto keys = tree::bucket_record_keys(txn, databases, bucket);
    if (!keys) return tl::unexpected(keys.error());
    for (const std::string& record_key : *keys) {
      auto key = codec::decode_record_key(record_key);
      if (!key) return tl::unexpected(key.error());
      auto mine = read_record(txn, databases.values, *key);
      if (!mine) return tl::unexpected(mine.error());
      for_each_dot(*mine, [&](const crdt::Dot& dot) {
        if (theirs.context.contains(dot)) delta.context.insert(dot);
      });
      if (!their_keys.contains(*key)) delta.records.push_back(codec::RecordFragment{*key, empty_record(key->type)});
    }
  }
  return delta;
}

}  // namespace cairn::store
