#include "src/net/event_loop.h"

#include <unistd.h>

#include <cassert>
#include <future>
#include <system_error>
#include <utility>
#include <vector>

#include "src/net/loop_internal.h"
#include "src/util/sigpipe.h"

namespace cairn::net {

namespace {

uv_handle_t* as_handle(uv_timer_t* timer) { return reinterpret_cast<uv_handle_t*>(timer); }
uv_handle_t* as_handle(uv_async_t* async) { return reinterpret_cast<uv_handle_t*>(async); }
uv_handle_t* as_handle(uv_check_t* check) { return reinterpret_cast<uv_handle_t*>(check); }
uv_handle_t* as_handle(uv_idle_t* idle) { return reinterpret_cast<uv_handle_t*>(idle); }

void on_flush_check(uv_check_t* check) { static_cast<EventLoop::Impl*>(check->data)->flush_members(); }
void on_flush_idle(uv_idle_t*) {}  // Only keeps the poll phase from blocking while output waits.

void on_wakeup(uv_async_t* async) {
  auto& impl = *static_cast<EventLoop::Impl*>(async->data);
  impl.run_posted();
  bool stop_requested = false;
  {
    std::lock_guard lock(impl.mutex);
    stop_requested = impl.stop_requested;
  }
  if (stop_requested && !impl.shutting_down) impl.shut_down();
}

void on_timer(uv_timer_t* handle) {
  // The callback may cancel this timer: the Timer then lives on until its close callback, which runs
  // only after this returns.
  static_cast<EventLoop::Impl::Timer*>(handle->data)->callback();
}

// uv_loop_init of libuv before 1.51 leaks its epoll descriptor when it fails after creating it (out of
// descriptors for the signal pipe: libuv issue #4755, fixed by PR #4757). Close it here, so a failed
// create() leaves nothing open. Later versions close it themselves.
void release_failed_loop_init([[maybe_unused]] uv_loop_t& loop) {
#if UV_VERSION_HEX < 0x013300
  if (const int backend = uv_backend_fd(&loop); backend >= 0) ::close(backend);
#endif
}

void close_timer(std::unique_ptr<EventLoop::Impl::Timer> timer) {
  uv_timer_stop(&timer->handle);
  EventLoop::Impl::Timer* raw = timer.release();
  uv_close(as_handle(&raw->handle), [](uv_handle_t* handle) {
    std::unique_ptr<EventLoop::Impl::Timer> owned(static_cast<EventLoop::Impl::Timer*>(handle->data));
  });
}

}  // namespace

Error uv_error(const std::string& what, int uv_code) {
  ErrorCode code = ErrorCode::kIo;
  switch (uv_code) {
    case UV_EADDRINUSE:
    case UV_EADDRNOTAVAIL:
    case UV_EACCES:
    case UV_EMFILE:
    case UV_ENFILE:
      code = ErrorCode::kUnavailable;
      break;
    case UV_EINVAL:
    case UV_EAFNOSUPPORT:
      code = ErrorCode::kInvalidArgument;
      break;
    default:
      break;
  }
  return Error(code, what + ": " + uv_strerror(uv_code) + " (" + uv_err_name(uv_code) + ")");
}

void EventLoop::Impl::request_flush(LoopMember* member) {
  if (shutting_down) return;
  if (to_flush.empty()) uv_idle_start(&flush_idle, on_flush_idle);
  to_flush.insert(member);
}

void EventLoop::Impl::flush_members() {
  // A member's flush may close connections, never ask for another flush of this pass: take the set.
  auto members_to_flush = std::exchange(to_flush, {});
  uv_idle_stop(&flush_idle);
  for (LoopMember* member : members_to_flush) member->flush_output();
}

void EventLoop::Impl::run_posted() {
  std::deque<Closure> batch;
  {
    std::lock_guard lock(mutex);
    batch.swap(posted);
  }
  for (auto& closure : batch) closure();
}

void EventLoop::Impl::shut_down() {
  shutting_down = true;
  // stop_requested is set, so nothing can be posted any more: this drains the queue for good.
  run_posted();
  std::vector<LoopMember*> to_close(members.begin(), members.end());
  for (LoopMember* member : to_close) member->close_for_shutdown();
  to_flush.clear();
  uv_close(as_handle(&flush_check), nullptr);
  uv_close(as_handle(&flush_idle), nullptr);
  auto to_stop = std::move(timers);
  timers.clear();
  for (auto& [id, timer] : to_stop) close_timer(std::move(timer));
  uv_close(as_handle(&wakeup), nullptr);
}

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  auto impl = std::make_unique<Impl>();
  if (int rc = uv_loop_init(&impl->loop); rc < 0) {
    release_failed_loop_init(impl->loop);
    return tl::unexpected(uv_error("uv_loop_init", rc));
  }
  impl->loop.data = impl.get();
  if (int rc = uv_async_init(&impl->loop, &impl->wakeup, on_wakeup); rc < 0) {
    uv_loop_close(&impl->loop);
    return tl::unexpected(uv_error("uv_async_init", rc));
  }
  impl->wakeup.data = impl.get();
  // Neither can fail for an initialised loop. Unreferenced: they must not keep uv_run alive.
  uv_check_init(&impl->loop, &impl->flush_check);
  uv_idle_init(&impl->loop, &impl->flush_idle);
  impl->flush_check.data = impl.get();
  impl->flush_idle.data = impl.get();
  uv_check_start(&impl->flush_check, on_flush_check);
  uv_unref(as_handle(&impl->flush_check));
  uv_unref(as_handle(&impl->flush_idle));
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(impl)));
}

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventLoop::~EventLoop() {
  assert(!on_loop_thread() && "an EventLoop cannot be destroyed on its own thread");
  stop();
  if (!impl_->started) {
    // Nobody ran the loop: run it here, only to shut down what was set up and posted before.
    impl_->loop_thread_id = std::this_thread::get_id();
    uv_run(&impl_->loop, UV_RUN_DEFAULT);
    impl_->loop_thread_id = std::thread::id();
  }
  [[maybe_unused]] const int rc = uv_loop_close(&impl_->loop);
  assert(rc == 0 && "a libuv handle outlived the loop's shutdown");
}

Status EventLoop::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started || impl_->stop_requested) {
    return fail(ErrorCode::kInvalidArgument, "EventLoop::start: the loop was already started or stopped");
  }
  Impl* impl = impl_.get();
  try {
    impl->thread = std::thread([impl] {
      block_sigpipe_in_this_thread();  // Every socket write of the loop happens here (src/util/sigpipe.h).
      impl->loop_thread_id = std::this_thread::get_id();
      uv_run(&impl->loop, UV_RUN_DEFAULT);
      impl->loop_thread_id = std::thread::id();
    });
  } catch (const std::system_error& error) {
    return fail(ErrorCode::kUnavailable,
                std::string("EventLoop::start: cannot start the loop thread: ") + error.what());
  }
  impl->started = true;
  return ok();
}

bool EventLoop::post(Closure closure) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stop_requested) return false;
  impl_->posted.push_back(std::move(closure));
  uv_async_send(&impl_->wakeup);
  return true;
}

void EventLoop::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stop_requested) {
      impl_->stop_requested = true;
      uv_async_send(&impl_->wakeup);
    }
  }
  if (on_loop_thread()) return;
  std::lock_guard join_lock(impl_->join_mutex);
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status EventLoop::run_affine(const std::function<Status()>& work) {
  bool elsewhere = false;
  {
    // Once started, only the loop thread touches the loop until it has stopped for good.
    std::lock_guard lock(impl_->mutex);
    elsewhere = impl_->started && !on_loop_thread();
  }
  if (!elsewhere) return work();
  std::promise<Status> done;
  if (!post([&] { done.set_value(work()); })) {
    return fail(ErrorCode::kUnavailable, "the event loop is shutting down");
  }
  return done.get_future().get();
}

bool EventLoop::on_loop_thread() const { return impl_->loop_thread_id.load() == std::this_thread::get_id(); }

EventLoop::TimerId EventLoop::every(std::uint64_t interval_ms, Closure callback) {
  Impl& impl = *impl_;
  if (impl.shutting_down) return 0;
  if (interval_ms == 0) interval_ms = 1;
  auto timer = std::make_unique<Impl::Timer>();
  timer->id = impl.next_timer_id++;
  timer->callback = std::move(callback);
  // uv_timer_init and uv_timer_start cannot fail for a valid loop and a callback.
  uv_timer_init(&impl.loop, &timer->handle);
  timer->handle.data = timer.get();
  uv_timer_start(&timer->handle, on_timer, interval_ms, interval_ms);
  const TimerId id = timer->id;
  impl.timers.emplace(id, std::move(timer));
  return id;
}

void EventLoop::cancel(TimerId timer) {
  auto found = impl_->timers.find(timer);
  if (found == impl_->timers.end()) return;
  auto owned = std::move(found->second);
  impl_->timers.erase(found);
  close_timer(std::move(owned));
}

std::uint64_t EventLoop::now_ms() const { return uv_now(&impl_->loop); }

}  // namespace cairn::net
