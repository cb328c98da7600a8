// StoreBatchWriter: the BatchWriter that today's Store can honestly provide. A batch with no
// expectation and exactly one write is one Store call, hence atomic and durable as that call; every
// other batch fails with kUnsupported (never applied piecewise: that would fake atomicity). The batch
// write of the request-path issue replaces it.
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

 private:
  Store& store_;
};

// Runs one write as its Store call (kDeleteAll is not one: kUnsupported).
Status apply_single_write(Store& store, const WriteOp& write);

}  // namespace cairn::resp
