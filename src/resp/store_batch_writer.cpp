#include "src/resp/store_batch_writer.h"

#include <utility>

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

void StoreBatchWriter::apply_async(std::vector<Expectation> expectations, std::vector<WriteOp> writes,
                                   std::function<void(Result<bool>)> done) {
  if (writes.empty() && expectations.empty()) return done(true);
  store_.write_async(make_batch(expectations, writes), std::move(done));
}

}  // namespace cairn::resp
