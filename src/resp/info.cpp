// INFO: Redis's sections (server, clients, memory, persistence, stats, replication, keyspace) with what
// cairn can say truthfully in each, plus cairn's own fields (prefixed cairn_). docs/resp.md, "INFO".
#include <cstdio>
#include <functional>
#include <set>

#include "src/resp/handlers.h"
#include "src/resp/reply.h"
#include "src/util/hex_id.h"

namespace cairn::resp::handlers {
namespace {

// The Redis version whose commands and replies the RESP port follows (clients read redis_version to
// decide which commands they may send).
constexpr std::string_view kRedisCompatibleVersion = "7.0.0";

using Lines = std::vector<std::pair<std::string, std::string>>;

std::string section(std::string_view title, const Lines& lines) {
  std::string out = "# " + std::string(title) + "\r\n";
  for (const auto& [name, value] : lines) out += name + ":" + value + "\r\n";
  return out;
}

Lines server_lines(CommandContext& ctx) {
  return {{"redis_version", std::string(kRedisCompatibleVersion)},
          {"redis_mode", "standalone"},
          {"cairn_replica", hex_id(ctx.services.store.replica_id())},
          {"cairn_protocol", "RESP2"}};
}

Lines clients_lines(CommandContext& ctx) {
  const RespStats stats = ctx.shared.counters.snapshot();
  return {{"connected_clients", std::to_string(stats.connections_open)}, {"blocked_clients", "0"}};
}

Lines memory_lines(CommandContext& ctx) {
  auto usage = ctx.services.store.usage();
  if (!usage) return {{"cairn_store_error", usage.error().message()}};
  return {{"cairn_store_map_bytes", std::to_string(usage->map_size_bytes)},
          {"cairn_store_used_bytes", std::to_string(usage->used_bytes)},
          {"cairn_store_file_bytes", std::to_string(usage->file_bytes)}};
}

Lines persistence_lines(CommandContext& ctx) {
  Lines lines = {
      {"loading", "0"}, {"async_loading", "0"}, {"rdb_bgsave_in_progress", "0"}, {"aof_enabled", "0"}};
  if (auto usage = ctx.services.store.usage()) {
    lines.emplace_back("cairn_delta_log_entries", std::to_string(usage->delta_log_entries));
  }
  return lines;
}

Lines stats_lines(CommandContext& ctx) {
  const RespStats stats = ctx.shared.counters.snapshot();
  std::uint64_t errors = 0;
  for (const auto& [code, count] : stats.error_replies_by_code) errors += count;
  return {{"total_connections_received", std::to_string(stats.connections_accepted)},
          {"total_commands_processed", std::to_string(stats.commands_processed)},
          {"total_error_replies", std::to_string(errors)},
          {"cairn_protocol_errors", std::to_string(stats.protocol_errors)},
          {"cairn_authentication_failures", std::to_string(stats.authentication_failures)}};
}

// Redis's replication fields say "a primary with no replicas" (every cairn peer takes writes); cairn's
// own replication is by gossip with its peers: one line per member, with the replication lag.
Lines replication_lines(CommandContext& ctx) {
  Lines lines = {{"role", "master"}, {"connected_slaves", "0"}};
  if (!ctx.services.status) return lines;
  const NodeStatus status = ctx.services.status();
  lines.emplace_back("cairn_peers", std::to_string(status.members.size()));
  lines.emplace_back("cairn_neighbours", std::to_string(status.neighbours.size()));
  for (std::size_t i = 0; i < status.members.size(); ++i) {
    const NodeStatus::Member& member = status.members[i];
    lines.emplace_back("cairn_peer" + std::to_string(i),
                       "id=" + hex_id(member.id) + ",address=" + member.address + ",state=" + member.state +
                           ",neighbour=" + (member.neighbour ? "1" : "0") +
                           ",lag_entries=" + std::to_string(member.lag_entries) +
                           ",last_heard_ms_ago=" + std::to_string(member.last_heard_ms_ago));
  }
  return lines;
}

// Counting keys walks them all (the store keeps no count): O(keys), constant memory.
Lines keyspace_lines(CommandContext& ctx) {
  auto cursor = ctx.services.store.scan("");
  std::uint64_t keys = 0;
  for (;;) {
    auto key = cursor->next();
    if (!key) return {{"cairn_keyspace_error", key.error().message()}};
    if (!*key) break;
    ++keys;
  }
  if (keys == 0) return {};
  return {{"db0", "keys=" + std::to_string(keys) + ",expires=0,avg_ttl=0"}};
}

// The node's metrics (what /metrics serves), one line each: name{label="value",...}:value. Asked for
// by name only (INFO cairn, INFO all, INFO everything): they are many.
Lines metrics_lines(CommandContext& ctx) {
  if (!ctx.services.metrics) return {};
  Lines lines;
  for (const MetricSample& sample : ctx.services.metrics()) {
    std::string name = sample.name;
    if (!sample.labels.empty()) {
      name += "{";
      for (std::size_t i = 0; i < sample.labels.size(); ++i) {
        name += (i == 0 ? "" : ",") + sample.labels[i].first + "=\"" + sample.labels[i].second + "\"";
      }
      name += "}";
    }
    char value[64];
    std::snprintf(value, sizeof value, "%.17g", sample.value);
    lines.emplace_back(std::move(name), value);
  }
  return lines;
}

struct Section {
  std::string_view name;
  std::string_view title;
  Lines (*lines)(CommandContext&);
  bool by_default = true;
};

const std::vector<Section>& sections() {
  static const std::vector<Section> all = {
      {"server", "Server", server_lines},       {"clients", "Clients", clients_lines},
      {"memory", "Memory", memory_lines},       {"persistence", "Persistence", persistence_lines},
      {"stats", "Stats", stats_lines},          {"replication", "Replication", replication_lines},
      {"keyspace", "Keyspace", keyspace_lines}, {"cairn", "Cairn", metrics_lines, false},
  };
  return all;
}

}  // namespace

Plan info(CommandContext& ctx) {
  std::set<std::string> wanted;
  for (std::size_t i = 1; i < ctx.args.size(); ++i) wanted.insert(lower(ctx.args[i]));
  const bool defaults = wanted.empty() || wanted.contains("default");
  const bool everything = wanted.contains("all") || wanted.contains("everything");
  std::string text;
  for (const Section& part : sections()) {
    const bool asked = everything || (defaults && part.by_default) || wanted.contains(std::string(part.name));
    if (!asked) continue;
    if (!text.empty()) text += "\r\n";
    text += section(part.title, part.lines(ctx));
  }
  return answer(reply::bulk(text));
}

}  // namespace cairn::resp::handlers
