#include "src/net/task_pool.h"

#include <algorithm>
#include <memory>
#include <system_error>
#include <utility>

#include "src/util/sigpipe.h"

namespace cairn::net {

Result<std::unique_ptr<TaskPool>> TaskPool::start(unsigned threads, std::size_t max_queued) {
  std::unique_ptr<TaskPool> pool(new TaskPool());
  pool->max_queued_ = std::max<std::size_t>(max_queued, 1);
  try {
    for (unsigned i = 0; i < std::max(threads, 1u); ++i) pool->threads_.emplace_back([raw = pool.get()] { raw->run(); });
  } catch (const std::system_error& error) {
    pool->stop();
    return fail(ErrorCode::kUnavailable, std::string("cannot start the worker threads: ") + error.what());
  }
  return pool;
}

bool TaskPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || tasks_.size() >= max_queued_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void TaskPool::stop() {
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

void TaskPool::run() {
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

}  // namespace cairn::net
