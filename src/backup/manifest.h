// A backup's manifest and checksum (docs/operations.md, "Backup"): what a backup holds and how to
// tell it arrived whole.
//
// A backup is a directory: `data.mdb` (a compacted LMDB copy of a store, openable as one) and
// `manifest.json` beside it. The manifest names the replica the copy was taken from, the copy's
// version vector (its causal context: every write it holds), the store format, when it was taken, its
// size and a BLAKE2b-256 checksum of data.mdb (libsodium), which restore verifies before it uses a byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"
#include "src/store/replica_types.h"

namespace cairn::backup {

inline constexpr char kDataFile[] = "data.mdb";
inline constexpr char kManifestFile[] = "manifest.json";
// The manifest's own layout; a newer one is refused, never misread.
inline constexpr int kManifestVersion = 1;
inline constexpr char kChecksumAlgorithm[] = "blake2b-256";

struct Manifest {
  int manifest_version = kManifestVersion;
  std::uint64_t replica = 0;           // The replica id the copied store had.
  std::uint32_t store_format = 0;      // The store's format version (src/codec/codec.h).
  std::vector<VersionVectorEntry> version_vector;  // The copy's causal context, ascending by replica.
  std::int64_t created_unix_ms = 0;
  std::string created_utc;             // The same instant, ISO 8601 (for people).
  std::string source;                  // "peer HOST:PORT" or "directory DIR".
  std::uint64_t bytes = 0;             // Size of data.mdb.
  std::string checksum;                // Lower-case hex BLAKE2b-256 of data.mdb.
};

// The manifest as pretty JSON (replica ids as 16 hex digits, as `cairn peers` prints them).
std::string manifest_to_json(const Manifest& manifest);
// kCorrupt for text that is not a manifest (missing or mistyped field), kUnsupported for a newer
// manifest version or another checksum algorithm.
Result<Manifest> parse_manifest(std::string_view json);

// An incremental BLAKE2b-256 (libsodium's crypto_generichash).
class Checksum {
 public:
  Checksum();
  void update(std::string_view bytes);
  // Lower-case hex of the digest; the object must not be updated after.
  std::string hex();

 private:
  alignas(64) unsigned char state_[384];
};

// The checksum of a whole file. kIo when it cannot be read.
Result<std::string> checksum_file(const std::string& path);

}  // namespace cairn::backup
