// The partition count with real cairnd processes on 127.0.0.1 (docs/partitions.md): a peer whose store
// has another count never joins and never exchanges a key, and both logs say why; a data directory
// restarted with another --partitions is refused at startup.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/daemon_process.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/run_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::DaemonProcess;
using test::eventually;

std::vector<std::string> partition_peer_args(const std::string& data_dir, std::vector<std::string> extra) {
  std::vector<std::string> args{"--data-dir", data_dir, "--gossip-port", "0", "--gossip-interval-ms", "100",
                                "--log-level", "info", "--cluster-key-file", test::shared_cluster_key_file()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

double partition_metric(const DaemonProcess& daemon, const std::string& sample) {
  const test::HttpAnswer answer = test::http_get(daemon.http_port(), "/metrics");
  const auto at = answer.body.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(answer.body.substr(at + sample.size() + 2));
}

TEST_CASE("partitions e2e: a peer with another partition count is refused on both sides and never merged") {
  test::TempDir dir;
  DaemonProcess seed(CAIRND_PATH, partition_peer_args(dir.str() + "/seed", {}), dir.str() + "/seed.log");
  DaemonProcess other(CAIRND_PATH,
                      partition_peer_args(dir.str() + "/other", {"--partitions", "64", "--seed", seed.gossip_address()}),
                      dir.str() + "/other.log");
  const test::ProcessResult put = test::run_process(
      CAIRN_CLI_PATH, {"--connect", other.client_address(), "--data-dir", other.data_dir(), "put", "from-other", "x"});
  REQUIRE(put.exit_code == 0);
  const std::string refused = "dropped a frame from a peer with another partition count";
  CHECK(eventually([&] {
    return seed.log().find("has 64 partitions; this peer has 256: refused, never merged") != std::string::npos;
  }, std::chrono::seconds(10)));
  CHECK(eventually([&] {
    return other.log().find("has 256 partitions; this peer has 64: refused, never merged") != std::string::npos;
  }, std::chrono::seconds(10)));
  CHECK(seed.log().find(refused) != std::string::npos);
  CHECK(other.log().find(refused) != std::string::npos);
  const std::string sample = "cairn_frames_dropped_total{reason=\"other_partition_count\"}";
  // The metrics page shows the status the node publishes periodically, so a drop the log already
  // shows can take a publishing interval to be counted there.
  CHECK(eventually([&] { return partition_metric(seed, sample) > 0; }, std::chrono::seconds(5)));
  CHECK(eventually([&] { return partition_metric(other, sample) > 0; }, std::chrono::seconds(5)));
  CHECK(partition_metric(seed, "cairn_peers{state=\"alive\"}") == 0);
  CHECK(partition_metric(other, "cairn_peers{state=\"alive\"}") == 0);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // Ten gossip intervals more.
  seed.stop();
  other.stop();
  // The write never crossed.
  CHECK(test::read_register(dir.str() + "/other", "from-other") == "x");
  CHECK(test::read_register(dir.str() + "/seed", "from-other").rfind("<not_found", 0) == 0);
}

TEST_CASE("partitions e2e: a data directory started with another --partitions is refused at startup") {
  test::TempDir dir;
  {
    DaemonProcess first(CAIRND_PATH, partition_peer_args(dir.str() + "/data", {"--partitions", "16"}));
    first.stop();
  }
  const test::ProcessResult refused =
      test::run_process(CAIRND_PATH, partition_peer_args(dir.str() + "/data", {"--partitions", "64"}));
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("created with 16 partitions and cannot change to 64") != std::string::npos);
  const test::ProcessResult odd = test::run_process(CAIRND_PATH, partition_peer_args(dir.str() + "/new", {"--partitions", "100"}));
  CHECK(odd.exit_code != 0);
  CHECK(odd.err.find("power of two") != std::string::npos);
}

}  // namespace
}  // namespace cairn
