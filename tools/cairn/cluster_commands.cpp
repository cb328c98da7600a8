// peers, ring, stats, watch, retire: the peer and its view of the cluster.
#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>

#include "src/metrics/prometheus.h"
#include "tools/cairn/commands.h"
#include "tools/cairn/exit_codes.h"

namespace cairn::cli {
namespace {

// A ring position as 16 hex digits, like replica ids.
std::string position_text(std::uint64_t position) { return hex_id(position); }

// The peer answering, as a row of the member table: always alive, never heard from or lagging.
NodeStatus::Member self_member(const NodeStatus& status) {
  NodeStatus::Member self;
  self.id = status.replica_id;
  self.address = status.address;
  self.state = "alive";
  self.incarnation = status.incarnation;
  self.ring_positions = status.ring_positions;
  return self;
}

// The answering peer first, then the members it knows.
std::vector<NodeStatus::Member> peer_rows(const NodeStatus& status) {
  std::vector<NodeStatus::Member> rows{self_member(status)};
  rows.insert(rows.end(), status.members.begin(), status.members.end());
  return rows;
}

// Said when this peer expects company (seeds, or members that did not leave) and reaches nobody.
std::string isolation_line(const NodeStatus& status) {
  const std::string how_long = std::to_string(status.isolated_ms / 1000) + " s";
  if (status.seeds.empty()) return "no member reachable for " + how_long + ": every member this peer knows is dead";
  std::string seeds;
  for (const std::string& seed : status.seeds) seeds += (seeds.empty() ? "" : ", ") + seed;
  return "no member reachable for " + how_long + ": no answer from " +
         (status.seeds.size() == 1 ? "seed " : "seeds ") + seeds +
         " (check the address, the cluster name and the cluster key; the seed's log says why it drops frames)";
}

void print_peers(const Context& context, const NodeStatus& status) {
  const std::vector<NodeStatus::Member> rows = peer_rows(status);
  if (context.out.json()) {
    Json peers = Json::array();
    for (const NodeStatus::Member& member : rows) {
      Json positions = Json::array();
      for (std::uint64_t position : member.ring_positions) positions.push_back(position_text(position));
      peers.push_back(Json{{"id", hex_id(member.id)},
                           {"self", member.id == status.replica_id},
                           {"address", member.address},
                           {"state", member.state},
                           {"incarnation", member.incarnation},
                           {"last_heard_ms_ago", member.last_heard_ms_ago},
                           {"neighbour", member.neighbour},
                           {"lag_entries", member.lag_entries},
                           {"ring_positions", positions}});
    }
    Json pending = Json::array();
    for (const NodeStatus::PendingRetirement& retirement : status.pending_retirements) {
      Json waiting = Json::array();
      for (std::uint64_t member : retirement.waiting_for) waiting.push_back(hex_id(member));
      pending.push_back(Json{{"replica", hex_id(retirement.replica)},
                             {"proposed_ms_ago", retirement.proposed_ms_ago},
                             {"by_operator", retirement.by_operator},
                             {"waiting_for", waiting}});
    }
    context.out.document(Json{{"self", hex_id(status.replica_id)},
                              {"peers", peers},
                              {"pending_retirements", pending},
                              {"seeds", status.seeds},
                              {"isolated", status.isolated},
                              {"isolated_ms", status.isolated_ms}});
    return;
  }
  context.out.line("this peer: " + hex_id(status.replica_id) + " (marked *)");
  if (status.isolated) context.out.line(isolation_line(status));
  char line[256];
  std::snprintf(line, sizeof line, "  %-16s  %-21s  %-7s  %11s  %10s  %-16s  %s", "ID", "ADDRESS", "STATE",
                "INCARNATION", "LAST HEARD", "RING (first)", "LAG");
  context.out.line(line);
  for (const NodeStatus::Member& member : rows) {
    const bool self = member.id == status.replica_id;
    const std::string heard = member.last_heard_ms_ago == 0
                                  ? "-"
                                  : metrics::format_sample_value(static_cast<double>(member.last_heard_ms_ago) / 1000.0) + "s";
    const std::string ring = member.ring_positions.empty() ? "-" : position_text(member.ring_positions.front());
    const std::string lag = self ? "- (this peer)" : member.neighbour ? std::to_string(member.lag_entries) : "- (not a neighbour)";
    std::snprintf(line, sizeof line, "%s %-16s  %-21s  %-7s  %11" PRIu64 "  %10s  %-16s  %s", self ? "*" : " ",
                  hex_id(member.id).c_str(), member.address.c_str(), member.state.c_str(), member.incarnation,
                  heard.c_str(), ring.c_str(), lag.c_str());
    context.out.line(line);
  }
  if (status.members.empty() && !status.isolated) {
    context.out.line("no other peers known (a single-peer cluster until one joins with --seed)");
  }
  for (const NodeStatus::PendingRetirement& retirement : status.pending_retirements) {
    std::string waiting;
    for (std::uint64_t member : retirement.waiting_for) {
      waiting += (waiting.empty() ? "" : ", ") + (member == status.replica_id ? "this peer (a gap in its dots)" : hex_id(member));
    }
    context.out.line("retirement of " + hex_id(retirement.replica) + " (" +
                     (retirement.by_operator ? "asked by an operator" : "dead past the horizon") +
                     ") waits for: " + (waiting.empty() ? "nothing, decided on the next tick" : waiting));
  }
}

void print_ring(const Context& context, const NodeStatus& status) {
  struct Slot {
    std::uint64_t position;
    std::uint64_t replica;
    std::string state;
  };
  std::vector<Slot> slots;
  for (std::uint64_t position : status.ring_positions) slots.push_back({position, status.replica_id, "self"});
  for (const NodeStatus::Member& member : status.members) {
    for (std::uint64_t position : member.ring_positions) slots.push_back({position, member.id, member.state});
  }
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) { return a.position < b.position; });
  const auto is_neighbour = [&](std::uint64_t replica) {
    return std::find(status.neighbours.begin(), status.neighbours.end(), replica) != status.neighbours.end();
  };
  if (context.out.json()) {
    Json ring = Json::array();
    for (const Slot& slot : slots) {
      ring.push_back(Json{{"position", position_text(slot.position)},
                          {"replica", hex_id(slot.replica)},
                          {"self", slot.replica == status.replica_id},
                          {"neighbour", is_neighbour(slot.replica)}});
    }
    Json neighbours = Json::array();
    for (std::uint64_t neighbour : status.neighbours) neighbours.push_back(hex_id(neighbour));
    context.out.document(Json{{"self", hex_id(status.replica_id)}, {"neighbours", neighbours}, {"ring", ring}});
    return;
  }
  context.out.line("ring positions in order (" + std::to_string(slots.size()) + "); * = this peer, n = a gossip neighbour");
  for (const Slot& slot : slots) {
    const char* mark = slot.replica == status.replica_id ? "*" : is_neighbour(slot.replica) ? "n" : " ";
    context.out.line(position_text(slot.position) + "  " + mark + " " + hex_id(slot.replica));
  }
}

void print_stats(const Context& context, const std::vector<MetricSample>& samples) {
  if (context.out.json()) {
    Json metrics = Json::array();
    for (const MetricSample& sample : samples) {
      Json labels = Json::object();
      for (const auto& [name, value] : sample.labels) labels[name] = value;
      metrics.push_back(Json{{"name", sample.name},
                             {"type", sample.type == MetricType::kCounter ? "counter" : "gauge"},
                             {"labels", labels},
                             {"value", sample.value}});
    }
    context.out.document(Json{{"metrics", metrics}});
    return;
  }
  for (const MetricSample& sample : samples) context.out.line(metrics::format_sample_line(sample));
}

}  // namespace

int peers_command(Context& context) {
  return with_client(context, [&](Client& client) -> Status {
    auto status = client.status();
    if (!status) return tl::unexpected(status.error());
    print_peers(context, *status);
    return ok();
  });
}

int ring_command(Context& context) {
  return with_client(context, [&](Client& client) -> Status {
    auto status = client.status();
    if (!status) return tl::unexpected(status.error());
    print_ring(context, *status);
    return ok();
  });
}

int stats_command(Context& context) {
  return with_client(context, [&](Client& client) -> Status {
    auto samples = client.stats();
    if (!samples) return tl::unexpected(samples.error());
    print_stats(context, *samples);
    return ok();
  });
}

namespace {

void print_watch_event(Context& context, const WatchEvent& event) {
  const char* op = event.op ? to_string(*event.op) : "change";
  if (context.out.json()) {
    Json json;
    put_bytes(json, "key", event.key);
    json["type"] = to_string(event.kind);
    json["op"] = op;
    if (event.op == ChangeOp::kSadd || event.op == ChangeOp::kSrem) put_bytes(json, "member", event.member);
    if (event.op == ChangeOp::kPut) put_bytes(json, "value", event.value);
    if (event.op == ChangeOp::kCounter) json["value"] = event.value;
    json["origin"] = event.local ? "local" : "replicated";
    json["deleted"] = event.deleted;
    json["position"] = event.position;
    context.out.document(json);
  } else {
    std::string detail;
    if (event.op == ChangeOp::kSadd || event.op == ChangeOp::kSrem) detail = "  " + printable(event.member);
    if (event.op == ChangeOp::kPut || event.op == ChangeOp::kCounter) detail = "  " + printable(event.value);
    context.out.line(printable(event.key) + "  " + to_string(event.kind) + "  " +
                     (event.local ? "local" : "replicated") + (event.deleted ? "  deleted" : "") + "  " + op +
                     detail + "  @" + event.position);
  }
  std::fflush(stdout);  // Changes show as they happen, also through a pipe.
}

}  // namespace

int watch_command(Context& context, const std::string& prefix, const std::optional<std::string>& since) {
  return with_client(context, [&](Client& client) -> Status {
    if (!context.out.json()) {
      std::fprintf(stderr, "watching keys starting with '%s' on %s%s (Ctrl-C to stop)\n", printable(prefix).c_str(),
                   client.address().c_str(), since ? ", resuming" : "");
    }
    const auto each = [&](const WatchEvent& event) {
      print_watch_event(context, event);
      return true;
    };
    Status watched = since ? client.watch_from(prefix, *since, each) : client.watch(prefix, each);
    if (!watched && watched.error().code() == ErrorCode::kPositionExpired) {
      // Say what to do, not only what went wrong: the feed cannot fill the gap, a snapshot can.
      return fail(ErrorCode::kPositionExpired,
                  watched.error().message() +
                      ". To start over: note a position (`cairn watch --since ''` prints the oldest kept), read the "
                      "keys (`cairn export`), then `cairn watch --since POSITION`");
    }
    return watched;
  });
}

std::optional<std::uint64_t> parse_replica_id(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  // from_chars would take a sign; a replica id has none, and has at most 16 digits.
  if (text.empty() || text.size() > 16 || text.front() == '-' || text.front() == '+') return std::nullopt;
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id, 16);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

int retire_command(Context& context, std::uint64_t replica) {
  return with_client(context, [&](Client& client) -> Status {
    if (auto proposed = client.retire(replica); !proposed) return proposed;
    if (context.out.json()) {
      context.out.document(Json{{"replica", hex_id(replica)}, {"proposed", true}});
    } else {
      context.out.line("retirement of " + hex_id(replica) +
                       " proposed: it is decided once every peer that may hold its writes agrees on its last write "
                       "(`cairn peers` shows what it waits for); a retired peer that comes back re-issues its "
                       "unsynced writes under a new id");
    }
    return ok();
  });
}

}  // namespace cairn::cli
