// SIGPIPE and the threads cairn owns.
//
// A write(2) to a socket (or pipe) whose other end is gone raises SIGPIPE in the writing thread, and
// SIGPIPE's default action ends the whole process: a client that hangs up mid-reply would kill the
// peer, or the application embedding it. cairn never changes a process-wide signal disposition behind
// the application's back (that is the application's to decide), so it protects its own writes per
// thread instead:
//
//  - Every thread cairn creates (the event loop, the client listener's worker pool, the Node's
//    protocol worker, the store's writer) calls block_sigpipe_in_this_thread() first. SIGPIPE then
//    stays blocked in that thread for its whole life: a write to a vanished peer fails with EPIPE,
//    which the caller handles as a closed connection. The SIGPIPE such a write raises is directed at
//    that thread alone; it stays pending there, harmless, and goes away with the thread. Threads those
//    threads start inherit the mask.
//  - Where cairn writes on the application's own thread (cairn::Client), a SigpipeGuard blocks SIGPIPE
//    only around the write, consumes the one SIGPIPE that write raised, and restores the thread's mask
//    (the approach of PostgreSQL's libpq). libuv writes with write(2), which takes no MSG_NOSIGNAL, and
//    Linux has no SO_NOSIGPIPE, so the mask is the only per-call lever.
//
// An application that wants SIGPIPE ignored everywhere may still set SIG_IGN itself (cairnd does).
#pragma once

#include <signal.h>

namespace cairn {

// Blocks SIGPIPE in the calling thread, for good. Call it first in every thread cairn creates; never
// on an application's thread. Threads started from the caller afterwards inherit the mask.
void block_sigpipe_in_this_thread();

// Blocks SIGPIPE in the calling thread for the guard's life. On destruction, when a write under the
// guard failed with EPIPE (note_epipe()) and no SIGPIPE was pending before the guard, consumes the
// SIGPIPE that write raised; then restores the thread's previous mask. A SIGPIPE that was pending
// before the guard (the application's own) is left pending. Not copyable; use on one thread.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

  // Tells the guard a write under it failed with EPIPE, so it raised a SIGPIPE to consume.
  void note_epipe() { epipe_ = true; }

 private:
  sigset_t previous_mask_{};
  bool was_pending_ = false;
  bool epipe_ = false;
};

}  // namespace cairn
