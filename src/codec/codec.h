// Encoding and decoding of every record the store writes and every delta-group it ships.
//
// Values are Cap'n Proto messages (schema/records.capnp); each carries a format version and a type tag.
// Decoders treat their input as untrusted: bytes from disk or from a peer that do not decode, carry an
// unknown type or a newer format, or break an invariant (a zero dot, a list over its limit) yield an
// error, never a crash or a misread value. Input need not be aligned.
//
// Record keys are NOT Cap'n Proto: they are LMDB keys and must sort by user key, so they use an
// order-preserving byte encoding (see encode_record_key).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "src/codec/records.h"

namespace cairn::codec {

// The format version this build writes. Readers accept any version <= this and refuse newer ones.
inline constexpr std::uint16_t kFormatVersion = 1;

// Upper bound on the bytes one message may occupy (a 16 MiB value plus its metadata, with room).
inline constexpr std::size_t kMaxMessageBytes = 64u << 20;

// Upper bound on the elements of any one list in a message (version-vector entries, cloud dots, the
// dots or entries of one record, the records of one delta-group). Decoders refuse longer lists.
inline constexpr std::size_t kMaxListLength = 1u << 20;

// Value records.
std::string encode_record(const RecordValue& value);
// `expected` is the type the record key names; a record of another type is corrupt.
Result<RecordValue> decode_record(std::string_view bytes, ValueType expected);

// The store-wide causal context.
std::string encode_context(const crdt::DotContext& context);
Result<crdt::DotContext> decode_context(std::string_view bytes);

// The causal context as the store persists and ships it, possibly without the retired replicas of a
// retirement table (see StoredContext). decode_context() reads the same bytes as the bare context,
// without them: a reader that cannot restore them takes them as unseen.
std::string encode_stored_context(const StoredContext& stored);
Result<StoredContext> decode_stored_context(std::string_view bytes);

// Store identity.
std::string encode_meta(const StoreMeta& meta);
Result<StoreMeta> decode_meta(std::string_view bytes);

// Members of the `peers` database.
std::string encode_peer_record(const PeerRecord& peer);
Result<PeerRecord> decode_peer_record(std::string_view bytes);

// Delta-groups, on disk (the delta log) and on the wire.
std::string encode_delta_group(const DeltaGroup& group);
Result<DeltaGroup> decode_delta_group(std::string_view bytes);

// ---- Retiring replicas. ----

// The digest two stores compare to tell that their retirement tables are equal: xxh3-64 of the
// entries in ascending replica order, each as replica and through in 8 little-endian bytes.
std::uint64_t retirement_digest(const std::vector<RetiredReplica>& table);

// The retirement table: ascending by replica, each replica once, replica never 0 (else kCorrupt).
std::string encode_retirements(const std::vector<RetiredReplica>& table);
Result<std::vector<RetiredReplica>> decode_retirements(std::string_view bytes);

// The writes a retired replica set aside (kCorrupt for a zero old replica id or a zero dot).
std::string encode_retired_writes(const RetiredWrites& writes);
Result<RetiredWrites> decode_retired_writes(std::string_view bytes);

// The change log (src/store/change_log.h): one entry, and the log's header. The change's `position`
// is not stored (the entry's sequence is its position). kCorrupt for an unknown op, a set change
// without a member, a key over kMaxKeyBytes or a member over kMaxMemberBytes.
struct StoredChange {
  Change change;
  std::uint64_t time_ms = 0;
};
std::string encode_change_record(const Change& change, std::uint64_t time_ms);
Result<StoredChange> decode_change_record(std::string_view bytes);
struct ChangeLogHeader {
  std::uint64_t log_id = 0;  // Never 0.
  std::uint64_t replica = 0;
};
std::string encode_change_log_header(const ChangeLogHeader& header);
Result<ChangeLogHeader> decode_change_log_header(std::string_view bytes);

// LMDB key of a record: escape(key) 0x00 0x01 type [member]. Inside the escaped key every 0x00 byte
// becomes 0x00 0xFF, so record keys sort by user key first (a key sorts before its extensions) and
// all records of one key are contiguous, sets' members in byte order.
std::string encode_record_key(const RecordKey& key);
Result<RecordKey> decode_record_key(std::string_view bytes);

// The LMDB key prefix shared by every record whose user key starts with `prefix`.
std::string encode_key_prefix(std::string_view prefix);

// The LMDB key prefix shared by every record of exactly `key` (all its types and members).
std::string encode_exact_key_prefix(std::string_view key);

}  // namespace cairn::codec
