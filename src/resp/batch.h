// BatchWriter: the one interface through which the RESP front door asks for a write the Store cannot
// make atomically today (several keys at once, or a read-modify-write). The store's batch write of the
// request-path issue implements it; until then StoreBatchWriter (store_batch_writer.h) serves the
// batches that are a single store call and refuses the rest with kUnsupported, and every RESP command
// that needs more answers a clear error saying so (docs/resp.md, "Not there yet").
//
// Which commands need it: MSET, DEL/UNLINK of several keys, MULTI/EXEC with several writes, SET over a
// set or counter key (delete and put), FLUSHDB/FLUSHALL (delete every key), and the read-modify-writes
// SETNX, SET NX/XX/GET, GETSET, APPEND, and INCR/DECR of a register holding an integer (each a put
// under an expectation that the key still holds what was read).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/status.h"
#include "cairn/store.h"

namespace cairn::resp {

// One write of a batch, with the meaning of the Store method of the same name. Later writes of a batch
// see the effect of earlier ones (a kDel then a kPut of a key that held a set leaves a register).
struct WriteOp {
  enum class Kind {
    kPut,        // Store::put(key, value)
    kDel,        // Store::del(key)
    kSadd,       // Store::sadd(key, members)
    kSrem,       // Store::srem(key, members)
    kIncr,       // Store::incr(key, amount)
    kDecr,       // Store::decr(key, amount)
    kDeleteAll,  // Store::del of every key the store holds when the batch commits (key unused)
  };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
  std::vector<std::string> members;
  std::uint64_t amount = 0;

  friend bool operator==(const WriteOp&, const WriteOp&) = default;
};

// A condition a batch is applied under: in the commit that applies the batch, before its writes, `key`
// holds exactly the register versions and counter entries whose dots are `dots` (as Store::inspect()
// lists them, in any order) and no set member. Empty `dots`: the key is absent (a counter holding only reset
// entries counts as absent, as Store::inspect() reports it). This is how a read-modify-write stays atomic:
// read the key with inspect(), compute, and write under the expectation that it is unchanged.
struct Expectation {
  std::string key;
  std::vector<InspectedDot> dots;

  friend bool operator==(const Expectation&, const Expectation&) = default;
};

class BatchWriter {
 public:
  virtual ~BatchWriter() = default;

  // Applies `writes`, in order, in one store commit, all or none, acknowledged once that commit is
  // durable (as every Store write), provided every expectation holds in that commit. Returns true when
  // applied; false when an expectation did not hold (nothing is written: the caller reads again and
  // retries). Fails with the error a Store write of the same op would give (kWrongType: an op met a
  // key of another kind; kLimitExceeded; ...) and then writes nothing; kUnsupported when this writer
  // cannot apply such a batch atomically. Thread-safe: called from any worker thread, several at once.
  virtual Result<bool> apply(const std::vector<Expectation>& expectations,
                             const std::vector<WriteOp>& writes) = 0;
};

// The name of a write kind ("put", "delete_all"), for messages and logs.
const char* to_string(WriteOp::Kind kind);

}  // namespace cairn::resp
