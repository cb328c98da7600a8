#include "src/store/fingerprint.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace cairn::store {
namespace {

// The machine id's text without surrounding whitespace, or empty.
std::string machine_id() {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    std::ifstream file(path);
    if (!file) continue;
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) continue;
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
  }
  return {};
}

}  // namespace

Result<codec::StoreFingerprint> fingerprint_of(const std::string& directory) {
  const std::string data_file = directory + "/data.mdb";
  struct stat file_status {};
  if (::stat(data_file.c_str(), &file_status) != 0) {
    return fail(ErrorCode::kIo, "cannot stat " + data_file + ": " + std::strerror(errno));
  }
  struct statfs filesystem {};
  if (::statfs(data_file.c_str(), &filesystem) != 0) {
    return fail(ErrorCode::kIo, "cannot statfs " + data_file + ": " + std::strerror(errno));
  }
  codec::StoreFingerprint fingerprint;
  fingerprint.inode = static_cast<std::uint64_t>(file_status.st_ino);
  std::uint32_t fsid[2];
  static_assert(sizeof(fsid) == sizeof(filesystem.f_fsid));
  std::memcpy(fsid, &filesystem.f_fsid, sizeof(fsid));
  fingerprint.filesystem = (static_cast<std::uint64_t>(fsid[0]) << 32) | fsid[1];
  const std::string machine = machine_id();
  fingerprint.machine = machine.empty() ? 0 : XXH3_64bits(machine.data(), machine.size());
  return fingerprint;
}

std::string fingerprint_difference(const codec::StoreFingerprint& recorded, const codec::StoreFingerprint& here) {
  std::string what;
  const auto add = [&](bool differs, const char* name) {
    if (!differs) return;
    if (!what.empty()) what += ", ";
    what += name;
  };
  add(recorded.inode != here.inode, "the data file's inode");
  add(recorded.filesystem != here.filesystem, "the filesystem");
  add(recorded.machine != here.machine, "the machine id");
  return what;
}

}  // namespace cairn::store
