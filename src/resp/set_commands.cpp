// SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SSCAN over cairn OR-sets (an add wins over a
// concurrent remove). docs/resp.md, "Sets".
#include <set>

#include "src/resp/errors.h"
#include "src/resp/glob.h"
#include "src/resp/handlers.h"
#include "src/resp/iteration.h"
#include "src/resp/key_reads.h"
#include "src/resp/reply.h"

namespace cairn::resp::handlers {
namespace {

Plan store_error(const CommandContext& ctx, const Error& error) {
  return refuse(errors::from_store(error, lower(ctx.args[0])));
}

// The distinct members named by args[2...], in order of first appearance.
std::vector<std::string> distinct_members(const std::vector<std::string>& args) {
  std::vector<std::string> members;
  std::set<std::string> seen;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (seen.insert(args[i]).second) members.push_back(args[i]);
  }
  return members;
}

// How many of `members` the set holds now (for SADD's and SREM's replies, which Redis defines as the
// members actually added or removed; read before the write, so a concurrent change of the same member
// may make the count differ by it).
Result<std::int64_t> count_held(Store& store, const std::string& key,
                                const std::vector<std::string>& members) {
  std::int64_t held = 0;
  for (const std::string& member : members) {
    auto is_member = store.sismember(key, member);
    if (!is_member) return tl::unexpected(std::move(is_member.error()));
    held += *is_member ? 1 : 0;
  }
  return held;
}

Plan change_members(CommandContext& ctx, WriteOp::Kind kind) {
  const std::string& key = ctx.args[1];
  auto members = distinct_members(ctx.args);
  auto held = count_held(ctx.services.store, key, members);
  if (!held) return store_error(ctx, held.error());
  const bool adding = kind == WriteOp::Kind::kSadd;
  const std::int64_t changed = adding ? static_cast<std::int64_t>(members.size()) - *held : *held;
  Plan plan = answer(reply::integer(changed));
  // A remove of members none of which is held changes nothing; an add always writes (re-adding a held
  // member renews its dots, so a concurrent remove elsewhere does not take it away).
  if (adding || changed > 0 || ctx.written_earlier(key)) {
    plan.writes.push_back(WriteOp{kind, key, {}, std::move(members), 0});
  }
  return plan;
}

ItemFilter matching(const std::optional<std::string>& pattern) {
  return
      [pattern](const std::string& item) -> Result<bool> { return !pattern || glob_match(*pattern, item); };
}

}  // namespace

Plan sadd(CommandContext& ctx) { return change_members(ctx, WriteOp::Kind::kSadd); }

Plan srem(CommandContext& ctx) { return change_members(ctx, WriteOp::Kind::kSrem); }

Plan smembers(CommandContext& ctx) {
  auto cursor = ctx.services.store.smembers(ctx.args[1]);
  if (!cursor) return store_error(ctx, cursor.error());
  Plan plan = collect_all(ctx, **cursor, matching(std::nullopt), "smembers", "SSCAN");
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan sismember(CommandContext& ctx) {
  auto is_member = ctx.services.store.sismember(ctx.args[1], ctx.args[2]);
  if (!is_member) return store_error(ctx, is_member.error());
  Plan plan = answer(reply::integer(*is_member ? 1 : 0));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan smismember(CommandContext& ctx) {
  std::string out;
  reply::array_header(out, ctx.args.size() - 2);
  for (std::size_t i = 2; i < ctx.args.size(); ++i) {
    auto is_member = ctx.services.store.sismember(ctx.args[1], ctx.args[i]);
    if (!is_member) return store_error(ctx, is_member.error());
    reply::integer(out, *is_member ? 1 : 0);
  }
  Plan plan = answer(std::move(out));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan scard(CommandContext& ctx) {
  // The store keeps no member count: the members are counted with a cursor (O(members), constant memory).
  auto cursor = ctx.services.store.smembers(ctx.args[1]);
  if (!cursor) return store_error(ctx, cursor.error());
  std::int64_t count = 0;
  for (;;) {
    auto member = (*cursor)->next();
    if (!member) return store_error(ctx, member.error());
    if (!*member) break;
    ++count;
  }
  Plan plan = answer(reply::integer(count));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan sscan(CommandContext& ctx) {
  const std::string& key = ctx.args[1];
  const auto number = parse_cursor(ctx.args[2]);
  if (!number) return refuse(errors::kInvalidCursor);
  Plan failed;
  const auto request = parse_page_request(ctx.args, 3, /*allow_type=*/false, failed);
  if (!request) return failed;
  ScanPosition position;
  if (*number == 0) {
    auto cursor = ctx.services.store.smembers(key);
    if (!cursor) return store_error(ctx, cursor.error());
    position.cursor = std::move(*cursor);
    position.over_members = true;
    position.set_key = key;
  } else {
    auto saved = ctx.shared.cursors.take(*number);
    if (!saved || !saved->over_members || saved->set_key != key) return refuse(errors::kExpiredCursor);
    position = std::move(*saved);
  }
  Plan plan = scan_page(ctx, std::move(position), *request, matching(request->pattern));
  plan.depends_on.push_back(key);
  return plan;
}

}  // namespace cairn::resp::handlers
