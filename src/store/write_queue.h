// Group commit: writes from any thread queue here; one writer thread runs them in batches, each batch
// in one LMDB write transaction, and wakes each caller only after the commit holding its write.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "cairn/status.h"
#include "src/store/commit_health.h"
#include "src/store/lmdb.h"

namespace cairn::store {

class WriteQueue {
 public:
  // One write: runs inside the batch's transaction (in a nested transaction of its own, so a write that
  // fails leaves the others in the batch intact). A write must change in-memory state only after its
  // last step that can fail.
  using Write = std::function<Status(Txn& txn)>;

  // Hooks the owner provides, all called on the writer thread.
  struct Hooks {
    // After a batch failed to commit: put back the in-memory state as of the last commit (its writes
    // may have changed it; the owner keeps a committed copy, see src/store/writer_state.h).
    std::function<void()> restore_state;
    // Called once per batch, last thing before commit (e.g. to persist the causal context).
    std::function<Status(Txn& txn)> before_commit;
    // Called after each successful commit (e.g. to notify subscribers).
    std::function<void()> after_commit;
    // Called when a commit failed with kMapFull; returns true if the map grew and the batch may retry.
    std::function<bool()> grow_map;
  };

  // kInline: no writer thread; each write runs as a batch of one, committed on the calling thread
  // before submit/submit_async returns (its `done` too). For callers on one thread only (the
  // simulator, where a thread per store was what stopped 1,000 simulated peers).
  enum class Mode { kWriterThread, kInline };

  // `max_batch` = 1 gives one commit per write (Durability::kSync).
  WriteQueue(MDB_env* env, std::uint32_t max_batch, Hooks hooks, Mode mode = Mode::kWriterThread);
  ~WriteQueue();

  // Queues `write` and blocks until its batch has committed (or failed). Thread-safe. A wrapper of
  // submit_async that waits.
  Status submit(Write write);

  // Called once with a write's outcome, on the writer thread after the commit holding the write (or its
  // failure); it must return quickly and must not wait for another write (that would deadlock).
  using Done = std::function<void(Status)>;
  // Queues `write` and returns at once; `done` runs as above. When the queue is closing, `done` runs on
  // the calling thread with kUnavailable before this returns. Thread-safe.
  void submit_async(Write write, Done done);

  // Commits made and writes they held since the queue started (their ratio: writes per commit).
  struct CommitCounts {
    std::uint64_t commits = 0;
    std::uint64_t writes = 0;
  };
  CommitCounts commit_counts() const {
    return CommitCounts{commits_.load(std::memory_order_relaxed), committed_writes_.load(std::memory_order_relaxed)};
  }

  // Whether commits succeed now (Store::usage()'s WriteHealth). Thread-safe; never waits for the disk.
  WriteHealth health() const { return health_.snapshot(); }

 private:
  struct Pending {
    Write write;
    Done done;
  };

  void run();
  void run_batch(std::vector<Pending>& batch);
  Status try_batch(std::vector<Pending>& batch, std::vector<Status>& results);

  MDB_env* env_;
  const std::uint32_t max_batch_;
  Hooks hooks_;
  CommitHealth health_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> commits_{0}, committed_writes_{0};
  const bool inline_;
  std::thread writer_;  // Not started in kInline mode.
};

}  // namespace cairn::store
