// GET, SET (NX, XX, GET), SETNX, GETSET, MGET, MSET, STRLEN, APPEND: Redis strings over cairn registers
// (and counters, which read as strings). docs/resp.md, "Strings".
#include <set>

#include "src/resp/errors.h"
#include "src/resp/handlers.h"
#include "src/resp/iteration.h"
#include "src/resp/key_reads.h"
#include "src/resp/overwrite.h"
#include "src/resp/reply.h"

namespace cairn::resp::handlers {
namespace {

Plan store_error(const CommandContext& ctx, const Error& error) {
  return refuse(errors::from_store(error, lower(ctx.args[0])));
}

struct SetOptions {
  bool only_if_absent = false;   // NX
  bool only_if_present = false;  // XX
  bool return_old = false;       // GET
  bool expiry = false;           // EX, PX, EXAT, PXAT or KEEPTTL
};

// Reads SET's options from args[3...] as Redis does: each at most once, NX and XX exclusive, one
// expiry option with its value. nullopt: a syntax error.
std::optional<SetOptions> parse_set_options(const std::vector<std::string>& args) {
  SetOptions options;
  bool keep_ttl = false, expires = false;
  for (std::size_t i = 3; i < args.size(); ++i) {
    const std::string option = lower(args[i]);
    const bool has_value = i + 1 < args.size();
    if (option == "nx" && !options.only_if_present) {
      options.only_if_absent = true;
    } else if (option == "xx" && !options.only_if_absent) {
      options.only_if_present = true;
    } else if (option == "get") {
      options.return_old = true;
    } else if (option == "keepttl" && !expires) {
      keep_ttl = true;
    } else if ((option == "ex" || option == "px" || option == "exat" || option == "pxat") && has_value &&
               !keep_ttl && !expires) {
      expires = true;
      ++i;
    } else {
      return std::nullopt;
    }
  }
  options.expiry = keep_ttl || expires;
  return options;
}

// SET with NX, XX or GET: decided on what the key holds now, written under the expectation that it
// still holds that (a read-modify-write). `reply_set` and `reply_not_set` are the replies when the
// value is written or not (GET replaces both with the old value).
Plan conditional_set(CommandContext& ctx, const std::string& key, const std::string& value,
                     const SetOptions& options, std::string reply_set, std::string reply_not_set) {
  auto state = read_key_state(ctx.services.store, key);
  if (!state) return store_error(ctx, state.error());
  if (state->has_set && options.return_old) return refuse(errors::kWrongType);
  if (options.return_old) {
    reply_set = state->holds_string() ? reply::bulk(state->value) : reply::null_bulk();
    reply_not_set = reply_set;
  }
  Plan plan;
  plan.depends_on.push_back(key);
  if ((options.only_if_absent && state->present) || (options.only_if_present && !state->present)) {
    plan.reply = std::move(reply_not_set);
    return plan;
  }
  // No expectation can name a set's state (docs/resp.md): SET XX over a set is decided on this read.
  if (!state->has_set) plan.expectations.push_back(Expectation{key, state->dots});
  add_put_writes(plan, key, value, state->has_set || state->has_counter);
  plan.reply = std::move(reply_set);
  return plan;
}

}  // namespace

Plan get(CommandContext& ctx) {
  auto value = read_string(ctx.services.store, ctx.args[1]);
  if (!value) return store_error(ctx, value.error());
  Plan plan = answer(*value ? reply::bulk(**value) : reply::null_bulk());
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan set(CommandContext& ctx) {
  const auto options = parse_set_options(ctx.args);
  if (!options) return refuse(errors::kSyntax);
  if (options->expiry) return refuse(errors::kNoExpiry);
  const std::string& key = ctx.args[1];
  const std::string& value = ctx.args[2];
  if (options->only_if_absent || options->only_if_present || options->return_old) {
    return conditional_set(ctx, key, value, *options, std::string(reply::kOk), reply::null_bulk());
  }
  Plan plan = answer(std::string(reply::kOk));
  plan_overwrite(ctx, plan, key, value);
  return plan;
}

Plan setnx(CommandContext& ctx) {
  SetOptions options;
  options.only_if_absent = true;
  return conditional_set(ctx, ctx.args[1], ctx.args[2], options, reply::integer(1), reply::integer(0));
}

Plan getset(CommandContext& ctx) {
  SetOptions options;
  options.return_old = true;
  return conditional_set(ctx, ctx.args[1], ctx.args[2], options, {}, {});
}

Plan mget(CommandContext& ctx) {
  std::string out;
  reply::array_header(out, ctx.args.size() - 1);
  Plan plan;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    auto value = read_string(ctx.services.store, ctx.args[i]);
    if (!value && value.error().code() != ErrorCode::kWrongType) return store_error(ctx, value.error());
    if (value && *value) {
      if (out.size() + reply::bulk_bytes((*value)->size()) > ctx.options.max_collected_reply_bytes) {
        return refuse(
            reply_too_large("mget", ctx.options.max_collected_reply_bytes, "ask for fewer keys at once"));
      }
      reply::bulk(out, **value);
    } else {
      reply::null_bulk(out);  // Absent, or a set: MGET answers nil for a key of another type.
    }
    plan.depends_on.push_back(ctx.args[i]);
  }
  plan.reply = std::move(out);
  return plan;
}

Plan mset(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) return refuse(errors::wrong_arity("mset"));
  Plan plan = answer(std::string(reply::kOk));
  for (std::size_t i = 1; i < ctx.args.size(); i += 2) {
    if (!plan_overwrite(ctx, plan, ctx.args[i], ctx.args[i + 1])) return plan;
  }
  return plan;
}

Plan strlen(CommandContext& ctx) {
  auto value = read_string(ctx.services.store, ctx.args[1]);
  if (!value) return store_error(ctx, value.error());
  Plan plan = answer(reply::integer(*value ? static_cast<std::int64_t>((*value)->size()) : 0));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan append(CommandContext& ctx) {
  const std::string& key = ctx.args[1];
  auto state = read_key_state(ctx.services.store, key);
  if (!state) return store_error(ctx, state.error());
  if (state->has_set) return refuse(errors::kWrongType);
  if (state->value.size() + ctx.args[2].size() > kMaxValueBytes) return refuse(errors::kStringTooLong);
  const std::string value = state->value + ctx.args[2];
  Plan plan;
  plan.depends_on.push_back(key);
  plan.expectations.push_back(Expectation{key, state->dots});
  add_put_writes(plan, key, value, state->has_counter);
  plan.reply = reply::integer(static_cast<std::int64_t>(value.size()));
  return plan;
}

}  // namespace cairn::resp::handlers
