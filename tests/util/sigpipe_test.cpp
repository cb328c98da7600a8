// src/util/sigpipe.h: a library thread that blocked SIGPIPE survives a write to a vanished reader,
// and a SigpipeGuard protects one write on an application's thread without changing its signal
// disposition, its mask, or a SIGPIPE of its own that was pending already.
#include "src/util/sigpipe.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <thread>

namespace {

// A connected socket pair whose far end is closed: writing to the near end raises SIGPIPE.
struct BrokenSocket {
  BrokenSocket() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    near_end = fds[0];
    ::close(fds[1]);
  }
  ~BrokenSocket() { ::close(near_end); }
  // write(2), not send(MSG_NOSIGNAL): the way libuv writes.
  int write_errno() const {
    const char byte = 'x';
    return ::write(near_end, &byte, 1) < 0 ? errno : 0;
  }
  int near_end = -1;
};

bool sigpipe_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGPIPE) == 1;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

bool sigpipe_disposition_is_default() {
  struct sigaction current {};
  sigaction(SIGPIPE, nullptr, &current);
  return current.sa_handler == SIG_DFL;
}

}  // namespace

TEST_CASE("a thread that blocked SIGPIPE gets EPIPE from a write to a closed socket, and lives", "[unit][sigpipe]") {
  REQUIRE(sigpipe_disposition_is_default());  // Otherwise this test would prove nothing.
  BrokenSocket socket;
  int error = 0;
  std::thread library_thread([&] {
    cairn::block_sigpipe_in_this_thread();
    error = socket.write_errno();
  });
  library_thread.join();
  CHECK(error == EPIPE);
  // The application's thread and the process are as they were.
  CHECK_FALSE(sigpipe_blocked());
  CHECK(sigpipe_disposition_is_default());
}

TEST_CASE("a SigpipeGuard protects one write and restores the thread's mask", "[unit][sigpipe]") {
  REQUIRE(sigpipe_disposition_is_default());
  REQUIRE_FALSE(sigpipe_blocked());
  BrokenSocket socket;
  {
    cairn::SigpipeGuard guard;
    CHECK(sigpipe_blocked());
    REQUIRE(socket.write_errno() == EPIPE);
    CHECK(sigpipe_pending());  // Raised, and held back by the mask.
    guard.note_epipe();
  }
  CHECK_FALSE(sigpipe_pending());  // Consumed: unblocking the mask did not end the process.
  CHECK_FALSE(sigpipe_blocked());
  CHECK(sigpipe_disposition_is_default());
}

TEST_CASE("a SigpipeGuard leaves a SIGPIPE the application had pending, and a mask that blocked it", "[unit][sigpipe]") {
  sigset_t only_sigpipe;
  sigemptyset(&only_sigpipe);
  sigaddset(&only_sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &only_sigpipe, nullptr);  // The application blocks SIGPIPE itself...
  REQUIRE(pthread_kill(pthread_self(), SIGPIPE) == 0);  // ...and has one pending.
  REQUIRE(sigpipe_pending());
  BrokenSocket socket;
  {
    cairn::SigpipeGuard guard;
    REQUIRE(socket.write_errno() == EPIPE);
    guard.note_epipe();
  }
  CHECK(sigpipe_blocked());
  CHECK(sigpipe_pending());  // Still the application's to take.
  const timespec no_wait{0, 0};
  CHECK(sigtimedwait(&only_sigpipe, nullptr, &no_wait) == SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &only_sigpipe, nullptr);
}
