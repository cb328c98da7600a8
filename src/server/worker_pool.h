// A small fixed pool of threads that run tasks in FIFO order: the client listener runs every store
// call here, never on the loop thread (a write may wait for an fsync).
//
// Threads. submit() and stop() may be called from any thread but a worker's own. stop() joins the
// workers after the tasks running now finish; tasks still queued are destroyed without running.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cairn/status.h"

namespace cairn::server {

class WorkerPool {
 public:
  // Starts `threads` workers (at least 1). kUnavailable when a thread cannot be created.
  static Result<std::unique_ptr<WorkerPool>> start(unsigned threads);
  ~WorkerPool() { stop(); }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (dropping it) after stop().
  bool submit(std::function<void()> task);
  // Idempotent.
  void stop();

 private:
  WorkerPool() = default;
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace cairn::server
