// Misconfiguration is loud (issue 13, item 5) and /health means healthy (item 6), with real cairnd
// processes on 127.0.0.1: peers started with another cluster name, another cluster key, or --insecure
// cannot join a seed; the seed logs who sends the frames it drops and why (rate-limited), each of them
// says within seconds that its seed does not answer, and /health and `cairn peers` say it reaches
// nobody. A lone edge peer stays "ok".
#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
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

using Json = nlohmann::json;
using test::DaemonProcess;
using test::eventually;

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

std::vector<std::string> peer_args(const std::string& data_dir, std::vector<std::string> extra,
                                   const std::string& gossip_port = "0") {
  std::vector<std::string> args{"--data-dir", data_dir, "--gossip-port", gossip_port, "--log-level", "info"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The /metrics sample `name` (e.g. cairn_frames_dropped_total{reason="unsealed"}); -1 when absent.
double metric(const DaemonProcess& daemon, const std::string& sample) {
  const test::HttpAnswer answer = test::http_get(daemon.http_port(), "/metrics");
  const auto at = answer.body.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(answer.body.substr(at + sample.size() + 2));
}

test::ProcessResult cli(const DaemonProcess& daemon, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"--connect", daemon.client_address(), "--data-dir", daemon.data_dir()});
  return test::run_process(CAIRN_CLI_PATH, arguments);
}

TEST_CASE("health e2e: peers that cannot join are named in the seed's log, and say so themselves") {
  test::TempDir dir;
  const std::string key_file = test::shared_cluster_key_file();
  const std::string other_key_file =
      test::write_cluster_key_file(dir.str() + "/other.key", test::random_cluster_key_hex());
  DaemonProcess seed(CAIRND_PATH, peer_args(dir.str() + "/seed", {"--cluster", "right", "--cluster-key-file", key_file}),
                     dir.str() + "/seed.log");
  const std::string seed_address = seed.gossip_address();
  DaemonProcess wrong_name(CAIRND_PATH,
                           peer_args(dir.str() + "/wrong-name", {"--cluster", "wrong", "--cluster-key-file", key_file,
                                                                 "--seed", seed_address}),
                           dir.str() + "/wrong-name.log");
  DaemonProcess wrong_key(CAIRND_PATH,
                          peer_args(dir.str() + "/wrong-key", {"--cluster", "right", "--cluster-key-file",
                                                               other_key_file, "--seed", seed_address}),
                          dir.str() + "/wrong-key.log");
  DaemonProcess insecure(CAIRND_PATH,
                         peer_args(dir.str() + "/insecure", {"--cluster", "right", "--insecure", "--seed", seed_address}),
                         dir.str() + "/insecure.log");

  // Each one says, within seconds, that its seed does not answer.
  const std::string no_answer = "no answer from seed " + seed_address + " after 3 s; still trying every 5 s";
  for (const DaemonProcess* lost : {&wrong_name, &wrong_key, &insecure}) {
    CHECK(eventually([&] { return lost->log().find(no_answer) != std::string::npos; }, std::chrono::seconds(10)));
  }

  // The seed names each sender and what to do; the datagrams come from the senders' gossip ports.
  const auto seed_logged = [&](const DaemonProcess& sender, const std::string& what) {
    const std::string log = seed.log();
    const std::string line_end = "; from " + sender.gossip_address();
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) {
      const auto end = log.find('\n', at);
      if (log.substr(at, end - at).find(line_end) != std::string::npos) return true;
    }
    return false;
  };
  CHECK(eventually([&] {
    return seed_logged(wrong_name, "dropped a frame for another cluster (replica " + wrong_name.replica() +
                                       " listening at " + wrong_name.gossip_address()) &&
           seed_logged(wrong_key, "dropped a frame sealed with an unknown key") &&
           seed_logged(insecure, "dropped an unsealed frame: this peer requires sealed frames");
  }));
  CHECK(seed.log().find("this peer is in cluster 'right'") != std::string::npos);

  // Rate-limited: the joiners ping again every 5 s, yet each (sender, reason) has one line a minute.
  REQUIRE(eventually([&] { return metric(seed, "cairn_frames_dropped_total{reason=\"other_cluster\"}") >= 2; }));
  REQUIRE(eventually([&] { return metric(seed, "cairn_frames_dropped_total{reason=\"unsealed\"}") >= 2; }));
  const std::string seed_log = seed.log();
  CHECK(count_of(seed_log, "for another cluster") == 1);
  CHECK(count_of(seed_log, "unsealed frame:") == 1);
  CHECK(count_of(seed_log, "unknown key") == 1);

  // /health of a peer that reaches nobody: degraded and why, still 200 unless asked strictly.
  const test::HttpAnswer health = test::http_get(wrong_name.http_port(), "/health");
  CHECK(health.status == 200);
  const Json body = Json::parse(health.body);
  CHECK(body.at("status") == "degraded");
  REQUIRE(body.at("reasons").size() == 1);
  CHECK(body.at("reasons")[0].get<std::string>().rfind("no seed or member reachable for ", 0) == 0);
  CHECK(body.at("reasons")[0].get<std::string>().find("(seeds: " + seed_address + ")") != std::string::npos);
  CHECK(body.at("replica") == wrong_name.replica());
  CHECK(test::http_get(wrong_name.http_port(), "/health?strict=1").status == 503);

  // The seed itself is an edge peer with nobody to reach: ok, also when asked strictly.
  const test::HttpAnswer seed_health = test::http_get(seed.http_port(), "/health?strict=1");
  CHECK(seed_health.status == 200);
  CHECK(Json::parse(seed_health.body).at("status") == "ok");
  CHECK(Json::parse(seed_health.body).at("reasons").empty());

  // `cairn peers` says it too, in text and in JSON.
  const test::ProcessResult peers = cli(wrong_name, {"peers"});
  CHECK(peers.exit_code == 0);
  CHECK(peers.out.find("no member reachable for ") != std::string::npos);
  CHECK(peers.out.find("no answer from seed " + seed_address) != std::string::npos);
  const test::ProcessResult peers_json = cli(wrong_name, {"peers", "--json"});
  REQUIRE(peers_json.exit_code == 0);
  const Json peers_doc = Json::parse(peers_json.out);
  CHECK(peers_doc.at("isolated") == true);
  CHECK(peers_doc.at("isolated_ms").get<std::uint64_t>() >= 3'000);
  CHECK(peers_doc.at("seeds") == Json::array({seed_address}));
  const Json seed_peers = Json::parse(cli(seed, {"peers", "--json"}).out);
  CHECK(seed_peers.at("isolated") == false);
}

TEST_CASE("health e2e: a peer that reaches its seed is ok, and says when it had been alone") {
  test::TempDir dir;
  const std::string key_file = test::shared_cluster_key_file();
  // The seed's address is taken before it runs: the joiner starts first and finds nobody.
  DaemonProcess placeholder(CAIRND_PATH, peer_args(dir.str() + "/seed", {"--cluster-key-file", key_file}));
  const std::string seed_address = placeholder.gossip_address();
  const std::string seed_port = std::to_string(placeholder.gossip_port());
  placeholder.stop();
  DaemonProcess joiner(CAIRND_PATH, peer_args(dir.str() + "/joiner", {"--cluster-key-file", key_file, "--seed", seed_address}),
                       dir.str() + "/joiner.log");
  REQUIRE(eventually([&] { return joiner.log().find("no answer from seed " + seed_address) != std::string::npos; },
                     std::chrono::seconds(10)));
  DaemonProcess seed(CAIRND_PATH, peer_args(dir.str() + "/seed", {"--cluster-key-file", key_file}, seed_port));
  CHECK(eventually([&] { return joiner.log().find("reached the cluster again after about ") != std::string::npos; },
                   std::chrono::seconds(15)));
  CHECK(eventually([&] {
    const test::HttpAnswer health = test::http_get(joiner.http_port(), "/health?strict=1");
    return health.status == 200 && Json::parse(health.body).at("status") == "ok";
  }));
}

}  // namespace
}  // namespace cairn
