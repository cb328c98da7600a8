// The change feed end to end (docs/watch.md): `cairn watch --since` and Client::watch_from against a
// real cairnd resume exactly after the position they last saw, and an expired position exits 9.
#include <signal.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cairn/client.h"
#include "tests/e2e/cli_test_support.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace cairn::test::cli_e2e;
using cairn::test::BackgroundProcess;
using cairn::test::DaemonProcess;
using cairn::test::TempDir;

constexpr int kExitPositionExpired = 9;

// The JSON lines a `cairn watch --json` printed.
std::vector<Json> watch_lines(const std::string& out) {
  std::vector<Json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) events.push_back(Json::parse(line));
  }
  return events;
}

std::vector<std::string> keys_of(const std::vector<Json>& events) {
  std::vector<std::string> keys;
  for (const Json& event : events) keys.push_back(event["key"].get<std::string>());
  return keys;
}

// Runs `cairn watch PREFIX --since POSITION --json` until it printed `count` events; returns them.
std::vector<Json> watch_until(const DaemonProcess& daemon, const std::string& prefix, const std::string& since,
                              std::size_t count) {
  BackgroundProcess watch(CAIRN_CLI_PATH, {"--connect", daemon.client_address(), "--data-dir", daemon.data_dir(),
                                           "watch", prefix, "--since", since, "--json"});
  REQUIRE(eventually([&] { return watch_lines(watch.out()).size() >= count; }));
  watch.kill_and_reap(SIGTERM);
  return watch_lines(watch.out());
}

TEST_CASE("cairn watch --since resumes after the last position: every change once, in order", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  REQUIRE(cli(daemon, {"put", "w:1", "one"}).exit_code == kExitOk);
  REQUIRE(cli(daemon, {"sadd", "w:s", "m"}).exit_code == kExitOk);
  REQUIRE(cli(daemon, {"put", "other", "x"}).exit_code == kExitOk);
  // From the oldest change kept: the two changes under the prefix.
  const auto first = watch_until(daemon, "w:", "", 2);
  REQUIRE(keys_of(first) == std::vector<std::string>{"w:1", "w:s"});
  CHECK(first[0]["op"] == "put");
  CHECK(first[0]["value"] == "one");
  CHECK(first[1]["op"] == "sadd");
  CHECK(first[1]["member"] == "m");
  // "Disconnected": more writes, then resume from the last position seen.
  REQUIRE(cli(daemon, {"incr", "w:c", "5"}).exit_code == kExitOk);
  REQUIRE(cli(daemon, {"del", "w:1"}).exit_code == kExitOk);
  const auto resumed = watch_until(daemon, "w:", first.back()["position"].get<std::string>(), 2);
  REQUIRE(keys_of(resumed) == std::vector<std::string>{"w:c", "w:1"});
  CHECK(resumed[0]["value"] == "5");
  CHECK(resumed[1]["op"] == "del");
  CHECK(resumed[1]["deleted"] == true);
  // A malformed position is a usage-level refusal (exit 6), not a crash.
  CHECK(cli(daemon, {"watch", "w:", "--since", "garbage"}).exit_code == kExitInvalid);
}

TEST_CASE("cairn watch --since an expired position exits 9 and says how to start over", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string(), {"--change-feed-max-changes", "3"});
  REQUIRE(cli(daemon, {"put", "k0", "v"}).exit_code == kExitOk);
  const auto first = watch_until(daemon, "", "", 1);
  for (int i = 1; i < 8; ++i) REQUIRE(cli(daemon, {"put", "k" + std::to_string(i), "v"}).exit_code == kExitOk);
  const auto result = cli(daemon, {"watch", "", "--since", first[0]["position"].get<std::string>()});
  CHECK(result.exit_code == kExitPositionExpired);
  CHECK_THAT(result.err, Catch::Contains("too old") && Catch::Contains("cairn export"));
}

TEST_CASE("Client::watch_from after a reconnect gets exactly the changes it missed, then live ones", "[e2e][client]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  std::vector<cairn::WatchEvent> seen;
  {
    auto client = cairn::Client::connect(client_options(daemon));
    REQUIRE(client);
    auto writer = cairn::Client::connect(client_options(daemon));
    REQUIRE(writer);
    for (int i = 0; i < 3; ++i) REQUIRE((*writer)->put("r" + std::to_string(i), "v"));
    REQUIRE((*client)->watch_from("r", "", [&](const cairn::WatchEvent& event) {
      seen.push_back(event);
      return seen.size() < 3;
    }));
  }  // The connection ends.
  REQUIRE(seen.size() == 3);
  auto writer = cairn::Client::connect(client_options(daemon));
  REQUIRE(writer);
  for (int i = 3; i < 30; ++i) REQUIRE((*writer)->put("r" + std::to_string(i), "v"));
  auto client = cairn::Client::connect(client_options(daemon));
  REQUIRE(client);
  std::vector<std::string> keys;
  bool wrote_live = false;
  REQUIRE((*client)->watch_from("r", seen.back().position, [&](const cairn::WatchEvent& event) {
    keys.push_back(event.key);
    if (keys.size() == 27 && !wrote_live) {
      wrote_live = true;
      REQUIRE((*writer)->put("r30", "live"));
    }
    return keys.size() < 28;
  }));
  REQUIRE(keys.size() == 28);
  for (int i = 0; i < 28; ++i) CHECK(keys[i] == "r" + std::to_string(i + 3));
}

}  // namespace
