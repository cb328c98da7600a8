#include "src/store/hash_tree.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "src/codec/codec.h"

namespace cairn::store::tree {
namespace {

std::string bucket_key(std::uint32_t bucket) {
  return std::string{static_cast<char>(bucket >> 8), static_cast<char>(bucket & 0xff)};
}

std::uint32_t bucket_from_key(std::string_view key) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(key[0])) << 8 |
         static_cast<unsigned char>(key[1]);
}

std::string encode_hash(std::uint64_t hash) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &hash, 8);  // Native order: the tree is local, never shipped as bytes.
  return bytes;
}

Result<std::uint64_t> decode_hash(std::string_view bytes, const char* what) {
  if (bytes.size() != 8) return fail(ErrorCode::kCorrupt, std::string(what) + " is not 8 bytes");
  std::uint64_t hash = 0;
  std::memcpy(&hash, bytes.data(), 8);
  return hash;
}

// The hash stored at `key` in `dbi`; nullopt when there is none.
Result<std::optional<std::uint64_t>> read_hash(const Txn& txn, MDB_dbi dbi, std::string_view key,
                                               const char* what) {
  auto stored = txn.read(dbi, key);
  if (!stored) return tl::unexpected(stored.error());
  if (!stored->has_value()) return std::optional<std::uint64_t>();
  auto decoded = decode_hash(**stored, what);
  if (!decoded) return tl::unexpected(decoded.error());
  return std::optional<std::uint64_t>(*decoded);
}

// Leaf ^= change (a leaf of 0 is not stored).
Status xor_into_leaf(Txn& txn, const Databases& databases, std::uint32_t bucket, std::uint64_t change) {
  if (change == 0) return ok();
  const std::string key = bucket_key(bucket);
  auto stored = read_hash(txn, databases.tree, key, "a hash tree leaf");
  if (!stored) return tl::unexpected(stored.error());
  const std::uint64_t leaf = stored->value_or(0) ^ change;
  if (leaf == 0) return txn.erase(databases.tree, key);
  return txn.write(databases.tree, key, encode_hash(leaf));
}

}  // namespace

std::uint64_t key_hash(std::string_view record_key) {
  return XXH3_64bits(record_key.data(), record_key.size());
}

std::uint32_t bucket_of(std::string_view record_key) { return bucket_of_key_hash(key_hash(record_key)); }

std::uint64_t record_hash(std::string_view record_key, std::string_view record_bytes) {
  // Seeding the bytes' hash with the key's keeps the pair unambiguous without copying them together.
  return XXH3_64bits_withSeed(record_bytes.data(), record_bytes.size(), key_hash(record_key));
}

Status update(Txn& txn, const Databases& databases, std::string_view record_key,
              std::optional<std::string_view> bytes) {
  const std::uint32_t bucket = bucket_of(record_key);
  std::string index_key = bucket_key(bucket);
  index_key.append(record_key);
  auto old_entry = read_hash(txn, databases.tree_keys, index_key, "a hash tree index entry");
  if (!old_entry) return tl::unexpected(old_entry.error());
  const std::uint64_t old_hash = old_entry->value_or(0);
  std::uint64_t new_hash = 0;
  if (bytes) {
    new_hash = record_hash(record_key, *bytes);
    if (auto written = txn.write(databases.tree_keys, index_key, encode_hash(new_hash)); !written)
      return written;
  } else if (old_entry->has_value()) {
    if (auto erased = txn.erase(databases.tree_keys, index_key); !erased) return erased;
  }
  return xor_into_leaf(txn, databases, bucket, old_hash ^ new_hash);
}

Result<std::vector<std::uint64_t>> node_hashes(const Txn& txn, const Databases& databases, unsigned level,
                                               const std::vector<std::uint32_t>& nodes) {
  if (level > kLeafLevel) return fail(ErrorCode::kInvalidArgument, "hash tree level over the leaf level");
  const unsigned shift = kFanoutBits * (kLeafLevel - level);
  auto cursor = LmdbCursor::open(txn, databases.tree);
  if (!cursor) return tl::unexpected(cursor.error());
  std::vector<std::uint64_t> hashes;
  hashes.reserve(nodes.size());
  for (std::uint32_t node : nodes) {
    if (node >= nodes_at(level)) return fail(ErrorCode::kInvalidArgument, "hash tree node out of range");
    const std::uint32_t first = node << shift;
    const std::uint32_t end = (node + 1) << shift;  // At most kLeafBuckets: no overflow.
    std::uint64_t hash = 0;
    for (auto entry = cursor->seek(bucket_key(first));; entry = cursor->next()) {
      if (!entry) return tl::unexpected(entry.error());
      if (!entry->has_value() || (*entry)->key.size() != 2 || bucket_from_key((*entry)->key) >= end) break;
      auto leaf = decode_hash((*entry)->value, "a hash tree leaf");
      if (!leaf) return tl::unexpected(leaf.error());
      hash ^= *leaf;
    }
    hashes.push_back(hash);
  }
  return hashes;
}

Result<std::vector<BucketEntry>> bucket_entries(const Txn& txn, const Databases& databases,
                                                std::uint32_t bucket) {
  const std::string prefix = bucket_key(bucket);
  auto cursor = LmdbCursor::open(txn, databases.tree_keys);
  if (!cursor) return tl::unexpected(cursor.error());
  std::vector<BucketEntry> entries;
  for (auto entry = cursor->seek(prefix);; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value() || !(*entry)->key.starts_with(prefix)) break;
    auto hash = decode_hash((*entry)->value, "a hash tree index entry");
    if (!hash) return tl::unexpected(hash.error());
    entries.push_back(BucketEntry{std::string((*entry)->key.substr(prefix.size())), *hash});
  }
  return entries;
}

Result<std::vector<std::uint64_t>> leaves_from_records(const Txn& txn, const Databases& databases) {
  // Accumulated in memory: 65,536 leaves at most.
  std::vector<std::uint64_t> leaves(kLeafBuckets, 0);
  auto cursor = LmdbCursor::open(txn, databases.values);
  if (!cursor) return tl::unexpected(cursor.error());
  for (auto entry = cursor->seek("");; entry = cursor->next()) {
    if (!entry) return tl::unexpected(entry.error());
    if (!entry->has_value()) break;
    leaves[bucket_of((*entry)->key)] ^= record_hash((*entry)->key, (*entry)->value);
  }
  return leaves;
}

Status rebuild(Txn& txn, const Databases& databases) {
  for (MDB_dbi dbi : {databases.tree, databases.tree_keys}) {
    if (int rc = mdb_drop(txn.get(), dbi, 0); rc != 0)
      return tl::unexpected(lmdb_error(rc, "clear hash tree"));
  }
  {
    // The index first (one entry per record), then every leaf once, from the same records.
    auto cursor = LmdbCursor::open(txn, databases.values);
    if (!cursor) return tl::unexpected(cursor.error());
    for (auto entry = cursor->seek("");; entry = cursor->next()) {
      if (!entry) return tl::unexpected(entry.error());
      if (!entry->has_value()) break;
      std::string index_key = bucket_key(bucket_of((*entry)->key));
      index_key.append((*entry)->key);
      if (auto written = txn.write(databases.tree_keys, index_key,
                                   encode_hash(record_hash((*entry)->key, (*entry)->value)));
          !written) {
        return written;
      }
    }
  }
  auto leaves = leaves_from_records(txn, databases);
  if (!leaves) return tl::unexpected(leaves.error());
  for (std::uint32_t bucket = 0; bucket < kLeafBuckets; ++bucket) {
    if ((*leaves)[bucket] == 0) continue;
    if (auto written = txn.write(databases.tree, bucket_key(bucket), encode_hash((*leaves)[bucket])); !written) {
      return written;
    }
  }
  return ok();
}

}  // namespace cairn::store::tree
