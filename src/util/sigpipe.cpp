#include "src/util/sigpipe.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace cairn {
namespace {

sigset_t only_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

void block_sigpipe_in_this_thread() {
  const sigset_t set = only_sigpipe();
  // Cannot fail for a valid set and how.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SigpipeGuard::SigpipeGuard() {
  const sigset_t set = only_sigpipe();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
  was_pending_ = sigpipe_pending();
}

SigpipeGuard::~SigpipeGuard() {
  if (epipe_ && !was_pending_) {
    const sigset_t set = only_sigpipe();
    const timespec no_wait{0, 0};
    // Takes the SIGPIPE our write raised (thread-directed, so it is pending on this thread now).
    while (sigtimedwait(&set, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

}  // namespace cairn
