#include "src/resp/store_batch_writer.h"

namespace cairn::resp {

WriteBatch make_batch(const std::vector<Expectation>& expectations, const std::vector<WriteOp>& writes) {
  WriteBatch batch;
  for (const Expectation& expectation : expectations) batch.expect(expectation.key, expectation.dots);
  for (const WriteOp& write : writes) batch.add(write);
  return batch;
}

Result<bool> StoreBatchWriter::apply(const std::vector<Expectation>& expectations,
                                     const std::vector<WriteOp>& writes) {
  if (writes.empty() && expectations.empty()) return true;
  return store_.write(make_batch(expectations, writes));
}

}  // namespace cairn::resp
