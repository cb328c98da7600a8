// A BatchWriter for tests and the RESP fuzzer (no Catch2 here): the store's real batch write
// (StoreBatchWriter over Store::write), recording every batch it is given so a test can check what the
// RESP side asked for.
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "cairn/store.h"
#include "src/resp/batch.h"
#include "src/resp/store_batch_writer.h"

namespace cairn::test {

class RecordingBatchWriter final : public resp::BatchWriter {
 public:
  explicit RecordingBatchWriter(Store& store) : writer_(store) {}

  Result<bool> apply(const std::vector<resp::Expectation>& expectations,
                     const std::vector<resp::WriteOp>& writes) override {
    {
      std::lock_guard lock(mutex_);
      batches.push_back(writes);
    }
    return writer_.apply(expectations, writes);
  }
  void apply_async(std::vector<resp::Expectation> expectations, std::vector<resp::WriteOp> writes,
                   std::function<void(Result<bool>)> done) override {
    {
      std::lock_guard lock(mutex_);
      batches.push_back(writes);
    }
    writer_.apply_async(std::move(expectations), std::move(writes), std::move(done));
  }

  // Every batch applied so far (read it when no write is in flight).
  std::vector<std::vector<resp::WriteOp>> batches;

 private:
  resp::StoreBatchWriter writer_;
  std::mutex mutex_;
};

}  // namespace cairn::test
