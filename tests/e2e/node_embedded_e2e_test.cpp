// examples/node_embedded against a real cairnd: the example writes offline, starts a cairn::Node that
// joins the daemon, and syncs both ways. The daemon runs on 127.0.0.1 with ephemeral ports and is
// stopped by its PID when the test ends, also when it fails.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "tests/e2e/daemon_process.h"
#include "tests/e2e/run_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::DaemonProcess;
using test::eventually;
using test::read_register;
using test::run_process;

TEST_CASE("examples/node_embedded writes offline, then syncs both ways with a running cairnd") {
  test::TempDir dir;
  const std::string daemon_dir = (dir.path() / "daemon").string();
  const std::string app_dir = (dir.path() / "app").string();
  DaemonProcess daemon(CAIRND_PATH, {"--data-dir", daemon_dir, "--gossip-port", "0", "--cluster", "embedded-e2e",
                                     "--gossip-interval-ms", "100", "--cluster-key-file",
                                     test::shared_cluster_key_file()});
  // A write on the daemon, before the app exists: the app must receive it once it joins.
  const auto put = run_process(CAIRN_CLI_PATH, {"--connect", daemon.client_address(), "--data-dir", daemon_dir,
                                                "put", "cloud/greeting", "hello from cairnd"});
  INFO(put.err);
  REQUIRE(put.exit_code == 0);

  const auto app = run_process(NODE_EMBEDDED_PATH,
                               {"--data-dir", app_dir, "--seed", daemon.gossip_address(), "--cluster",
                                "embedded-e2e", "--cluster-key-file", test::shared_cluster_key_file(),
                                "--wait-for", "cloud/greeting", "--timeout-ms", "30000"},
                               std::chrono::seconds(45));
  INFO("stdout: " << app.out << "\nstderr: " << app.err);
  CHECK(app.exit_code == 0);
  CHECK(app.out.find("wrote 3 keys offline") != std::string::npos);
  CHECK(app.out.find("received cloud/greeting = hello from cairnd") != std::string::npos);

  // The app's offline write is on the daemon (read from its data directory, read-only, beside it).
  CHECK(eventually([&] { return read_register(daemon_dir, "edge/note") == "written offline"; },
                   std::chrono::seconds(10)));
}

}  // namespace
}  // namespace cairn
