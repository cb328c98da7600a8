// BatchWriter: the one interface through which the RESP front door writes: every command's writes
// (several keys at once, or a read-modify-write under expectations) go to the store as one batch.
// StoreBatchWriter (store_batch_writer.h) implements it over Store::write, which applies a batch
// atomically and logs it as one delta-group (docs/store.md, "Batch writes").
//
// Which commands need more than one write or a condition: MSET, DEL/UNLINK of several keys, MULTI/EXEC
// with several writes, SET over a set or counter key (delete and put), FLUSHDB/FLUSHALL (delete every
// key), and the read-modify-writes SETNX, SET NX/XX/GET, GETSET, APPEND, and INCR/DECR of a register
// holding an integer (each a put under an expectation that the key still holds what was read).
#pragma once

#include <functional>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::resp {

// One write of a batch: the store's batch operation (include/cairn/store.h). Later writes of a batch
// see the effect of earlier ones (a kDel then a kPut of a key that held a set leaves a register).
using WriteOp = BatchOp;

// A condition a batch is applied under (the store's BatchCondition): in the commit that applies the
// batch, before its writes, `key` holds exactly the register versions and counter entries whose dots
// are `dots` and no set member; empty `dots`: absent. Read the key with inspect(), compute, and write
// under the expectation that it is unchanged.
using Expectation = BatchCondition;

class BatchWriter {
 public:
  virtual ~BatchWriter() = default;

  // Applies `writes`, in order, in one store commit, all or none, acknowledged once that commit is
  // durable (as every Store write), provided every expectation holds in that commit. Returns true when
  // applied; false when an expectation did not hold (nothing is written: the caller reads again and
  // retries). Fails with the error a Store write of the same op would give (kWrongType: an op met a
  // key of another kind; kLimitExceeded; ...) and then writes nothing. Thread-safe: called from any
  // worker thread, several at once.
  virtual Result<bool> apply(const std::vector<Expectation>& expectations,
                             const std::vector<WriteOp>& writes) = 0;

  // apply() without waiting: returns at once, and `done` gets what apply() would return, on the store's
  // writer thread after the commit (or at once, on this thread, for a batch refused before queueing).
  // `done` must return quickly and take no lock a writer of the store may wait for.
  virtual void apply_async(std::vector<Expectation> expectations, std::vector<WriteOp> writes,
                           std::function<void(Result<bool>)> done) = 0;
};

}  // namespace cairn::resp
