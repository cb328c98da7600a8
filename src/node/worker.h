// A lane's thread: the node runs the gossip Peer on two of these (the data lane and the membership
// lane, see gossip/peer.h), off the event loop. Its own file because it is a reusable piece of
// threading with a bounded queue, independent of what the node wires onto it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cairn::node {

// Frames waiting for the protocol worker; beyond this they are dropped (the protocol recovers).
inline constexpr std::size_t kMaxQueuedTasks = 10'000;

// One thread that runs tasks in order: a protocol lane's home, off the event loop. Its constructor
// throws std::system_error when the thread cannot start.
class Worker {
 public:
  Worker();
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Any thread. Returns false (dropping the task) when the queue is full or the worker stopped.
  bool post(std::function<void()> task);

  // Any thread but the worker's own. Runs what is queued, then ends the thread; later posts are refused.
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;  // Last: starts once the members it uses exist.
};

}  // namespace cairn::node
