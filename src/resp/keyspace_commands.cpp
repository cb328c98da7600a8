// DEL, UNLINK, EXISTS, TYPE, TTL, PTTL, KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHDB, FLUSHALL, and the
// expiry commands (refused until cairn has expiry). docs/resp.md, "Keys".
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

// MATCH and TYPE for a key scan: the pattern, then the key's kind (read only when a TYPE is asked).
ItemFilter key_filter(Store& store, const std::optional<std::string>& pattern,
                      const std::optional<std::string>& type) {
  return [&store, pattern, type](const std::string& key) -> Result<bool> {
    if (pattern && !glob_match(*pattern, key)) return false;
    if (!type) return true;
    auto kind = read_kind(store, key);
    if (!kind) return tl::unexpected(std::move(kind.error()));
    return *kind && type_name(*kind) == *type;
  };
}

}  // namespace

Plan del(CommandContext& ctx) {
  // Only keys present now are deleted (and counted): deleting an absent key changes nothing, so a DEL
  // naming one present key stays a single store write. Inside a transaction the count of a key an
  // earlier command writes cannot be known before that write: the executor refuses it.
  Plan plan;
  std::set<std::string> seen;
  std::int64_t deleted = 0;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    const std::string& key = ctx.args[i];
    if (!seen.insert(key).second) continue;
    if (ctx.written_earlier(key)) {
      plan.depends_on.push_back(key);
      continue;
    }
    auto kind = read_kind(ctx.services.store, key);
    if (!kind) return store_error(ctx, kind.error());
    if (!*kind) continue;
    ++deleted;
    plan.writes.push_back(WriteOp{WriteOp::Kind::kDel, key, {}, {}, 0});
  }
  plan.reply = reply::integer(deleted);
  return plan;
}

Plan exists(CommandContext& ctx) {
  Plan plan;
  std::int64_t present = 0;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) {
    auto kind = read_kind(ctx.services.store, ctx.args[i]);
    if (!kind) return store_error(ctx, kind.error());
    present += *kind ? 1 : 0;
    plan.depends_on.push_back(ctx.args[i]);
  }
  plan.reply = reply::integer(present);
  return plan;
}

Plan type(CommandContext& ctx) {
  auto kind = read_kind(ctx.services.store, ctx.args[1]);
  if (!kind) return store_error(ctx, kind.error());
  Plan plan = answer(reply::simple(type_name(*kind)));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan ttl(CommandContext& ctx) {
  // No key expires in cairn: -1 for a key that exists, -2 for one that does not (as Redis answers).
  auto kind = read_kind(ctx.services.store, ctx.args[1]);
  if (!kind) return store_error(ctx, kind.error());
  Plan plan = answer(reply::integer(*kind ? -1 : -2));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan keys(CommandContext& ctx) {
  const std::string& pattern = ctx.args[1];
  auto cursor = ctx.services.store.scan(glob_literal_prefix(pattern));
  Plan plan =
      collect_all(ctx, *cursor, key_filter(ctx.services.store, pattern, std::nullopt), "keys", "SCAN");
  plan.depends_on.push_back(std::string());  // Every key: see the executor.
  return plan;
}

Plan scan(CommandContext& ctx) {
  const auto number = parse_cursor(ctx.args[1]);
  if (!number) return refuse(errors::kInvalidCursor);
  Plan failed;
  const auto request = parse_page_request(ctx.args, 2, /*allow_type=*/true, failed);
  if (!request) return failed;
  ScanPosition position;
  if (*number == 0) {
    position.cursor = ctx.services.store.scan(request->pattern ? glob_literal_prefix(*request->pattern) : "");
  } else {
    auto saved = ctx.shared.cursors.take(*number);
    if (!saved || saved->over_members) return refuse(errors::kExpiredCursor);
    position = std::move(*saved);
  }
  return scan_page(ctx, std::move(position), *request,
                   key_filter(ctx.services.store, request->pattern, request->type));
}

Plan dbsize(CommandContext& ctx) {
  // The store keeps no key count: keys are counted with a cursor (O(keys), constant memory).
  auto cursor = ctx.services.store.scan("");
  std::int64_t count = 0;
  for (;;) {
    auto key = cursor->next();
    if (!key) return store_error(ctx, key.error());
    if (!*key) break;
    ++count;
  }
  Plan plan = answer(reply::integer(count));
  plan.depends_on.push_back(std::string());  // Every key: see the executor.
  return plan;
}

Plan randomkey(CommandContext& ctx) {
  // The store has no random access: start at a random first byte and take the first key there,
  // wrapping around once. Every key can come out, though not with equal chances.
  const auto start = static_cast<unsigned>(ctx.shared.random() % 256);
  for (unsigned i = 0; i < 256; ++i) {
    const std::string prefix(1, static_cast<char>((start + i) % 256));
    auto key = ctx.services.store.scan(prefix)->next();
    if (!key) return store_error(ctx, key.error());
    if (*key) {
      Plan plan = answer(reply::bulk(**key));
      plan.depends_on.push_back(std::string());  // Every key: see the executor.
      return plan;
    }
  }
  Plan plan = answer(reply::null_bulk());
  plan.depends_on.push_back(std::string());
  return plan;
}

Plan flushdb(CommandContext& ctx) {
  if (ctx.args.size() > 2) return refuse(errors::kSyntax);
  if (ctx.args.size() == 2 && lower(ctx.args[1]) != "async" && lower(ctx.args[1]) != "sync")
    return refuse(errors::kSyntax);
  Plan plan = answer(std::string(reply::kOk));
  plan.writes.push_back(WriteOp{WriteOp::Kind::kDeleteAll, {}, {}, {}, 0});
  return plan;
}

Plan expire(CommandContext&) { return refuse(errors::kNoExpiry); }

}  // namespace cairn::resp::handlers
