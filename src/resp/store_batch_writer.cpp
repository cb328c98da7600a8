#include "src/resp/store_batch_writer.h"

namespace cairn::resp {

const char* to_string(WriteOp::Kind kind) {
  switch (kind) {
    case WriteOp::Kind::kPut:
      return "put";
    case WriteOp::Kind::kDel:
      return "del";
    case WriteOp::Kind::kSadd:
      return "sadd";
    case WriteOp::Kind::kSrem:
      return "srem";
    case WriteOp::Kind::kIncr:
      return "incr";
    case WriteOp::Kind::kDecr:
      return "decr";
    case WriteOp::Kind::kDeleteAll:
      return "delete_all";
  }
  return "unknown";
}

Status apply_single_write(Store& store, const WriteOp& write) {
  switch (write.kind) {
    case WriteOp::Kind::kPut:
      return store.put(write.key, write.value);
    case WriteOp::Kind::kDel:
      return store.del(write.key);
    case WriteOp::Kind::kSadd:
      return store.sadd(write.key, write.members);
    case WriteOp::Kind::kSrem:
      return store.srem(write.key, write.members);
    case WriteOp::Kind::kIncr:
      return store.incr(write.key, write.amount);
    case WriteOp::Kind::kDecr:
      return store.decr(write.key, write.amount);
    case WriteOp::Kind::kDeleteAll:
      break;
  }
  return fail(ErrorCode::kUnsupported, "deleting every key at once needs the store's batch write");
}

Result<bool> StoreBatchWriter::apply(const std::vector<Expectation>& expectations,
                                     const std::vector<WriteOp>& writes) {
  if (writes.empty()) return true;
  if (!expectations.empty()) {
    return fail(ErrorCode::kUnsupported,
                "a write conditional on what was read needs the store's batch write");
  }
  if (writes.size() > 1) {
    return fail(ErrorCode::kUnsupported, "several writes in one atomic step need the store's batch write");
  }
  auto applied = apply_single_write(store_, writes.front());
  if (!applied) return tl::unexpected(std::move(applied.error()));
  return true;
}

}  // namespace cairn::resp
