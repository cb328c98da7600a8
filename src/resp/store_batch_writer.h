// StoreBatchWriter: the BatchWriter over Store::write and Store::write_async (one atomic batch per
// command or transaction).
#pragma once

#include "cairn/store.h"
#include "src/resp/batch.h"

namespace cairn::resp {

class StoreBatchWriter final : public BatchWriter {
 public:
  // `store` is borrowed and must outlive the writer.
  explicit StoreBatchWriter(Store& store) : store_(store) {}

  Result<bool> apply(const std::vector<Expectation>& expectations,
                     const std::vector<WriteOp>& writes) override;
  void apply_async(std::vector<Expectation> expectations, std::vector<WriteOp> writes,
                   std::function<void(Result<bool>)> done) override;

 private:
  Store& store_;
};

// The store batch of `writes` under `expectations`.
WriteBatch make_batch(const std::vector<Expectation>& expectations, const std::vector<WriteOp>& writes);

}  // namespace cairn::resp
