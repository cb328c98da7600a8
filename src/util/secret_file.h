// Small secret files (the cluster key, the client token): text, one secret per line, mode 0600.
//
// Used by the node (which creates them on first start) and by the CLI (which reads the token), so the
// format has one definition: lines of text; blank lines and lines starting with '#' are ignored;
// surrounding white space is not part of a secret.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn::secrets {

// The secrets in `path`, in order. kNotFound when it does not exist, kIo when it cannot be read,
// kInvalidArgument when it holds none.
inline Result<std::vector<std::string>> read_secret_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (errno == ENOENT) return fail(ErrorCode::kNotFound, "no file '" + path + "'");
    return fail(ErrorCode::kIo, "cannot read '" + path + "': " + std::strerror(errno));
  }
  std::vector<std::string> secrets;
  std::string line;
  while (std::getline(file, line)) {
    const auto begin = line.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const auto end = line.find_last_not_of(" \t\r\n");
    secrets.push_back(line.substr(begin, end - begin + 1));
  }
  if (file.bad()) return fail(ErrorCode::kIo, "error reading '" + path + "'");
  if (secrets.empty()) return fail(ErrorCode::kInvalidArgument, "'" + path + "' holds no secret");
  return secrets;
}

// True when `path` may be read or written by others than its owner (mode bits 077).
inline bool readable_by_others(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0;
}

// Writes `secret` and a newline to a new file `path`, mode 0600, and syncs it. Fails with kUnavailable
// when the file already exists (it is never overwritten), kIo otherwise.
inline Status create_secret_file(const std::string& path, const std::string& secret) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(errno == EEXIST ? ErrorCode::kUnavailable : ErrorCode::kIo,
                "cannot create '" + path + "': " + std::strerror(errno));
  }
  const std::string text = secret + "\n";
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return fail(ErrorCode::kIo, "cannot write '" + path + "': " + reason);
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(path.c_str());
    return fail(ErrorCode::kIo, "cannot sync '" + path + "'");
  }
  return ok();
}

// The secrets in `path`; when it does not exist, first creates it holding `make()` and sets `created`.
inline Result<std::vector<std::string>> load_or_create_secret_file(const std::string& path,
                                                                    const std::function<std::string()>& make,
                                                                    bool& created) {
  created = false;
  auto existing = read_secret_file(path);
  if (existing || existing.error().code() != ErrorCode::kNotFound) return existing;
  if (auto made = create_secret_file(path, make()); !made) {
    if (made.error().code() != ErrorCode::kUnavailable) return tl::unexpected(made.error());
  } else {
    created = true;
  }
  return read_secret_file(path);  // Ours, or one another process created first.
}

}  // namespace cairn::secrets
