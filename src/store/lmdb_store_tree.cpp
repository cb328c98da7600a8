// LmdbStore's anti-entropy entry points: the hash tree's hashes, the records of buckets, and joining
// another replica's buckets and context (see include/cairn/store.h and docs/anti-entropy.md).
#include <algorithm>
#include <set>

#include "src/codec/codec.h"
#include "src/store/bucket_exchange.h"
#include "src/store/hash_tree.h"
#include "src/store/identity.h"
#include "src/store/lmdb_store.h"
#include "src/store/record_checks.h"
#include "src/store/retirement.h"

namespace cairn::store {
namespace {

std::vector<std::uint32_t> all_nodes_at(unsigned level) {
  std::vector<std::uint32_t> nodes(tree::nodes_at(level));
  for (std::uint32_t i = 0; i < nodes.size(); ++i) nodes[i] = i;
  return nodes;
}

}  // namespace

Result<crdt::DotContext> LmdbStore::committed_context(const Txn& txn) const {
  auto bytes = txn.read(databases().meta, kMetaContextKey);
  if (!bytes) return tl::unexpected(bytes.error());
  if (!bytes->has_value()) return crdt::DotContext{};
  auto context = codec::decode_context(**bytes);
  if (!context) return tl::unexpected(context.error());
  if (auto checked = check_context(*context, "the stored causal context"); !checked) return tl::unexpected(checked.error());
  return context;
}

Result<TreeHashes> LmdbStore::tree_hashes(unsigned level, const std::vector<std::uint32_t>& nodes,
                                          bool with_context) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  return with_read_txn([&](const Txn& txn) -> Result<TreeHashes> {
    TreeHashes result;
    auto hashes = tree::node_hashes(txn, databases(), level, nodes);
    if (!hashes) return tl::unexpected(hashes.error());
    result.hashes = std::move(*hashes);
    if (with_context) {
      // Shipped as persisted: possibly without the retired replicas, naming the table it omits
      // (retirement.h), which a receiver with the same table restores.
      auto stored = txn.read(databases().meta, kMetaContextKey);
      if (!stored) return tl::unexpected(stored.error());
      result.context = stored->has_value() ? std::string(**stored) : codec::encode_context(crdt::DotContext{});
    }
    return result;
  });
}

Result<BucketDigests> LmdbStore::bucket_digests(const std::vector<std::uint32_t>& buckets,
                                                std::size_t max_records) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  return with_read_txn(
      [&](const Txn& txn) { return read_bucket_digests(txn, databases(), buckets, max_records); });
}

Result<BucketRecords> LmdbStore::bucket_records(const std::vector<std::uint32_t>& buckets,
                                                const std::vector<std::uint64_t>& key_hashes,
                                                std::size_t max_bytes) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  const std::set<std::uint64_t> wanted(key_hashes.begin(), key_hashes.end());
  return with_read_txn(
      [&](const Txn& txn) { return read_bucket_records(txn, databases(), buckets, wanted, max_bytes); });
}

Result<BucketMerge> LmdbStore::merge_buckets(const std::vector<std::uint32_t>& buckets,
                                             std::string_view group_bytes,
                                             const std::vector<std::uint64_t>& absent_key_hashes,
                                             std::string_view sender_context, std::uint64_t origin) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  auto theirs = codec::decode_delta_group(group_bytes);
  if (!theirs) return tl::unexpected(theirs.error());
  auto context = codec::decode_stored_context(sender_context);
  if (!context) return tl::unexpected(context.error());
  theirs->origin = crdt::ReplicaId{origin};
  std::set<std::uint32_t> bucket_set;
  for (std::uint32_t bucket : buckets) {
    if (bucket >= tree::kLeafBuckets) return fail(ErrorCode::kCorrupt, "anti-entropy bucket out of range");
    bucket_set.insert(bucket);
  }
  for (const codec::RecordFragment& fragment : theirs->records) {
    if (fragment.key.key.empty() || fragment.key.key.size() > kMaxKeyBytes ||
        fragment.key.member.size() > kMaxMemberBytes) {
      return fail(ErrorCode::kLimitExceeded, "anti-entropy records hold a key or member outside the limits");
    }
  }
  const std::set<std::uint64_t> absent(absent_key_hashes.begin(), absent_key_hashes.end());
  // Their records or context holding a dot of our id beyond any minted here: another copy of this
  // store minted it. Take a new id first (identity.h); the records then merge as any replica's.
  const crdt::ReplicaId self{replica_id()};
  const std::uint64_t highest =
      std::max(highest_dot_of(*theirs, self), context->context.next_dot(self).counter - 1);
  if (auto resolved = resolve_if_another_copy(self, highest, false, "a peer's anti-entropy records"); !resolved) {
    return tl::unexpected(resolved.error());
  }
  BucketMerge outcome;
  auto merged = run_write([&](Txn& txn) -> Status {
    // Their context as it stands here: retired replicas they omitted restored only when our
    // retirement tables agree (otherwise taken as unseen), dots beyond a retirement dropped.
    theirs->context = restored_context(*context, working_.retired);
    auto delta = bucket_delta(txn, databases(), bucket_set, *theirs, absent);
    if (!delta) return tl::unexpected(delta.error());
    drop_dots_beyond(delta->group, working_.retired);
    Staged staged = stage();
    // Logged like a merged delta, so ordinary gossip carries the repair on (never back to `origin`).
    auto logged = commit_group(txn, delta->group, /*local=*/false, staged);
    if (!logged) return tl::unexpected(logged.error());
    // Changes are per record (a set's members each count); keys_changed counts keys.
    for (std::size_t i = 0; i < staged.changes.size(); ++i) {
      if (i == 0 || staged.changes[i].key != staged.changes[i - 1].key) ++outcome.keys_changed;
    }
    outcome.logged_sequence = *logged;
    outcome.received = std::move(delta->received);
    adopt(std::move(staged));
    observe_timestamps(delta->group);
    return ok();
  });
  if (!merged) return tl::unexpected(merged.error());
  return outcome;
}

Result<bool> LmdbStore::join_context_if_tree_equals(const std::vector<std::uint64_t>& level1_hashes,
                                                    std::string_view context_bytes) {
  if (auto ok_to_write = writable(); !ok_to_write) return tl::unexpected(ok_to_write.error());
  auto theirs = codec::decode_stored_context(context_bytes);
  if (!theirs) return tl::unexpected(theirs.error());
  const crdt::ReplicaId self{replica_id()};
  if (auto resolved = resolve_if_another_copy(self, theirs->context.next_dot(self).counter - 1, false,
                                              "a peer's causal context");
      !resolved) {
    return tl::unexpected(resolved.error());
  }
  bool joined = false;
  auto done = run_write([&](Txn& txn) -> Status {
    auto mine = tree::node_hashes(txn, databases(), 1, all_nodes_at(1));
    if (!mine) return tl::unexpected(mine.error());
    joined = *mine == level1_hashes;
    if (!joined) return ok();
    working_.whole().context.join(restored_context(*theirs, working_.retired));
    working_.context_dirty = true;
    return ok();
  });
  if (!done) return tl::unexpected(done.error());
  return joined;
}

}  // namespace cairn::store
