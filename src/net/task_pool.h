// TaskPool: a small fixed pool of threads that run tasks in FIFO order from one bounded queue. A
// listener runs here what may block (a store call that may wait for an fsync), never on the loop
// thread.
//
// Bounded: at most `max_queued` tasks wait; submit() refuses more (the caller keeps the work and
// submits it again later: listeners hold a connection's step until one of its earlier tasks is done,
// so a connection never has more than one task queued, and the bound is never reached while
// max_queued >= the connections a listener admits).
//
// Threads. submit() and stop() may be called from any thread but a worker's own. stop() joins the
// workers after the tasks running now finish; tasks still queued are destroyed without running.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cairn/status.h"

namespace cairn::net {

class TaskPool {
 public:
  static constexpr std::size_t kDefaultMaxQueued = 64 * 1024;

  // Starts `threads` workers (at least 1) with room for `max_queued` waiting tasks (at least 1).
  // kUnavailable when a thread cannot be created.
  static Result<std::unique_ptr<TaskPool>> start(unsigned threads, std::size_t max_queued = kDefaultMaxQueued);
  ~TaskPool() { stop(); }

  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Queues `task`; false (dropping it) after stop() or while max_queued tasks wait.
  bool submit(std::function<void()> task);
  // Idempotent.
  void stop();

 private:
  TaskPool() = default;
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t max_queued_ = kDefaultMaxQueued;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace cairn::net
