// The anti-entropy family of the peer wire format: TreeLevel, BucketDigest and BucketDelta (see
// parts.h for the four steps of every message type; gossip/anti_entropy.h for the rounds).
#include <algorithm>
#include <utility>

#include "src/store/replica_types.h"  // kTreeLeafLevel, kTreeFanout, kTreeLeafBuckets.
#include "gossip/wire/parts.h"

namespace cairn::gossip::wire_parts {
namespace {

// Strictly ascending, each below `limit`.
template <typename Number>
Status check_ascending(const std::vector<Number>& numbers, std::uint64_t limit, const char* what) {
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] >= limit) return protocol_error(cat(what, " ", numbers[i], " is out of range (limit ", limit, ")"));
    if (i > 0 && numbers[i] <= numbers[i - 1]) {
      return protocol_error(cat(what, "s are not strictly ascending at index ", i));
    }
  }
  return ok();
}

Status check_buckets(const std::vector<std::uint32_t>& buckets, const char* what) {
  if (buckets.size() > kMaxExchangeBuckets) {
    return protocol_error(cat(what, " covers ", buckets.size(), " buckets, over the limit of ", kMaxExchangeBuckets));
  }
  if (buckets.empty()) return protocol_error(cat(what, " covers no bucket"));
  return check_ascending(buckets, kTreeLeafBuckets, "bucket");
}

// Every key hash lies in one of the (ascending) buckets: its top 16 bits name its bucket.
Status check_key_hashes(const std::vector<std::uint64_t>& hashes, const std::vector<std::uint32_t>& buckets,
                        const char* what) {
  if (hashes.size() > kMaxDigestRecords) {
    return protocol_error(cat(what, " lists ", hashes.size(), " key hashes, over the limit of ", kMaxDigestRecords));
  }
  for (std::uint64_t hash : hashes) {
    if (!std::binary_search(buckets.begin(), buckets.end(), static_cast<std::uint32_t>(hash >> 48))) {
      return protocol_error(cat(what, " lists a key hash outside its buckets"));
    }
  }
  return ok();
}

}  // namespace

Status check_body(const TreeLevel& tree) {
  if (tree.level < 1 || tree.level > kTreeLeafLevel) {
    return protocol_error(cat("tree level message has level ", unsigned{tree.level}, "; levels are 1 to ",
                              kTreeLeafLevel));
  }
  if (tree.parents.size() > kMaxTreeParents) {
    return protocol_error(
        cat("tree level message names ", tree.parents.size(), " parents, over the limit of ", kMaxTreeParents));
  }
  if (tree.parents.empty()) return protocol_error("tree level message names no parents");
  std::uint64_t parents_at_level = 1;
  for (unsigned l = 1; l < tree.level; ++l) parents_at_level *= kTreeFanout;
  if (auto parents = check_ascending(tree.parents, parents_at_level, "tree parent"); !parents) return parents;
  if (!tree.hashes.empty() && tree.hashes.size() != tree.parents.size() * kTreeFanout) {
    return protocol_error(cat("tree level message carries ", tree.hashes.size(), " hashes for ",
                              tree.parents.size(), " parents; it must carry 16 per parent or none"));
  }
  if (tree.level != 1 && !tree.context.empty()) {
    return protocol_error("tree level message below level 1 carries a causal context");
  }
  if (tree.context.size() > kMaxFramePayloadBytes) return protocol_error("tree level context is oversized");
  return ok();
}

Status check_body(const BucketDigest& digest) {
  if (auto buckets = check_buckets(digest.buckets, "bucket digest"); !buckets) return buckets;
  if (digest.record_hashes.size() != digest.key_hashes.size()) {
    return protocol_error("bucket digest has not as many record hashes as key hashes");
  }
  return check_key_hashes(digest.key_hashes, digest.buckets, "bucket digest");
}

Status check_body(const BucketDelta& delta) {
  if (auto buckets = check_buckets(delta.buckets, "bucket delta"); !buckets) return buckets;
  if (auto absent = check_key_hashes(delta.absent, delta.buckets, "bucket delta's absent list"); !absent) return absent;
  if (auto wanted = check_key_hashes(delta.wanted, delta.buckets, "bucket delta's wanted list"); !wanted) return wanted;
  if (!delta.reply && !delta.wanted.empty()) return protocol_error("a bucket delta that is no reply wants records");
  if (delta.records.size() > kMaxFramePayloadBytes) return protocol_error("bucket delta records are oversized");
  return ok();
}

void write_body(BodyBuilder body, const TreeLevel& tree) {
  auto out = body.initTreeLevel();
  out.setRound(tree.round);
  out.setReply(tree.reply);
  out.setLevel(tree.level);
  fill(out.initParents(static_cast<unsigned>(tree.parents.size())), tree.parents);
  fill(out.initHashes(static_cast<unsigned>(tree.hashes.size())), tree.hashes);
  if (!tree.context.empty()) out.setContext(as_data(tree.context));
  out.setBusy(tree.busy);
}

void write_body(BodyBuilder body, const BucketDigest& digest) {
  auto out = body.initBucketDigest();
  out.setRound(digest.round);
  fill(out.initBuckets(static_cast<unsigned>(digest.buckets.size())), digest.buckets);
  fill(out.initKeyHashes(static_cast<unsigned>(digest.key_hashes.size())), digest.key_hashes);
  fill(out.initRecordHashes(static_cast<unsigned>(digest.record_hashes.size())), digest.record_hashes);
}

void write_body(BodyBuilder body, const BucketDelta& delta) {
  auto out = body.initBucketDelta();
  out.setRound(delta.round);
  out.setReply(delta.reply);
  fill(out.initBuckets(static_cast<unsigned>(delta.buckets.size())), delta.buckets);
  out.setRecords(as_data(delta.records));
  fill(out.initAbsent(static_cast<unsigned>(delta.absent.size())), delta.absent);
  fill(out.initWanted(static_cast<unsigned>(delta.wanted.size())), delta.wanted);
}

Result<TreeLevel> read_message(wire_schema::TreeLevel::Reader in) {
  TreeLevel tree;
  tree.round = in.getRound();
  tree.reply = in.getReply();
  tree.level = in.getLevel();
  auto parents = read_numbers<std::uint32_t>(in.getParents(), kMaxTreeParents, "a tree level message's parents");
  if (!parents) return forward(parents);
  auto hashes = read_numbers<std::uint64_t>(in.getHashes(), kMaxTreeParents * kTreeFanout, "a tree level message's hashes");
  if (!hashes) return forward(hashes);
  tree.parents = std::move(*parents);
  tree.hashes = std::move(*hashes);
  tree.context = read_data(in.getContext());
  tree.busy = in.getBusy();
  return tree;
}

Result<BucketDigest> read_message(wire_schema::BucketDigest::Reader in) {
  BucketDigest digest;
  digest.round = in.getRound();
  auto buckets = read_numbers<std::uint32_t>(in.getBuckets(), kMaxExchangeBuckets, "a bucket digest's buckets");
  if (!buckets) return forward(buckets);
  auto keys = read_numbers<std::uint64_t>(in.getKeyHashes(), kMaxDigestRecords, "a bucket digest's key hashes");
  if (!keys) return forward(keys);
  auto records = read_numbers<std::uint64_t>(in.getRecordHashes(), kMaxDigestRecords, "a bucket digest's record hashes");
  if (!records) return forward(records);
  digest.buckets = std::move(*buckets);
  digest.key_hashes = std::move(*keys);
  digest.record_hashes = std::move(*records);
  return digest;
}

Result<BucketDelta> read_message(wire_schema::BucketDelta::Reader in) {
  BucketDelta delta;
  delta.round = in.getRound();
  delta.reply = in.getReply();
  auto buckets = read_numbers<std::uint32_t>(in.getBuckets(), kMaxExchangeBuckets, "a bucket delta's buckets");
  if (!buckets) return forward(buckets);
  delta.buckets = std::move(*buckets);
  delta.records = read_data(in.getRecords());
  auto absent = read_numbers<std::uint64_t>(in.getAbsent(), kMaxDigestRecords, "a bucket delta's absent list");
  if (!absent) return forward(absent);
  auto wanted = read_numbers<std::uint64_t>(in.getWanted(), kMaxDigestRecords, "a bucket delta's wanted list");
  if (!wanted) return forward(wanted);
  delta.absent = std::move(*absent);
  delta.wanted = std::move(*wanted);
  return delta;
}

std::size_t estimate_words(const TreeLevel& tree) {
  return 8 + tree.parents.size() / 2 + tree.hashes.size() + words_for_bytes(tree.context.size());
}

std::size_t estimate_words(const BucketDigest& digest) {
  return 8 + digest.buckets.size() / 2 + 2 * digest.key_hashes.size();
}

std::size_t estimate_words(const BucketDelta& delta) {
  return 12 + delta.buckets.size() / 2 + words_for_bytes(delta.records.size()) + delta.absent.size() +
         delta.wanted.size();
}

}  // namespace cairn::gossip::wire_parts
