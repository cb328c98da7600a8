#include "src/resp/overwrite.h"

#include "src/resp/errors.h"
#include "src/resp/key_reads.h"

namespace cairn::resp {

void add_put_writes(Plan& plan, const std::string& key, const std::string& value, bool holds_other_kind) {
  if (holds_other_kind) plan.writes.push_back(WriteOp{WriteOp::Kind::kDel, key, {}, {}, 0});
  plan.writes.push_back(WriteOp{WriteOp::Kind::kPut, key, value, {}, 0});
}

bool plan_overwrite(CommandContext& ctx, Plan& plan, const std::string& key, const std::string& value) {
  if (ctx.kind_changed || ctx.written_earlier(key)) {
    add_put_writes(plan, key, value, true);
    return true;
  }
  auto kind = read_kind(ctx.services.store, key);
  if (!kind) {
    plan = refuse(errors::from_store(kind.error(), lower(ctx.args[0])));
    return false;
  }
  // Store::kind() reports a register first: a key also holding a set or counter (after concurrent
  // writes on two peers) is found when the put meets kWrongType, and the next attempt deletes first.
  add_put_writes(plan, key, value, *kind && **kind != ValueKind::kRegister);
  return true;
}

}  // namespace cairn::resp
