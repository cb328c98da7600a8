// Taking, verifying and restoring backups (docs/operations.md). The `cairn backup` and `cairn restore`
// commands are thin wrappers around these.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cairn/status.h"
#include "src/backup/manifest.h"

namespace cairn::backup {

// Called with the bytes written so far (and the expected total when known, else 0).
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Writes one backup directory from a stream of chunks: data.mdb (written as data.mdb.partial, synced,
// then renamed), then manifest.json from the copy itself (its replica id, format and causal context,
// read with a read-only open) and the checksum of the bytes as they arrived.
class BackupWriter {
 public:
  // Creates `out_dir` (it must not exist, or be an empty directory). kInvalidArgument when it holds
  // anything; kIo when it cannot be created.
  static Result<std::unique_ptr<BackupWriter>> create(const std::string& out_dir);
  ~BackupWriter();
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  Status append(std::string_view chunk);
  std::uint64_t bytes() const { return bytes_; }
  // Syncs and names the data file, writes the manifest (`source` says where it came from).
  Result<Manifest> finish(const std::string& source);

 private:
  BackupWriter(std::string out_dir, int fd) : out_dir_(std::move(out_dir)), fd_(fd) {}
  std::string out_dir_;
  int fd_;
  std::uint64_t bytes_ = 0;
  Checksum checksum_;
};

// The offline backup: a compacted copy of the store in `data_dir` (a stopped peer's, or a running
// one's: LMDB copies a consistent snapshot beside a live writer, through a read-only open) into
// `out_dir`. Errors: the store's open errors (kNotFound when there is none), BackupWriter's.
Result<Manifest> backup_directory(const std::string& data_dir, const std::string& out_dir, const Progress& progress);

// Reads `backup_dir`'s manifest and checks data.mdb against its size and checksum. kCorrupt (the
// message names the file and both checksums) when they differ; kNotFound when a file is missing.
Result<Manifest> verify_backup(const std::string& backup_dir);

struct Restored {
  Manifest manifest;
  std::uint64_t new_replica = 0;  // The id the restored store took (never the backup's).
};

// Verifies `backup_dir` and restores it into `new_dir` (which must not exist, or be empty: anything
// else is kInvalidArgument and nothing is written), then opens it once for writing so it takes a new
// replica id, keeping every record: two restores of one backup are two replicas. The original's id
// stays in the records' version vectors (a predecessor) until it is retired.
Result<Restored> restore_backup(const std::string& backup_dir, const std::string& new_dir);

}  // namespace cairn::backup
