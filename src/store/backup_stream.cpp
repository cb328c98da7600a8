#include "src/store/backup_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

#include "src/util/sigpipe.h"

namespace cairn::store {
namespace {

Error io_error(std::string_view what, int error_number) {
  return Error(ErrorCode::kIo, std::string(what) + ": " + std::strerror(error_number));
}

class BackupStream final : public Cursor {
 public:
  BackupStream(Replica& replica, int read_fd, int write_fd, std::size_t chunk_bytes)
      : read_fd_(read_fd), chunk_bytes_(chunk_bytes) {
    copier_ = std::thread([this, &replica, write_fd] {
      // A reader that went away makes the copy's write fail with EPIPE instead of ending the process.
      block_sigpipe_in_this_thread();
      Status copied = replica.copy_compacted(write_fd);
      ::close(write_fd);  // The reader then sees the end of the stream.
      std::lock_guard lock(mutex_);
      copied_ = std::move(copied);
    });
  }

  ~BackupStream() override {
    if (read_fd_ >= 0) ::close(read_fd_);  // Ends a copy still writing (EPIPE).
    if (copier_.joinable()) copier_.join();
  }

  BackupStream(const BackupStream&) = delete;
  BackupStream& operator=(const BackupStream&) = delete;

  Result<std::optional<std::string>> next() override {
    if (read_fd_ < 0) return std::optional<std::string>{};
    std::string chunk(chunk_bytes_, '\0');
    std::size_t filled = 0;
    while (filled < chunk.size()) {
      const ssize_t got = ::read(read_fd_, chunk.data() + filled, chunk.size() - filled);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return tl::unexpected(io_error("read the backup stream", errno));
      if (got == 0) break;
      filled += static_cast<std::size_t>(got);
    }
    chunk.resize(filled);
    if (filled > 0) return std::optional<std::string>(std::move(chunk));
    // The end: the copy is finished, and says whether it is whole.
    ::close(read_fd_);
    read_fd_ = -1;
    copier_.join();
    std::lock_guard lock(mutex_);
    if (!copied_ || !*copied_) {
      return tl::unexpected(copied_ ? copied_->error() : Error(ErrorCode::kIo, "the backup copy ended without a result"));
    }
    return std::optional<std::string>{};
  }

 private:
  int read_fd_;
  std::size_t chunk_bytes_;
  std::thread copier_;
  std::mutex mutex_;
  std::optional<Status> copied_;  // Guarded by mutex_; set when the copy ends.
};

}  // namespace

Result<std::unique_ptr<Cursor>> open_backup_stream(Replica& replica, std::size_t chunk_bytes) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return tl::unexpected(io_error("create a pipe for the backup", errno));
  try {
    return std::unique_ptr<Cursor>(std::make_unique<BackupStream>(replica, fds[0], fds[1], chunk_bytes));
  } catch (const std::system_error& error) {
    ::close(fds[0]);
    ::close(fds[1]);
    return fail(ErrorCode::kIo, std::string("start the backup thread: ") + error.what());
  }
}

}  // namespace cairn::store
