// One libuv event loop, run on a thread of its own: the thread a Node's sockets (gossip, client, HTTP,
// RESP) are served on. Below every listener: see src/net/README.md.
//
// Threads. post(), stop() and on_loop_thread() may be called from any thread. Every other method, and
// every method of a StreamServer or DatagramSocket bound to this loop, is "loop-affine": call it on the loop thread (from a
// posted closure, a timer, or a transport's receiver), or from the thread that owns the EventLoop while
// no thread runs the loop (before start(), or after stop() has returned).
//
// Shutdown. stop() runs the closures already posted, closes every server and socket bound to the loop
// (as their close() would) and every timer, waits for libuv to finish closing them, and ends the loop
// thread. The destructor does the same when stop() was not called. Everything bound to the loop must
// be destroyed before the loop is.
//
// Loop passes. Output written by a StreamServer during one pass of the loop (one uv_run iteration) is
// gathered and handed to the kernel once, at the end of the pass (src/net/stream_server.h).
//
// No libuv type appears here: the uv_loop_t lives in the pimpl, so code above src/net does not depend
// on libuv's headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cairn/status.h"

namespace cairn::net {

class EventLoop {
 public:
  using Closure = std::function<void()>;
  // Names a repeating timer; 0 is never a valid id.
  using TimerId = std::uint64_t;

  // Creates the loop (uv_loop_init) and the handle post() wakes it with. Fails with kIo when libuv
  // cannot (for instance when the process is out of file descriptors).
  static Result<std::unique_ptr<EventLoop>> create();

  // Stops the loop as stop() does and joins its thread. Must not run on the loop thread.
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the loop thread. Call at most once, and not after stop(); otherwise kInvalidArgument.
  // kUnavailable if the thread cannot be created.
  Status start();

  // Thread-safe. Queues `closure` to run on the loop thread; closures run in the order they were
  // posted. Returns false, dropping the closure, once stop() has been called. A closure posted
  // before start() runs when the loop starts (or at shutdown if it never does).
  bool post(Closure closure);

  // Thread-safe. Asks the loop to shut down (see the top of this file). Called off the loop thread it
  // returns once the loop thread has ended; on the loop thread it returns at once and the loop winds
  // down after the current callback (the destructor then joins the thread). Calling it again is a
  // no-op.
  void stop();

  // Thread-safe: true when called on the thread that runs the loop.
  bool on_loop_thread() const;

  // Thread-safe. Runs loop-affine `work` where it may run: here when this is the loop thread or no
  // thread runs the loop yet, else posted to the loop and waited for (so never call it from a thread
  // the loop waits on). kUnavailable, without running `work`, once stop() was called on a started
  // loop.
  Status run_affine(const std::function<Status()>& work);

  // Loop-affine. Calls `callback` every `interval_ms` (at least 1), the first time `interval_ms` from
  // now, until cancel() or shutdown. A callback may cancel its own timer. Returns 0 (and starts
  // nothing) once the loop is shutting down.
  TimerId every(std::uint64_t interval_ms, Closure callback);

  // Loop-affine. Stops a timer; an unknown or already cancelled id is ignored.
  void cancel(TimerId timer);

  // Loop-affine. libuv's cached monotonic clock in milliseconds (uv_now): the time at the start of the
  // current loop iteration, from an arbitrary origin. This is the clock to feed the gossip machines.
  std::uint64_t now_ms() const;

  // Internal: the libuv state, defined in src/net/loop_internal.h; only src/net reaches it (through
  // LoopAccess, declared there).
  struct Impl;

 private:
  explicit EventLoop(std::unique_ptr<Impl> impl);
  friend struct LoopAccess;

  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::net
