#include "src/server/worker_pool.h"

#include <algorithm>
#include <memory>
#include <system_error>
#include <utility>

#include "src/util/sigpipe.h"

namespace cairn::server {

Result<std::unique_ptr<WorkerPool>> WorkerPool::start(unsigned threads) {
  std::unique_ptr<WorkerPool> pool(new WorkerPool());
  try {
    for (unsigned i = 0; i < std::max(threads, 1u); ++i) pool->threads_.emplace_back([raw = pool.get()] { raw->run(); });
  } catch (const std::system_error& error) {
    pool->stop();
    return fail(ErrorCode::kUnavailable, std::string("cannot start the client worker threads: ") + error.what());
  }
  return pool;
}

bool WorkerPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void WorkerPool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
  }
  wake_.notify_all();
  std::lock_guard join_lock(join_mutex_);
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  // `dropped` is destroyed here, outside the lock: a task's captures may run destructors that submit.
}

void WorkerPool::run() {
  block_sigpipe_in_this_thread();  // A library thread: see src/util/sigpipe.h.
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace cairn::server
