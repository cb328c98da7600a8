// The value types of the store's replication face (src/store/replica.h): the delta log, the peer
// table, the hash tree and bucket exchange, metadata compaction, retirement and replica identity.
// Internal: the node, gossip/, anti-entropy and the tools that inspect a data directory use them; an
// application embedding a store (include/cairn/store.h) needs none of them. They keep the `cairn`
// namespace they had when they were public, so the gossip layer's call sites read as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

// One delta-group of the delta log.
struct LoggedDelta {
  std::uint64_t sequence = 0;
  std::uint64_t origin = 0;  // The replica it was received from; 0 for a local write.
  std::string bytes;         // Encoded delta-group, ready for merge_delta on another store.
};

// One delta-group of a received push, for merge_deltas.
struct DeltaToMerge {
  std::string_view bytes;    // Encoded delta-group.
  std::uint64_t origin = 0;  // The replica it was received from.
};

// What merge_delta did.
struct MergeOutcome {
  bool changed = false;            // Something in the delta was new here.
  std::uint64_t logged_sequence = 0;  // Where its new part was appended to the delta log (0 if nothing new).
};

// The sequences the delta log holds: [first, last]; first == last + 1 when it is empty. `last` is the
// newest sequence ever logged (0 before the first write), also after trimming.
struct DeltaLogBounds {
  std::uint64_t first = 1;
  std::uint64_t last = 0;
};

// A cluster member as a peer remembers it across restarts (the gossip layer's membership table).
struct PeerRecord {
  std::uint64_t id = 0;
  std::string host;
  std::uint16_t port = 0;
  std::uint8_t status = 0;  // 0 alive, 1 suspect, 2 dead, 3 left.
  std::uint64_t incarnation = 0;
};

// ---- Anti-entropy types (see the Replica methods of the same block). ----
inline constexpr unsigned kTreeLeafLevel = 4;
inline constexpr std::uint32_t kTreeFanout = 16;
inline constexpr std::uint32_t kTreeLeafBuckets = 65536;

struct TreeHashes {
  std::vector<std::uint64_t> hashes;  // One per requested node, in request order.
  std::string context;                // Encoded causal context, when asked for.
};

// One record as anti-entropy compares it: which record, and what it holds.
struct RecordDigest {
  std::uint64_t key_hash = 0;     // Of its record key; the top 16 bits are its leaf bucket.
  std::uint64_t record_hash = 0;  // What it adds to its bucket's hash.
  friend bool operator==(const RecordDigest&, const RecordDigest&) = default;
};

struct BucketDigests {
  std::vector<std::uint32_t> buckets;  // The buckets covered: a prefix of those asked for.
  std::vector<RecordDigest> records;   // Every record in them.
};

struct BucketRecords {
  std::string group;        // The records, as a delta-group with an empty context.
  std::size_t records = 0;  // How many records it holds.
};

struct BucketMerge {
  std::size_t keys_changed = 0;            // Keys whose value changed here (removals included).
  std::uint64_t logged_sequence = 0;       // Where the change was logged (0: nothing new).
  std::vector<RecordDigest> received;      // The digests of the records received.
};

// ---- Metadata compaction and retirement types (see the Replica methods of the same block). ----

struct VersionVectorEntry {
  std::uint64_t replica = 0;
  std::uint64_t counter = 0;  // Every dot 1..counter of `replica` seen.
  // The highest dot of `replica` seen past a gap (dots that arrived out of order, e.g. from a partial
  // anti-entropy repair); 0 when there is none. Such an entry may have counter 0.
  std::uint64_t beyond_gap = 0;
  friend bool operator==(const VersionVectorEntry&, const VersionVectorEntry&) = default;
};

// What one replica last reported of its causal context.
struct ReplicaReport {
  std::uint64_t replica = 0;
  std::vector<VersionVectorEntry> vector;  // Ascending by replica.
};

struct CompactionPass {
  std::size_t records_examined = 0;  // Counter records holding resets that were looked at.
  std::size_t resets_dropped = 0;
  std::size_t records_removed = 0;   // Records left with no entry at all, hence removed.
  bool wrapped = false;              // This call reached the end of the records holding resets.
};

// A replica retired by a replicated decision: its dots 1..through are all there will ever be.
struct Retirement {
  std::uint64_t replica = 0;
  std::uint64_t through = 0;
  friend bool operator==(const Retirement&, const Retirement&) = default;
};

struct Reincarnation {
  std::uint64_t old_replica = 0;
  std::uint64_t new_replica = 0;
  std::size_t writes_set_aside = 0;
};

// ---- Replica identity (Replica::identity() and the methods of the same block; docs/store.md). ----

// Why a store took a new replica id.
enum class IdentityChangeReason : std::uint8_t {
  kCopied,     // Opened away from where its id was minted: a copied, restored or moved data file.
  kConflict,   // Another copy of the store minted dots under the same id.
  kRetired,    // The cluster retired the old id (reincarnate()).
  kRequested,  // adopt_new_identity() (e.g. after a backup was restored into the same file).
};

struct IdentityChange {
  std::uint64_t old_replica = 0;
  std::uint64_t new_replica = 0;
  IdentityChangeReason reason = IdentityChangeReason::kCopied;
  // True when the writes made under the old id since it was last confirmed were set aside and the
  // store emptied, to be refilled by anti-entropy before they are re-issued under the new id
  // (reissue_retired_writes()); false when it kept every record.
  bool emptied = false;
  std::size_t writes_set_aside = 0;
  std::string detail;  // What showed it, for the log (e.g. "the data file's inode differs").
};

struct StoreIdentity {
  std::uint64_t replica = 0;
  // Own dots from this counter on were minted since start_identity_check() and no peer has confirmed
  // yet that no other copy of the id minted them too (confirm_identity()); 0: none are pending.
  std::uint64_t unconfirmed_from = 0;
  // While dots are unconfirmed: the first delta log sequence that must not be shipped yet (0: none).
  std::uint64_t held_from_sequence = 0;
  std::vector<std::uint64_t> predecessors;    // Ids this data was written under before, oldest first.
  std::optional<IdentityChange> last_change;  // The latest change since the store was opened.
};

}  // namespace cairn
