// What GET /health and NodeStatus::health say, from the inputs the node gathers (src/node/health.h).
#include <catch2/catch.hpp>

#include "src/node/health.h"

namespace cairn::node {
namespace {

HealthInputs healthy_at(std::uint64_t now_ms) {
  HealthInputs inputs;
  inputs.now_ms = now_ms;
  inputs.data_lane_progress_ms = now_ms - 40;
  inputs.membership_lane_progress_ms = now_ms - 10;
  return inputs;
}

TEST_CASE("health: a peer alone with no seeds and nothing failing is ok, also when asked strictly") {
  const Health health = assess_health(healthy_at(100'000));
  CHECK(health.status == "ok");
  CHECK(health.reasons.empty());
  CHECK(health_http_status(health, false) == 200);
  CHECK(health_http_status(health, true) == 200);
}

TEST_CASE("health: seeds that never answer make the peer degraded, 200 unless asked strictly") {
  HealthInputs inputs = healthy_at(100'000);
  inputs.seeds = {"127.0.0.1:7400", "127.0.0.1:7410"};
  inputs.isolated_since_ms = 88'000;
  const Health health = assess_health(inputs);
  CHECK(health.status == "degraded");
  REQUIRE(health.reasons.size() == 1);
  CHECK(health.reasons[0] == "no seed or member reachable for 12 s (seeds: 127.0.0.1:7400, 127.0.0.1:7410)");
  CHECK(health_http_status(health, false) == 200);
  CHECK(health_http_status(health, true) == 503);

  inputs.seeds.clear();  // Remembered members, all dead.
  CHECK(assess_health(inputs).reasons.at(0) == "no member reachable for 12 s (every member this peer knows is dead)");
}

TEST_CASE("health: failing writes degrade the peer with the store's error, and a fatal store error makes it unavailable") {
  HealthInputs inputs = healthy_at(100'000);
  inputs.writes.failing = true;
  inputs.writes.failed_commits = 3;
  inputs.writes.episodes = 1;
  inputs.writes.last_error = "commit: no space left on device (the filesystem holding /d is full)";
  inputs.writes_failing_since_ms = 95'000;
  Health health = assess_health(inputs);
  CHECK(health.status == "degraded");
  REQUIRE(health.reasons.size() == 1);
  CHECK(health.reasons[0] ==
        "writes failing for 5 s (3 commits failed since start): commit: no space left on device (the filesystem "
        "holding /d is full)");
  CHECK(health_http_status(health, false) == 200);

  inputs.writes.fatal = true;
  health = assess_health(inputs);
  CHECK(health.status == "unavailable");
  CHECK(health.reasons.at(0).find("until the peer restarts") != std::string::npos);
  CHECK(health_http_status(health, false) == 503);

  inputs.writes = WriteHealth{};  // Recovered: failures in the past do not count.
  inputs.writes.failed_commits = 3;
  inputs.writes.episodes = 1;
  CHECK(assess_health(inputs).status == "ok");
}

TEST_CASE("health: a stalled lane degrades the peer and says which") {
  HealthInputs inputs = healthy_at(100'000);
  inputs.data_lane_progress_ms = 100'000 - kDataLaneStalledAfterMs;
  Health health = assess_health(inputs);
  CHECK(health.status == "degraded");
  REQUIRE(health.reasons.size() == 1);
  CHECK(health.reasons[0].rfind("protocol worker stalled: its last step finished 10 s ago", 0) == 0);

  inputs = healthy_at(100'000);
  inputs.data_lane_progress_ms = 100'000 - kDataLaneStalledAfterMs + 1;  // Slow, not stalled.
  inputs.membership_lane_progress_ms = 100'000 - kMembershipLaneStalledAfterMs;
  health = assess_health(inputs);
  REQUIRE(health.reasons.size() == 1);
  CHECK(health.reasons[0].rfind("failure detector stalled", 0) == 0);

  inputs = healthy_at(100'000);
  inputs.data_lane_progress_ms = 0;  // Not started yet: nothing to judge.
  inputs.membership_lane_progress_ms = 0;
  CHECK(assess_health(inputs).status == "ok");
}

TEST_CASE("health: every reason is listed when several hold") {
  HealthInputs inputs = healthy_at(100'000);
  inputs.seeds = {"127.0.0.1:7400"};
  inputs.isolated_since_ms = 99'000;
  inputs.writes.failing = true;
  inputs.writes.last_error = "commit: MDB_MAP_FULL: Environment mapsize limit reached";
  inputs.data_lane_progress_ms = 1;
  const Health health = assess_health(inputs);
  CHECK(health.status == "degraded");
  CHECK(health.reasons.size() == 3);
}

TEST_CASE("health: strict is asked for by a query parameter") {
  CHECK(strict_health_requested("strict=1"));
  CHECK(strict_health_requested("strict"));
  CHECK(strict_health_requested("strict=true"));
  CHECK(strict_health_requested("x=2&strict=1"));
  CHECK_FALSE(strict_health_requested(""));
  CHECK_FALSE(strict_health_requested("strict=0"));
  CHECK_FALSE(strict_health_requested("nonstrict=1"));
}

}  // namespace
}  // namespace cairn::node
