// CAIRN.VALUES, CAIRN.INSPECT, CAIRN.PEERS, CAIRN.RING: what Redis cannot express about a CRDT store
// (the concurrent values of a register, a key's version vector and writer, the peers and the ring).
// Replies use RESP2 arrays of field names and values, as HELLO does. docs/resp.md, "cairn's own view".
#include "src/resp/errors.h"
#include "src/resp/handlers.h"
#include "src/resp/integer.h"
#include "src/resp/iteration.h"
#include "src/resp/reply.h"
#include "src/util/hex_id.h"

namespace cairn::resp::handlers {
namespace {

Plan store_error(const CommandContext& ctx, const Error& error) {
  return refuse(errors::from_store(error, lower(ctx.args[0])));
}

// A dot as "<replica hex>:<counter>".
std::string dot_text(const InspectedDot& dot) {
  return hex_id(dot.replica) + ":" + std::to_string(dot.counter);
}

void versions_array(std::string& out, const std::vector<RegisterVersion>& versions) {
  reply::array_header(out, versions.size());
  for (const RegisterVersion& version : versions) {
    reply::array_header(out, 3);
    reply::bulk(out, version.value);
    reply::bulk(out, dot_text(version.dot));
    reply::bulk(out, std::to_string(version.hlc_wall_ms) + "." + std::to_string(version.hlc_logical));
  }
}

void members_array(std::string& out, const std::vector<InspectedMember>& members) {
  reply::array_header(out, members.size());
  for (const InspectedMember& member : members) {
    reply::array_header(out, 2);
    reply::bulk(out, member.member);
    reply::array_header(out, member.dots.size());
    for (const InspectedDot& dot : member.dots) reply::bulk(out, dot_text(dot));
  }
}

void inspection_fields(std::string& out, const KeyInspection& inspection) {
  std::vector<std::string> kinds;
  for (ValueKind kind : inspection.kinds) kinds.push_back(to_string(kind));
  std::vector<std::string> vector, outside;
  for (const auto& [replica, counter] : inspection.version_vector)
    vector.push_back(hex_id(replica) + ":" + std::to_string(counter));
  for (const InspectedDot& dot : inspection.dots_outside_vector) outside.push_back(dot_text(dot));
  reply::array_header(out, 20);
  reply::bulk(out, "key");
  reply::bulk(out, inspection.key);
  reply::bulk(out, "kinds");
  reply::bulk_array(out, kinds);
  reply::bulk(out, "writer");
  reply::bulk(out, inspection.writing_replica == 0 ? "" : hex_id(inspection.writing_replica));
  reply::bulk(out, "versions");
  versions_array(out, inspection.versions);
  reply::bulk(out, "counter");
  reply::integer(out, inspection.counter_value);
  reply::bulk(out, "member_count");
  reply::integer(out, static_cast<std::int64_t>(inspection.member_count));
  reply::bulk(out, "member_count_capped");
  reply::integer(out, inspection.member_count_capped ? 1 : 0);
  reply::bulk(out, "members");
  members_array(out, inspection.members);
  reply::bulk(out, "version_vector");
  reply::bulk_array(out, vector);
  reply::bulk(out, "dots_outside_vector");
  reply::bulk_array(out, outside);
}

Plan no_node() { return refuse("ERR this cairn store runs without a node: there are no peers to show"); }

}  // namespace

Plan cairn_values(CommandContext& ctx) {
  auto value = ctx.services.store.get(ctx.args[1]);
  std::vector<std::string> values;
  if (value) {
    values.push_back(std::move(value->value));
    for (std::string& other : value->concurrent) values.push_back(std::move(other));
  } else if (value.error().code() == ErrorCode::kWrongType) {
    auto counter = ctx.services.store.counter(ctx.args[1]);
    if (!counter && counter.error().code() != ErrorCode::kNotFound) return store_error(ctx, counter.error());
    if (counter) values.push_back(format_int64(*counter));
  } else if (value.error().code() != ErrorCode::kNotFound) {
    return store_error(ctx, value.error());
  }
  std::size_t bytes = 0;
  for (const std::string& each : values) bytes += reply::bulk_bytes(each.size());
  if (bytes > ctx.options.max_collected_reply_bytes) {
    return refuse(reply_too_large("cairn.values", ctx.options.max_collected_reply_bytes,
                                  "the concurrent values are too large to send together"));
  }
  std::string out;
  reply::bulk_array(out, values);
  Plan plan = answer(std::move(out));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan cairn_inspect(CommandContext& ctx) {
  auto inspection = ctx.services.store.inspect(ctx.args[1]);
  if (!inspection) {
    if (inspection.error().code() == ErrorCode::kNotFound) return answer("*-1\r\n");
    return store_error(ctx, inspection.error());
  }
  std::string out;
  inspection_fields(out, *inspection);
  if (out.size() > ctx.options.max_collected_reply_bytes) {
    return refuse(reply_too_large("cairn.inspect", ctx.options.max_collected_reply_bytes,
                                  "the key's versions are too large to send together"));
  }
  Plan plan = answer(std::move(out));
  plan.depends_on.push_back(ctx.args[1]);
  return plan;
}

Plan cairn_peers(CommandContext& ctx) {
  if (!ctx.services.status) return no_node();
  const NodeStatus status = ctx.services.status();
  std::string out;
  reply::array_header(out, status.members.size());
  for (const NodeStatus::Member& member : status.members) {
    reply::array_header(out, 14);
    reply::bulk(out, "id");
    reply::bulk(out, hex_id(member.id));
    reply::bulk(out, "address");
    reply::bulk(out, member.address);
    reply::bulk(out, "state");
    reply::bulk(out, member.state);
    reply::bulk(out, "incarnation");
    reply::integer(out, static_cast<std::int64_t>(member.incarnation));
    reply::bulk(out, "last_heard_ms_ago");
    reply::integer(out, static_cast<std::int64_t>(member.last_heard_ms_ago));
    reply::bulk(out, "neighbour");
    reply::integer(out, member.neighbour ? 1 : 0);
    reply::bulk(out, "lag_entries");
    reply::integer(out, static_cast<std::int64_t>(member.lag_entries));
  }
  return answer(std::move(out));
}

Plan cairn_ring(CommandContext& ctx) {
  if (!ctx.services.status) return no_node();
  const NodeStatus status = ctx.services.status();
  // Ring positions are unsigned 64-bit: shown as 16 hex digits (a RESP integer is signed).
  auto positions = [](const std::vector<std::uint64_t>& ring) {
    std::vector<std::string> texts;
    for (std::uint64_t position : ring) texts.push_back(hex_id(position));
    return texts;
  };
  std::string out;
  reply::array_header(out, 1 + status.members.size());
  reply::array_header(out, 3);
  reply::bulk(out, hex_id(status.replica_id));
  reply::bulk(out, "self");
  reply::bulk_array(out, positions(status.ring_positions));
  for (const NodeStatus::Member& member : status.members) {
    reply::array_header(out, 3);
    reply::bulk(out, hex_id(member.id));
    reply::bulk(out, member.state);
    reply::bulk_array(out, positions(member.ring_positions));
  }
  return answer(std::move(out));
}

}  // namespace cairn::resp::handlers
