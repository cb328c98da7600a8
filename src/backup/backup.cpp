#include "src/backup/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/codec/codec.h"
#include "src/store/backup_stream.h"
#include "src/store/databases.h"
#include "src/store/lmdb.h"
#include "src/store/replica.h"

namespace cairn::backup {
namespace fs = std::filesystem;
namespace {

Error os_error(const std::string& what, int error_number) {
  return Error(ErrorCode::kIo, what + ": " + std::strerror(error_number));
}

// A directory to write into: absent (created) or empty.
Status prepare_empty_directory(const std::string& dir, const char* what) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return fail(ErrorCode::kInvalidArgument, std::string(what) + " '" + dir + "' is not a directory");
    if (!fs::is_empty(dir, ec)) {
      return fail(ErrorCode::kInvalidArgument,
                  std::string(what) + " '" + dir + "' is not empty: refusing to write into it (name a new directory)");
    }
    return ok();
  }
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
  return ok();
}

Status write_file_synced(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return tl::unexpected(os_error("cannot create " + path, errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) {
      const int error = errno;
      ::close(fd);
      return tl::unexpected(os_error("cannot write " + path, error));
    }
    done += static_cast<std::size_t>(wrote);
  }
  const bool synced = ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!synced) return tl::unexpected(os_error("cannot sync " + path, error));
  return ok();
}

Status sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(os_error("cannot open " + dir, errno));
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return fail(ErrorCode::kIo, "cannot sync " + dir);
  return ok();
}

std::string utc_text(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// The replica id, format and causal context of the store copied into `dir`, read as stored (a
// read-only open changes nothing, and a read-only store has no context_vector()).
Status read_store_facts(const std::string& dir, Manifest& manifest) {
  store::ReplicaOptions options;
  options.store.read_only = true;
  options.store.create_if_missing = false;
  auto replica = store::open_replica(dir, options);
  if (!replica) return fail(replica.error().code(), "the backup copy does not open as a store: " + replica.error().message());
  auto read = store::read_raw_result(**replica, [&](const store::Txn& txn, const store::Databases& databases) -> Status {
    auto meta_bytes = txn.read(databases.meta, store::kMetaIdentityKey);
    if (!meta_bytes) return tl::unexpected(meta_bytes.error());
    if (!*meta_bytes) return fail(ErrorCode::kCorrupt, "the backup copy has no identity record");
    auto meta = codec::decode_meta(**meta_bytes);
    if (!meta) return tl::unexpected(meta.error());
    manifest.replica = meta->replica.value;
    manifest.store_format = meta->format_version;
    auto context_bytes = txn.read(databases.meta, store::kMetaContextKey);
    if (!context_bytes) return tl::unexpected(context_bytes.error());
    if (!*context_bytes) return ok();
    auto context = codec::decode_context(**context_bytes);
    if (!context) return tl::unexpected(context.error());
    std::map<std::uint64_t, VersionVectorEntry> entries;
    for (const auto& [id, counter] : context->vector().entries()) entries[id.value] = VersionVectorEntry{id.value, counter, 0};
    for (const crdt::Dot& dot : context->cloud()) {
      VersionVectorEntry& entry = entries[dot.replica.value];
      entry.replica = dot.replica.value;
      entry.beyond_gap = std::max(entry.beyond_gap, dot.counter);
    }
    for (auto& [id, entry] : entries) manifest.version_vector.push_back(entry);
    return ok();
  });
  return read;
}

}  // namespace

// ---- BackupWriter ----

Result<std::unique_ptr<BackupWriter>> BackupWriter::create(const std::string& out_dir) {
  if (auto prepared = prepare_empty_directory(out_dir, "backup directory"); !prepared) return tl::unexpected(prepared.error());
  const std::string partial = out_dir + "/" + kDataFile + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return tl::unexpected(os_error("cannot create " + partial, errno));
  return std::unique_ptr<BackupWriter>(new BackupWriter(out_dir, fd));
}

BackupWriter::~BackupWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status BackupWriter::append(std::string_view chunk) {
  checksum_.update(chunk);
  while (!chunk.empty()) {
    const ssize_t wrote = ::write(fd_, chunk.data(), chunk.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) return tl::unexpected(os_error("cannot write the backup in " + out_dir_, errno));
    chunk.remove_prefix(static_cast<std::size_t>(wrote));
    bytes_ += static_cast<std::uint64_t>(wrote);
  }
  return ok();
}

Result<Manifest> BackupWriter::finish(const std::string& source) {
  if (bytes_ == 0) return fail(ErrorCode::kIo, "the backup stream ended before any byte arrived");
  if (::fsync(fd_) != 0) return tl::unexpected(os_error("cannot sync the backup in " + out_dir_, errno));
  ::close(fd_);
  fd_ = -1;
  const std::string data = out_dir_ + "/" + kDataFile;
  std::error_code ec;
  fs::rename(data + ".partial", data, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot rename the backup file in " + out_dir_ + ": " + ec.message());
  Manifest manifest;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  manifest.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  manifest.created_utc = utc_text(manifest.created_unix_ms);
  manifest.source = source;
  manifest.bytes = bytes_;
  manifest.checksum = checksum_.hex();
  if (auto facts = read_store_facts(out_dir_, manifest); !facts) return tl::unexpected(facts.error());
  fs::remove(out_dir_ + "/lock.mdb", ec);  // Made by the read-only open; not part of the backup.
  if (auto written = write_file_synced(out_dir_ + "/" + kManifestFile, manifest_to_json(manifest)); !written) {
    return tl::unexpected(written.error());
  }
  if (auto synced = sync_directory(out_dir_); !synced) return tl::unexpected(synced.error());
  return manifest;
}

// ---- Offline backup, verify, restore ----

Result<Manifest> backup_directory(const std::string& data_dir, const std::string& out_dir, const Progress& progress) {
  store::ReplicaOptions options;
  options.store.read_only = true;
  options.store.create_if_missing = false;
  auto replica = store::open_replica(data_dir, options);
  if (!replica) return fail(replica.error().code(), "cannot open '" + data_dir + "': " + replica.error().message());
  std::error_code ec;
  const std::uint64_t total = fs::file_size(data_dir + "/" + kDataFile, ec);  // An upper bound: the copy is compacted.
  auto writer = BackupWriter::create(out_dir);
  if (!writer) return tl::unexpected(writer.error());
  auto stream = store::open_backup_stream(**replica);
  if (!stream) return tl::unexpected(stream.error());
  for (;;) {
    auto chunk = (*stream)->next();
    if (!chunk) return tl::unexpected(chunk.error());
    if (!*chunk) break;
    if (auto appended = (*writer)->append(**chunk); !appended) return tl::unexpected(appended.error());
    if (progress) progress((*writer)->bytes(), ec ? 0 : total);
  }
  return (*writer)->finish("directory " + data_dir);
}

Result<Manifest> verify_backup(const std::string& backup_dir) {
  const std::string manifest_path = backup_dir + "/" + kManifestFile;
  const std::string data_path = backup_dir + "/" + kDataFile;
  std::error_code ec;
  if (!fs::exists(manifest_path, ec)) return fail(ErrorCode::kNotFound, "no backup in '" + backup_dir + "': " + kManifestFile + " is missing");
  if (!fs::exists(data_path, ec)) return fail(ErrorCode::kNotFound, "no backup in '" + backup_dir + "': " + kDataFile + " is missing");
  std::ifstream in(manifest_path);
  std::stringstream text;
  text << in.rdbuf();
  auto manifest = parse_manifest(text.str());
  if (!manifest) return fail(manifest.error().code(), manifest_path + ": " + manifest.error().message());
  const std::uint64_t size = fs::file_size(data_path, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot read " + data_path + ": " + ec.message());
  if (size != manifest->bytes) {
    return fail(ErrorCode::kCorrupt, "backup '" + backup_dir + "' is corrupt: " + kDataFile + " has " + std::to_string(size) +
                                         " bytes, the manifest says " + std::to_string(manifest->bytes));
  }
  auto checksum = checksum_file(data_path);
  if (!checksum) return tl::unexpected(checksum.error());
  if (*checksum != manifest->checksum) {
    return fail(ErrorCode::kCorrupt, "backup '" + backup_dir + "' is corrupt: the " + kChecksumAlgorithm + " checksum of " +
                                         kDataFile + " is " + *checksum + ", the manifest says " + manifest->checksum);
  }
  return manifest;
}

Result<Restored> restore_backup(const std::string& backup_dir, const std::string& new_dir) {
  auto manifest = verify_backup(backup_dir);
  if (!manifest) return tl::unexpected(manifest.error());
  if (auto prepared = prepare_empty_directory(new_dir, "restore directory"); !prepared) return tl::unexpected(prepared.error());
  const std::string target = new_dir + "/" + kDataFile;
  std::error_code ec;
  fs::copy_file(backup_dir + "/" + kDataFile, target, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot copy the backup into " + new_dir + ": " + ec.message());
  {
    // Synced before the store opens it: a restore that crashed leaves no half-written data file behind
    // an open that succeeded.
    const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0) {
      if (fd >= 0) ::close(fd);
      return fail(ErrorCode::kIo, "cannot sync " + target);
    }
    ::close(fd);
  }
  // A writable open of the new file takes a new replica id by itself (the fingerprint names another
  // inode, docs/store.md); adopt_new_identity covers the rare case where it kept the id anyway.
  auto replica = store::open_replica(new_dir, store::ReplicaOptions{});
  if (!replica) return fail(replica.error().code(), "cannot open the restored store in " + new_dir + ": " + replica.error().message());
  if ((*replica)->replica_id() == manifest->replica) {
    if (auto adopted = (*replica)->adopt_new_identity(); !adopted) return tl::unexpected(adopted.error());
  }
  Restored restored{std::move(*manifest), (*replica)->replica_id()};
  return restored;
}

}  // namespace cairn::backup
