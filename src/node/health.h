// What GET /health answers and NodeStatus::health says: "ok", "degraded" or "unavailable", and why
// (docs/observability.md). Pure: the node gathers the inputs from its published snapshot and the
// lanes' progress, at request time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/store.h"

namespace cairn::node {

// A lane that has not finished a step for this long is stalled. The data lane may legitimately take
// seconds on a 16 MiB merge on a slow disk; the membership lane does no I/O at all.
inline constexpr std::uint64_t kDataLaneStalledAfterMs = 10'000;
inline constexpr std::uint64_t kMembershipLaneStalledAfterMs = 5'000;

struct HealthInputs {
  std::uint64_t now_ms = 0;
  WriteHealth writes;
  std::uint64_t writes_failing_since_ms = 0;  // When this node saw the current episode begin.
  std::optional<std::uint64_t> isolated_since_ms;
  std::vector<std::string> seeds;
  // When each lane last finished a step (a tick), on the same clock as now_ms.
  std::uint64_t data_lane_progress_ms = 0;
  std::uint64_t membership_lane_progress_ms = 0;
};

struct Health {
  std::string status = "ok";  // "ok", "degraded" or "unavailable".
  std::vector<std::string> reasons;
};

Health assess_health(const HealthInputs& inputs);

// 503 for "unavailable", and for "degraded" when `strict`; 200 otherwise (an edge peer alone, or a
// peer whose disk is full, still serves reads: a load balancer must not drop it unless asked to).
int health_http_status(const Health& health, bool strict);

// True when the query string asks for strict health: "strict", "strict=1" or "strict=true" among its
// '&'-separated parameters.
bool strict_health_requested(std::string_view query);

}  // namespace cairn::node
