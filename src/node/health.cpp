#include "src/node/health.h"

#include <utility>

#include "src/node/isolation_log.h"

namespace cairn::node {
namespace {

std::uint64_t since(std::uint64_t now_ms, std::uint64_t then_ms) { return now_ms > then_ms ? now_ms - then_ms : 0; }

void degrade(Health& health, std::string reason) {
  if (health.status == "ok") health.status = "degraded";
  health.reasons.push_back(std::move(reason));
}

void assess_writes(const HealthInputs& in, Health& health) {
  if (in.writes.fatal) {
    health.status = "unavailable";
    health.reasons.push_back("writes cannot succeed until the peer restarts: the store reported a fatal error (" +
                             in.writes.last_error + ")");
    return;
  }
  if (!in.writes.failing) return;
  const std::string how_long =
      in.writes_failing_since_ms == 0 ? "" : " for " + duration_text(since(in.now_ms, in.writes_failing_since_ms));
  degrade(health, "writes failing" + how_long + " (" + std::to_string(in.writes.failed_commits) +
                      " commits failed since start): " + in.writes.last_error);
}

void assess_reachability(const HealthInputs& in, Health& health) {
  if (!in.isolated_since_ms) return;
  const std::string how_long = duration_text(since(in.now_ms, *in.isolated_since_ms));
  if (in.seeds.empty()) {
    degrade(health, "no member reachable for " + how_long + " (every member this peer knows is dead)");
    return;
  }
  std::string seeds;
  for (const std::string& seed : in.seeds) seeds += (seeds.empty() ? "" : ", ") + seed;
  degrade(health, "no seed or member reachable for " + how_long + " (seeds: " + seeds + ")");
}

void assess_lanes(const HealthInputs& in, Health& health) {
  const std::uint64_t data_idle = since(in.now_ms, in.data_lane_progress_ms);
  if (in.data_lane_progress_ms != 0 && data_idle >= kDataLaneStalledAfterMs) {
    degrade(health, "protocol worker stalled: its last step finished " + duration_text(data_idle) +
                        " ago (a merge or a disk write may be stuck); replication waits");
  }
  const std::uint64_t membership_idle = since(in.now_ms, in.membership_lane_progress_ms);
  if (in.membership_lane_progress_ms != 0 && membership_idle >= kMembershipLaneStalledAfterMs) {
    degrade(health, "failure detector stalled: its last tick finished " + duration_text(membership_idle) +
                        " ago; other peers may soon consider this one dead");
  }
}

}  // namespace

Health assess_health(const HealthInputs& inputs) {
  Health health;
  assess_writes(inputs, health);
  assess_reachability(inputs, health);
  assess_lanes(inputs, health);
  return health;
}

int health_http_status(const Health& health, bool strict) {
  if (health.status == "unavailable") return 503;
  if (health.status == "degraded" && strict) return 503;
  return 200;
}

bool strict_health_requested(std::string_view query) {
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    const std::string_view parameter = query.substr(0, end);
    if (parameter == "strict" || parameter == "strict=1" || parameter == "strict=true") return true;
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace cairn::node
