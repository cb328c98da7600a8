// How the `cairn` CLI and the client library report what they cannot complete: a write that was sent
// but got no reply is "outcome unknown" (exit 8), apart from "not sent" (exit 3), against a fake peer
// that stops answering and against a real cairnd stopped with SIGSTOP; a counter increment that would
// leave the int64 range is refused (exit 6) and leaves the counter as it was, and one merged past it
// by two peers reads as out_of_range (exit 6) until a decrement brings it back.
#include <signal.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "cairn/client.h"
#include "tests/client/fake_peer.h"
#include "tests/e2e/cli_test_support.h"

namespace {

using namespace cairn::test::cli_e2e;  // start_daemon, cli, cli_json, client_options, exit codes.
using cairn::test::DaemonProcess;
using cairn::test::FakePeer;
using cairn::test::ProcessResult;
using cairn::test::run_process;
using cairn::test::TempDir;

const std::string kMax = std::to_string(std::numeric_limits<std::int64_t>::max());

TEST_CASE("cairn incr past INT64_MAX exits 6 with out_of_range and leaves the counter as it was", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.str());
  CHECK(cli_json(daemon, {"incr", "n", kMax})["value"] == std::numeric_limits<std::int64_t>::max());
  const Json refused = cli_json(daemon, {"incr", "n", kMax}, kExitInvalid);
  CHECK(refused["error"]["code"] == "out_of_range");
  CHECK_THAT(refused["error"]["message"].get<std::string>(), Catch::StartsWith("increment or decrement would overflow"));
  CHECK(cli(daemon, {"counter", "n"}).out == kMax + "\n");  // Not -2: nothing was written.
  CHECK(cli(daemon, {"decr", "n", kMax}).out == "0\n");
  CHECK(cli(daemon, {"decr", "n", kMax}).exit_code == kExitOk);
  CHECK(cli(daemon, {"decr", "n", "1"}).out == std::to_string(std::numeric_limits<std::int64_t>::min()) + "\n");
  CHECK(cli(daemon, {"decr", "n", "1"}).exit_code == kExitInvalid);
}

TEST_CASE("cairn reads a counter two peers merged past INT64_MAX as out_of_range, and a decr brings it back",
          "[e2e][cli]") {
  TempDir dir_a, dir_b;
  DaemonProcess a = start_daemon(dir_a.str());
  {
    // b increments while it does not know a (each increment fits where it was made), then joins a.
    DaemonProcess alone = start_daemon(dir_b.str());
    REQUIRE(cli(alone, {"incr", "n", kMax}).exit_code == kExitOk);
  }
  REQUIRE(cli(a, {"incr", "n", kMax}).exit_code == kExitOk);
  DaemonProcess b = start_daemon(dir_b.str(), {"--seed", a.gossip_address()});

  // Once both increments reached a, its exact total is 2^64 - 2: an error, never the wrapped -2.
  Json read;
  REQUIRE(eventually([&] {
    const ProcessResult result = cli(a, {"counter", "n", "--json"});
    if (result.exit_code != kExitInvalid) return false;
    read = Json::parse(result.out);
    return true;
  }));
  CHECK(read["error"]["code"] == "out_of_range");
  CHECK_THAT(read["error"]["message"].get<std::string>(), Catch::Contains("18446744073709551614"));
  CHECK_THAT(cli(a, {"inspect", "n"}).out, Catch::Contains("value:          above " + kMax));
  const ProcessResult dumped = run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", a.data_dir()});
  CHECK(dumped.exit_code == kExitInvalid);
  CHECK(dumped.out == "n\tcounter\t(outside the int64 range)\n");

  CHECK(cli(a, {"incr", "n"}).exit_code == kExitInvalid);  // Further away: refused.
  const ProcessResult toward = cli(a, {"decr", "n"});  // Back toward the range: applied.
  CHECK(toward.exit_code == kExitOk);
  CHECK_THAT(toward.out, Catch::StartsWith("applied; counter 'n' is 18446744073709551613"));
  CHECK(cli(a, {"decr", "n", std::to_string(std::numeric_limits<std::int64_t>::max() - 1)}).out == kMax + "\n");
}

TEST_CASE("cairn exits 8 when a write was sent and no reply came, and 3 when it was not sent", "[e2e][cli]") {
  SECTION("a peer that takes the token, then the put, and never answers: outcome unknown") {
    FakePeer peer;
    peer.serve([](int connection) {
      const auto auth = FakePeer::read_request(connection);
      if (!auth) return;
      FakePeer::reply(connection, *auth, cairn::protocol::Done{});
      (void)FakePeer::read_request(connection);  // The put, never answered; closed once the CLI gave up.
      char byte = 0;
      (void)::recv(connection, &byte, 1, 0);  // Until the CLI closes its end.
    });
    const ProcessResult put =
        run_process(CAIRN_CLI_PATH, {"--connect", peer.address(), "--token", "t", "--timeout-ms", "300", "put", "k", "v"});
    peer.join();
    CHECK(put.exit_code == kExitOutcomeUnknown);
    CHECK_THAT(put.err, Catch::Contains("put was sent but no reply came"));
    CHECK_THAT(put.err, Catch::Contains("may or may not have taken effect"));
  }
  SECTION("a peer that never answers the token: the put was never sent") {
    FakePeer peer;  // Never accepts; the kernel takes the auth request.
    const ProcessResult put =
        run_process(CAIRN_CLI_PATH, {"--connect", peer.address(), "--token", "t", "--timeout-ms", "300", "put", "k", "v"});
    CHECK(put.exit_code == kExitUnavailable);
  }
  SECTION("nothing listening: not sent") {
    std::string address;
    { address = FakePeer().address(); }  // Bound, then closed.
    const ProcessResult put = run_process(CAIRN_CLI_PATH, {"--connect", address, "--token", "t", "put", "k", "v"});
    CHECK(put.exit_code == kExitUnavailable);
  }
}

TEST_CASE("client: a put to a stopped cairnd is outcome unknown, and it commits once the daemon resumes", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.str());
  cairn::ClientOptions options = client_options(daemon);
  options.timeout_ms = 300;
  auto client = cairn::Client::connect(options);
  REQUIRE(client.has_value());

  REQUIRE(kill(daemon.pid(), SIGSTOP) == 0);
  // Resumed however this test ends, so the daemon can be stopped cleanly.
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{daemon.pid()};
  const cairn::Status put = (*client)->put("k", "written while stopped");
  REQUIRE_FALSE(put.has_value());
  INFO(put.error().to_string());
  CHECK(put.error().code() == cairn::ErrorCode::kOutcomeUnknown);  // Not "unavailable": it was sent.
  REQUIRE(kill(daemon.pid(), SIGCONT) == 0);

  // The daemon had the request in its socket buffer: it runs it once it resumes.
  CHECK(eventually([&] { return cli(daemon, {"get", "k"}).out == "written while stopped\n"; }));
}

}  // namespace
