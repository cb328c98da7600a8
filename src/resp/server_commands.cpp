// PING, ECHO, SELECT, UNWATCH, COMMAND (COUNT, INFO, DOCS, LIST) and CONFIG (GET, SET): what clients
// and tools send on connecting or probing, answered as Redis answers them where cairn can do so
// truthfully. docs/resp.md, "Server and connection".
#include <algorithm>
#include <set>

#include "src/resp/errors.h"
#include "src/resp/glob.h"
#include "src/resp/handlers.h"
#include "src/resp/integer.h"
#include "src/resp/reply.h"

namespace cairn::resp::handlers {
namespace {

// The settings CONFIG GET answers, with cairn's fixed values.
std::vector<std::pair<std::string, std::string>> config_values(const RespOptions& options) {
  return {
      {"save", ""},          // No snapshots: every write is durable in LMDB when acknowledged.
      {"appendonly", "no"},  // No append-only file either, for the same reason.
      {"databases", "1"},    // Only database 0.
      {"maxmemory", "0"},    // No memory limit or eviction: the store is on disk.
      {"maxmemory-policy", "noeviction"},
      {"timeout", "0"},  // Idle connections are not closed.
      {"proto-max-bulk-len", std::to_string(options.limits.max_bulk_bytes)},
      {"client-query-buffer-limit", std::to_string(options.limits.max_request_bytes)},
  };
}

std::vector<std::string> flag_names(std::uint32_t flags) {
  std::vector<std::string> names;
  if (flags & kWrite) names.push_back("write");
  if (flags & kReadOnly) names.push_back("readonly");
  if (flags & kAdmin) names.push_back("admin");
  if (flags & kFast) names.push_back("fast");
  if (flags & kNoAuth) names.push_back("no_auth");
  if (flags & kNoMulti) names.push_back("no_multi");
  return names;
}

std::vector<std::string> acl_categories(const CommandSpec& spec) {
  std::vector<std::string> names;
  if (spec.flags & kWrite) names.push_back("@write");
  if (spec.flags & kReadOnly) names.push_back("@read");
  if (spec.group == "generic") {
    names.push_back("@keyspace");
  } else if (spec.group == "transactions") {
    names.push_back("@transaction");
  } else if (spec.group != "server" && spec.group != "cairn") {
    names.push_back("@" + std::string(spec.group));
  }
  names.push_back((spec.flags & kFast) ? "@fast" : "@slow");
  if (spec.flags & kAdmin) names.push_back("@admin");
  return names;
}

void status_array(std::string& out, const std::vector<std::string>& items) {
  reply::array_header(out, items.size());
  for (const std::string& item : items) reply::simple(out, item);
}

// One element of COMMAND / COMMAND INFO, in Redis 7's ten-field form (tips, key specs and subcommands
// are empty: first/last/step say where the keys are).
void command_info(std::string& out, const CommandSpec& spec) {
  reply::array_header(out, 10);
  reply::bulk(out, spec.name);
  reply::integer(out, spec.arity);
  status_array(out, flag_names(spec.flags));
  reply::integer(out, spec.first_key);
  reply::integer(out, spec.last_key);
  reply::integer(out, spec.key_step);
  status_array(out, acl_categories(spec));
  reply::array_header(out, 0);
  reply::array_header(out, 0);
  reply::array_header(out, 0);
}

void command_docs(std::string& out, const CommandSpec& spec) {
  reply::bulk(out, spec.name);
  reply::array_header(out, 4);
  reply::bulk(out, "summary");
  reply::bulk(out, spec.summary);
  reply::bulk(out, "group");
  reply::bulk(out, spec.group == "cairn" ? "server" : spec.group);
}

Plan command_subcommand(CommandContext& ctx) {
  const std::string sub = lower(ctx.args[1]);
  const auto& commands = all_commands();
  std::string out;
  if (sub == "count") {
    if (ctx.args.size() != 2) return refuse(errors::wrong_arity("command|count"));
    return answer(reply::integer(static_cast<std::int64_t>(commands.size())));
  }
  if (sub == "list") {
    if (ctx.args.size() != 2) return refuse(errors::wrong_arity("command|list"));
    reply::array_header(out, commands.size());
    for (const CommandSpec& spec : commands) reply::bulk(out, spec.name);
    return answer(std::move(out));
  }
  if (sub == "info") {  // With names (bare COMMAND INFO is COMMAND: every command).
    reply::array_header(out, ctx.args.size() - 2);
    for (std::size_t i = 2; i < ctx.args.size(); ++i) {
      const CommandSpec* spec = find_command(ctx.args[i]);
      spec ? command_info(out, *spec) : reply::null_bulk(out);
    }
    return answer(std::move(out));
  }
  if (sub == "docs") {
    std::vector<const CommandSpec*> wanted;
    for (std::size_t i = 2; i < ctx.args.size(); ++i) {
      if (const CommandSpec* spec = find_command(ctx.args[i])) wanted.push_back(spec);
    }
    if (ctx.args.size() == 2) {
      for (const CommandSpec& spec : commands) wanted.push_back(&spec);
    }
    reply::array_header(out, wanted.size() * 2);
    for (const CommandSpec* spec : wanted) command_docs(out, *spec);
    return answer(std::move(out));
  }
  return refuse(errors::unknown_subcommand(ctx.args[1], "COMMAND"));
}

Plan config_get(CommandContext& ctx) {
  if (ctx.args.size() < 3) return refuse(errors::wrong_arity("config|get"));
  std::set<std::string> answered;
  std::vector<std::string> pairs;
  for (const auto& [name, value] : config_values(ctx.options)) {
    for (std::size_t i = 2; i < ctx.args.size(); ++i) {
      if (glob_match(lower(ctx.args[i]), name) && answered.insert(name).second) {
        pairs.push_back(name);
        pairs.push_back(value);
      }
    }
  }
  std::string out;
  reply::bulk_array(out, pairs);
  return answer(std::move(out));
}

// CONFIG SET changes nothing (cairnd is configured by its flags and file): setting a known value to
// what it already is answers OK, anything else an error that says so.
Plan config_set(CommandContext& ctx) {
  if (ctx.args.size() < 4 || ctx.args.size() % 2 != 0) return refuse(errors::wrong_arity("config|set"));
  const auto values = config_values(ctx.options);
  for (std::size_t i = 2; i < ctx.args.size(); i += 2) {
    const std::string name = lower(ctx.args[i]);
    const auto known =
        std::find_if(values.begin(), values.end(), [&](const auto& entry) { return entry.first == name; });
    if (known == values.end()) {
      return refuse("ERR Unknown option or number of arguments for CONFIG SET - '" + ctx.args[i] + "'");
    }
    if (known->second != ctx.args[i + 1]) {
      return refuse("ERR CONFIG SET cannot change '" + name + "' on cairn (it is '" + known->second +
                    "'); configure cairnd with its flags or config file instead");
    }
  }
  return answer(std::string(reply::kOk));
}

}  // namespace

Plan ping(CommandContext& ctx) {
  if (ctx.args.size() > 2) return refuse(errors::wrong_arity("ping"));
  return answer(ctx.args.size() == 2 ? reply::bulk(ctx.args[1]) : reply::simple("PONG"));
}

Plan echo(CommandContext& ctx) { return answer(reply::bulk(ctx.args[1])); }

Plan select(CommandContext& ctx) {
  const auto index = parse_int64(ctx.args[1]);
  if (!index) return refuse(errors::kNotInteger);
  if (*index != 0) return refuse(errors::kDbIndexOutOfRange);
  return answer(std::string(reply::kOk));
}

Plan unwatch(CommandContext&) { return answer(std::string(reply::kOk)); }

Plan command(CommandContext& ctx) {
  if (ctx.args.size() > 1 && !(ctx.args.size() == 2 && equals_ignoring_case(ctx.args[1], "info"))) {
    return command_subcommand(ctx);
  }
  std::string out;
  reply::array_header(out, all_commands().size());
  for (const CommandSpec& spec : all_commands()) command_info(out, spec);
  return answer(std::move(out));
}

Plan config(CommandContext& ctx) {
  const std::string sub = lower(ctx.args[1]);
  if (sub == "get") return config_get(ctx);
  if (sub == "set") return config_set(ctx);
  return refuse(errors::unknown_subcommand(ctx.args[1], "CONFIG"));
}

}  // namespace cairn::resp::handlers
