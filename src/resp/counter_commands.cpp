// INCR, DECR, INCRBY, DECRBY. On an absent key or a counter they change a cairn PN-counter (increments
// on different peers add up); on a register holding an integer (after SET k 10) they rewrite the
// register, as a read-modify-write (docs/resp.md, "SET k 10, then INCR k").
#include <limits>

#include "src/resp/errors.h"
#include "src/resp/handlers.h"
#include "src/resp/integer.h"
#include "src/resp/key_reads.h"
#include "src/resp/overwrite.h"
#include "src/resp/reply.h"

namespace cairn::resp::handlers {
namespace {

// |delta| as the unsigned amount Store::incr/decr take (INT64_MIN included).
std::uint64_t magnitude(std::int64_t delta) {
  return delta >= 0 ? static_cast<std::uint64_t>(delta) : static_cast<std::uint64_t>(-(delta + 1)) + 1;
}

Plan increment_register(const std::string& key, const KeyState& state, std::int64_t delta) {
  const auto current = parse_int64(state.value);
  if (!current) return refuse(errors::kNotInteger);
  const auto next = checked_add(*current, delta);
  if (!next) return refuse(errors::kOverflow);
  Plan plan;
  plan.depends_on.push_back(key);
  plan.expectations.push_back(Expectation{key, state.dots});
  add_put_writes(plan, key, format_int64(*next), state.has_counter);
  plan.reply = reply::integer(*next);
  return plan;
}

// The counter's value is read before the write for the overflow check, and again after the commit for
// the reply: what the counter holds once this increment is in (increments made meanwhile by others
// included), as close to Redis's "the value after the increment" as a counter other peers also change
// can come.
Plan increment_counter(CommandContext& ctx, const std::string& key, const KeyState& state,
                       std::int64_t delta) {
  std::int64_t current = 0;
  if (state.present) {
    const auto parsed = parse_int64(state.value);
    if (!parsed) return refuse(errors::kNotInteger);  // Never: a counter's value is an int64.
    current = *parsed;
  }
  // A total already outside int64 has no value to check against here: the store accepts a change that
  // moves it back toward the range and refuses one that moves it further out (kOutOfRange).
  const auto next = checked_add(current, delta);
  if (!next && !state.counter_out_of_range) return refuse(errors::kOverflow);
  Plan plan;
  plan.depends_on.push_back(key);
  const auto kind = delta >= 0 ? WriteOp::Kind::kIncr : WriteOp::Kind::kDecr;
  plan.writes.push_back(WriteOp{kind, key, {}, {}, magnitude(delta)});
  Store& store = ctx.services.store;
  const std::int64_t expected = next.value_or(0);
  plan.reply_after_commit = [&store, key, expected] {
    auto value = store.counter(key);
    if (!value && value.error().code() == ErrorCode::kOutOfRange) {
      return reply::error("ERR the change was applied, but the counter's total is still outside the signed "
                          "64-bit range (increments on several peers added up past it)");
    }
    return reply::integer(value ? *value : expected);
  };
  return plan;
}

Plan increment(CommandContext& ctx, std::int64_t delta) {
  const std::string& key = ctx.args[1];
  auto state = read_key_state(ctx.services.store, key);
  if (!state) return refuse(errors::from_store(state.error(), lower(ctx.args[0])));
  if (state->has_set) return refuse(errors::kWrongType);
  if (state->has_register) return increment_register(key, *state, delta);
  return increment_counter(ctx, key, *state, delta);
}

}  // namespace

Plan incr(CommandContext& ctx) { return increment(ctx, 1); }

Plan decr(CommandContext& ctx) { return increment(ctx, -1); }

Plan incrby(CommandContext& ctx) {
  const auto amount = parse_int64(ctx.args[2]);
  if (!amount) return refuse(errors::kNotInteger);
  return increment(ctx, *amount);
}

Plan decrby(CommandContext& ctx) {
  const auto amount = parse_int64(ctx.args[2]);
  if (!amount) return refuse(errors::kNotInteger);
  if (*amount == std::numeric_limits<std::int64_t>::min()) return refuse(errors::kDecrementOverflow);
  return increment(ctx, -*amount);
}

}  // namespace cairn::resp::handlers
