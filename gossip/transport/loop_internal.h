// Internal to the libuv adapters: the libuv state behind EventLoop, shared with UvTransport, the client
// listener (src/server) and the HTTP listener (src/http). Only their .cpp files include it; it is the
// one header of the transport that names libuv types.
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
#include "gossip/transport/event_loop.h"

namespace cairn::transport {

// Something bound to a loop that owns libuv handles: the loop closes it when it shuts down.
class LoopMember {
 public:
  // On the loop thread (or with no loop thread), during shutdown: begin closing every handle.
  virtual void close_for_shutdown() = 0;

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

  void run_posted();
  void shut_down();  // Closes everything on the loop; uv_run then returns once the closes are done.
};

// Writes `bytes` on `stream`, keeping them alive until libuv is done with them, and then calls
// `done(context, bytes_size, status)` on the loop thread (status < 0: failed or cancelled; libuv
// completes or cancels every write before the stream's close callback). Returns libuv's error, and
// never calls `done`, when the write could not even start. The one write path of every libuv adapter.
using WriteDone = void (*)(void* context, std::size_t bytes, int status);
int write_owned(uv_stream_t* stream, std::string bytes, void* context, WriteDone done);

// "<what>: <libuv's message> (<libuv's error name>)", with a code chosen from the libuv error.
Error uv_error(const std::string& what, int uv_code);

}  // namespace cairn::transport
