#include "src/store/write_queue.h"

#include <memory>
#include <utility>

#include "src/util/sigpipe.h"

namespace cairn::store {

WriteQueue::WriteQueue(MDB_env* env, std::uint32_t max_batch, Hooks hooks, Mode mode)
    : env_(env), max_batch_(max_batch == 0 ? 1 : max_batch), hooks_(std::move(hooks)), inline_(mode == Mode::kInline) {
  if (!inline_) writer_ = std::thread([this] { run(); });
}

WriteQueue::~WriteQueue() {
  if (inline_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

Status WriteQueue::submit(Write write) {
  // Shared: the writer may still be inside set_value when get() returns here.
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  submit_async(std::move(write), [promise](Status status) { promise->set_value(std::move(status)); });
  return done.get();
}

void WriteQueue::submit_async(Write write, Done done) {
  if (inline_) {
    std::vector<Pending> batch;
    batch.push_back(Pending{std::move(write), std::move(done)});
    run_batch(batch);
    return;
  }
  {
    std::unique_lock lock(mutex_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(write), std::move(done)});
      lock.unlock();
      wake_.notify_one();
      return;
    }
  }
  done(fail(ErrorCode::kUnavailable, "the store is closing"));
}

void WriteQueue::run() {
  block_sigpipe_in_this_thread();  // A library thread (it logs, and runs watch callbacks): src/util/sigpipe.h.
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping, and every queued write has been served.
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

void WriteQueue::run_batch(std::vector<Pending>& batch) {
  std::vector<Status> results;
  Status committed = try_batch(batch, results);
  // A full map aborts the whole batch; grow it (if allowed) and run the batch again from scratch.
  while (!committed && committed.error().code() == ErrorCode::kMapFull && hooks_.grow_map && hooks_.grow_map()) {
    committed = try_batch(batch, results);
  }
  health_.record(committed, env_);
  if (committed) {
    if (hooks_.after_commit) hooks_.after_commit();
    commits_.fetch_add(1, std::memory_order_relaxed);
    committed_writes_.fetch_add(batch.size(), std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(committed ? results[i] : committed);
}

Status WriteQueue::try_batch(std::vector<Pending>& batch, std::vector<Status>& results) {
  results.assign(batch.size(), ok());
  const auto restore_batch = [&](Status failure) {
    hooks_.restore_state();
    return failure;
  };
  MDB_txn* raw = nullptr;
  if (int rc = mdb_txn_begin(env_, nullptr, 0, &raw); rc != 0) return restore_batch(tl::unexpected(lmdb_error(rc, "begin write")));
  Txn txn(raw);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    MDB_txn* nested = nullptr;
    if (int rc = mdb_txn_begin(env_, txn.get(), 0, &nested); rc != 0) {
      return restore_batch(tl::unexpected(lmdb_error(rc, "begin nested write")));
    }
    Txn write_txn(nested);
    results[i] = batch[i].write(write_txn);
    if (!results[i] && results[i].error().code() == ErrorCode::kMapFull) {
      return restore_batch(results[i]);  // The whole batch retries once the map has grown.
    }
    // A failed write changes no in-memory state (writes change it only after their last fallible
    // step), so dropping its nested transaction undoes it. A nested commit that fails after a write
    // succeeded fails the batch, since that write's in-memory changes cannot be told apart.
    if (results[i]) {
      if (auto done = write_txn.commit(); !done) return restore_batch(done);
    }
  }
  if (hooks_.before_commit) {
    if (auto persisted = hooks_.before_commit(txn); !persisted) return restore_batch(persisted);
  }
  if (auto done = txn.commit(); !done) return restore_batch(done);
  return ok();
}

}  // namespace cairn::store
