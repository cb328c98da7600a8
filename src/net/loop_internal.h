// Internal to src/net: the libuv state behind EventLoop, shared with the stream server and the datagram
// socket. Only .cpp files of src/net include it; no code outside src/net names a uv_* type (the check
// is in docs/architecture.md, "Layers").
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "cairn/status.h"
#include "src/net/event_loop.h"

namespace cairn::net {

// Something bound to a loop that owns libuv handles: the loop closes it when it shuts down.
class LoopMember {
 public:
  // On the loop thread (or with no loop thread), during shutdown: begin closing every handle.
  virtual void close_for_shutdown() = 0;
  // On the loop thread, once at the end of a loop pass in which the member asked for it
  // (EventLoop::Impl::request_flush): hand the output gathered during the pass to the kernel.
  virtual void flush_output() {}

 protected:
  ~LoopMember() = default;
};

struct EventLoop::Impl {
  struct Timer {
    TimerId id = 0;
    Closure callback;
    uv_timer_t handle{};
  };

  uv_loop_t loop{};
  uv_async_t wakeup{};  // Wakes the loop for post() and stop().
  // The end of a loop pass: the check phase runs after the pass's I/O callbacks. While a member waits
  // to flush, the idle handle (which does nothing) keeps the poll phase from blocking, so output
  // written from a timer or a posted closure leaves in the same pass too.
  uv_check_t flush_check{};
  uv_idle_t flush_idle{};

  // Guards `posted`, `stop_requested` and every uv_async_send() on `wakeup`: the loop closes `wakeup`
  // only after `stop_requested` is set, and senders check it under this lock, so no send can race the
  // close.
  std::mutex mutex;
  std::deque<Closure> posted;
  bool stop_requested = false;

  std::mutex join_mutex;  // Serialises the joins of concurrent stop() calls.
  std::thread thread;
  std::atomic<std::thread::id> loop_thread_id{};
  bool started = false;

  // Loop-affine state.
  bool shutting_down = false;
  TimerId next_timer_id = 1;
  std::map<TimerId, std::unique_ptr<Timer>> timers;
  std::set<LoopMember*> members;
  std::set<LoopMember*> to_flush;  // Asked for flush_output() at the end of this pass.

  // Loop-affine: `member` gets flush_output() at the end of this loop pass. Forget a member with
  // forget_flush() before it goes.
  void request_flush(LoopMember* member);
  void forget_flush(LoopMember* member) { to_flush.erase(member); }
  void flush_members();

  void run_posted();
  void shut_down();  // Closes everything on the loop; uv_run then returns once the closes are done.
};

// The loop's libuv state, for src/net's .cpp files.
struct LoopAccess {
  static EventLoop::Impl& of(EventLoop& loop) { return *loop.impl_; }
};

// "<what>: <libuv's message> (<libuv's error name>)", with a code chosen from the libuv error.
Error uv_error(const std::string& what, int uv_code);

}  // namespace cairn::net
