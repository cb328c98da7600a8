// The `cairn` CLI against real cairnd processes: every command, its exit code, and its --json output
// parsed and checked; graceful shutdown keeps every acknowledged write; a second daemon on one data
// directory is refused.
#include <catch2/catch.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cairn/client.h"
#include "tests/e2e/cli_test_support.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace cairn::test::cli_e2e;  // start_daemon, cli, cli_json, client_options, eventually, exit codes.
using cairn::test::BackgroundProcess;
using cairn::test::DaemonProcess;
using cairn::test::ProcessResult;
using cairn::test::run_process;
using cairn::test::TempDir;

}  // namespace

TEST_CASE("cairn registers: put, get, del with exit codes and JSON", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());

  CHECK(cli_json(daemon, {"put", "greeting", "hello world"}) == Json{{"ok", true}});
  const Json got = cli_json(daemon, {"get", "greeting"});
  CHECK(got["key"] == "greeting");
  CHECK(got["value"] == "hello world");
  CHECK(got["concurrent"] == Json::array());

  const ProcessResult text = cli(daemon, {"get", "greeting"});
  CHECK(text.exit_code == kExitOk);
  CHECK(text.out == "hello world\n");

  const Json missing = cli_json(daemon, {"get", "nobody"}, kExitNotFound);
  CHECK(missing["error"]["code"] == "not_found");

  CHECK(cli_json(daemon, {"del", "greeting"}) == Json{{"ok", true}});
  CHECK(cli(daemon, {"get", "greeting"}).exit_code == kExitNotFound);
  CHECK(cli(daemon, {"del", "greeting"}).exit_code == kExitOk);  // Deleting an absent key succeeds.
}

TEST_CASE("cairn sets: sadd, srem, smembers (streamed), sismember, and wrong type has its own exit code", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());

  CHECK(cli(daemon, {"sadd", "fruit", "pear", "apple", "fig"}).exit_code == kExitOk);
  CHECK(cli_json(daemon, {"smembers", "fruit"}) == Json{"apple", "fig", "pear"});
  CHECK(cli(daemon, {"smembers", "fruit"}).out == "apple\nfig\npear\n");
  CHECK(cli_json(daemon, {"sismember", "fruit", "fig"})["is_member"] == true);
  CHECK(cli(daemon, {"sismember", "fruit", "kiwi"}).out == "false\n");
  CHECK(cli(daemon, {"srem", "fruit", "fig"}).exit_code == kExitOk);
  CHECK(cli_json(daemon, {"smembers", "fruit"}) == Json{"apple", "pear"});
  CHECK(cli_json(daemon, {"smembers", "empty"}) == Json::array());

  const Json wrong = cli_json(daemon, {"get", "fruit"}, kExitWrongType);
  CHECK(wrong["error"]["code"] == "wrong_type");
  CHECK(cli(daemon, {"incr", "fruit"}).exit_code == kExitWrongType);

  SECTION("a set of 20,000 members streams in full") {
    auto client = cairn::Client::connect(client_options(daemon));
    REQUIRE(client);
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<std::string> members;
      for (int i = 0; i < 1000; ++i) members.push_back("m" + std::to_string(100000 + batch * 1000 + i));
      REQUIRE((*client)->sadd("big", members));
    }
    const Json all = cli_json(daemon, {"smembers", "big"});
    REQUIRE(all.size() == 20000);
    CHECK(all.front() == "m100000");
    CHECK(all.back() == "m119999");
  }
}

TEST_CASE("cairn counters: incr, decr, counter", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());

  CHECK(cli_json(daemon, {"incr", "visits", "5"})["value"] == 5);
  CHECK(cli_json(daemon, {"incr", "visits"})["value"] == 6);
  CHECK(cli_json(daemon, {"decr", "visits", "10"})["value"] == -4);
  CHECK(cli(daemon, {"counter", "visits"}).out == "-4\n");
  CHECK(cli(daemon, {"counter", "absent"}).exit_code == kExitNotFound);
  CHECK(cli(daemon, {"incr", "visits", "0"}).exit_code == kExitUsage);
  CHECK(cli(daemon, {"incr", "visits", "many"}).exit_code == kExitUsage);
}

TEST_CASE("cairn keys and scan stream keys in byte order", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  for (const char* key : {"user:2", "user:1", "order:9", "users"}) REQUIRE(cli(daemon, {"put", key, "x"}).exit_code == 0);
  CHECK(cli_json(daemon, {"keys"}) == Json{"order:9", "user:1", "user:2", "users"});
  CHECK(cli_json(daemon, {"scan", "user:"}) == Json{"user:1", "user:2"});
  CHECK(cli(daemon, {"keys", "order"}).out == "order:9\n");
  CHECK(cli_json(daemon, {"scan", "zzz"}) == Json::array());
}

TEST_CASE("cairn inspect shows type, value, writer, HLC and the version vector", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  REQUIRE(cli(daemon, {"put", "colour", "red"}).exit_code == 0);
  REQUIRE(cli(daemon, {"put", "colour", "blue"}).exit_code == 0);

  const Json inspected = cli_json(daemon, {"inspect", "colour"});
  CHECK(inspected["key"] == "colour");
  CHECK(inspected["type"] == "register");
  CHECK(inspected["value"] == "blue");
  CHECK(inspected["writing_replica"] == daemon.replica());
  CHECK(inspected["hlc"]["wall_ms"].get<std::uint64_t>() > 0);
  CHECK(inspected["versions"].size() == 1);  // The second write saw (and replaced) the first.
  CHECK(inspected["concurrent"] == Json::array());
  CHECK(inspected["version_vector"].contains(daemon.replica()));

  REQUIRE(cli(daemon, {"sadd", "tags", "a", "b"}).exit_code == 0);
  const Json set = cli_json(daemon, {"inspect", "tags"});
  CHECK(set["type"] == "set");
  CHECK(set["member_count"] == 2);
  CHECK(set["members"][0]["member"] == "a");
  CHECK(set["members"][0]["dots"][0]["replica"] == daemon.replica());

  REQUIRE(cli(daemon, {"incr", "hits", "3"}).exit_code == 0);
  const Json counter = cli_json(daemon, {"inspect", "hits"});
  CHECK(counter["type"] == "counter");
  CHECK(counter["counter_value"] == 3);
  CHECK(counter["counter_parts"][0]["contributor"] == daemon.replica());

  const ProcessResult text = cli(daemon, {"inspect", "colour"});
  CHECK(text.exit_code == kExitOk);
  CHECK_THAT(text.out, Catch::Contains("value:          blue"));
  CHECK_THAT(text.out, Catch::Contains("written by:     replica " + daemon.replica()));
  CHECK(cli(daemon, {"inspect", "nothing"}).exit_code == kExitNotFound);
}

TEST_CASE("cairn peers, ring, stats and watch across two daemons", "[e2e][cli]") {
  TempDir dir_a, dir_b;
  DaemonProcess a = start_daemon(dir_a.path().string());
  DaemonProcess b = start_daemon(dir_b.path().string(), {"--seed", a.gossip_address()});

  REQUIRE(eventually([&] {
    const ProcessResult result = cli(a, {"peers", "--json"});
    if (result.exit_code != 0) return false;
    const Json peers = Json::parse(result.out)["peers"];
    // This peer first, then b. The ring and the neighbours follow membership at the next gossip
    // interval: wait for both.
    return peers.size() == 2 && peers[1]["id"] == b.replica() && peers[1]["state"] == "alive" &&
           peers[1]["neighbour"] == true;
  }));
  const Json peers = cli_json(a, {"peers"});
  CHECK(peers["self"] == a.replica());
  CHECK(peers["peers"][0]["self"] == true);
  CHECK(peers["peers"][1]["self"] == false);
  CHECK(peers["peers"][1]["address"] == b.gossip_address());
  CHECK(peers["peers"][1]["neighbour"] == true);
  CHECK_FALSE(peers["peers"][1]["ring_positions"].empty());
  CHECK_THAT(cli(a, {"peers"}).out, Catch::Contains(b.replica()));

  const Json ring = cli_json(a, {"ring"});
  std::set<std::string> replicas_on_ring;
  std::string previous;
  for (const Json& slot : ring["ring"]) {
    replicas_on_ring.insert(slot["replica"].get<std::string>());
    CHECK(slot["position"].get<std::string>() >= previous);  // In ring order.
    previous = slot["position"].get<std::string>();
  }
  CHECK(replicas_on_ring == std::set<std::string>{a.replica(), b.replica()});
  CHECK(ring["neighbours"] == Json{b.replica()});

  // watch on B sees a local write on B and a replicated write from A.
  BackgroundProcess watch(CAIRN_CLI_PATH,
                          {"--connect", b.client_address(), "--data-dir", b.data_dir(), "watch", "w:", "--json"});
  // The watch is registered once a change shows up; keep writing until one does.
  REQUIRE(eventually([&] {
    REQUIRE(cli(b, {"put", "w:local", "1"}).exit_code == 0);
    return watch.out().find("w:local") != std::string::npos;
  }));
  REQUIRE(cli(a, {"put", "w:remote", "2"}).exit_code == 0);
  REQUIRE(eventually([&] { return watch.out().find("w:remote") != std::string::npos; }));
  REQUIRE(cli(a, {"put", "other", "3"}).exit_code == 0);
  watch.kill_and_reap(SIGTERM);
  std::istringstream lines(watch.out());
  std::string line;
  bool saw_local = false, saw_remote = false;
  while (std::getline(lines, line)) {
    const Json event = Json::parse(line);
    CHECK(event["key"].get<std::string>().rfind("w:", 0) == 0);  // Only keys with the prefix.
    if (event["key"] == "w:local") saw_local = event["origin"] == "local" && event["type"] == "register";
    if (event["key"] == "w:remote") saw_remote = event["origin"] == "replicated";
  }
  CHECK(saw_local);
  CHECK(saw_remote);

  // The replicated value reads back on B, and B's inspect names A as the writer.
  CHECK(cli_json(b, {"get", "w:remote"})["value"] == "2");
  CHECK(cli_json(b, {"inspect", "w:remote"})["writing_replica"] == a.replica());

  const Json stats = cli_json(a, {"stats"});
  std::set<std::string> names;
  for (const Json& metric : stats["metrics"]) names.insert(metric["name"].get<std::string>());
  for (const char* expected : {"cairn_operations_total", "cairn_deltas_sent_total", "cairn_peers",
                               "cairn_delta_log_entries", "cairn_lmdb_map_size_bytes", "cairn_replication_lag_entries",
                               "cairn_anti_entropy_rounds_total", "cairn_anti_entropy_bytes_total"}) {
    CHECK(names.count(expected) == 1);
  }
  CHECK_THAT(cli(a, {"stats"}).out, Catch::Contains("cairn_peers{state=\"alive\"} 1"));
}

TEST_CASE("cairn get and inspect show the concurrent values of writes that did not see each other", "[e2e][cli]") {
  TempDir dir_a, dir_b;
  DaemonProcess a = start_daemon(dir_a.path().string());
  {
    // B writes the key while it has never met A: the two writes are concurrent.
    DaemonProcess b_alone = start_daemon(dir_b.path().string());
    REQUIRE(cli(b_alone, {"put", "colour", "blue from b"}).exit_code == kExitOk);
  }
  REQUIRE(cli(a, {"put", "colour", "red from a"}).exit_code == kExitOk);
  DaemonProcess b = start_daemon(dir_b.path().string(), {"--seed", a.gossip_address()});

  Json got;
  REQUIRE(eventually([&] {
    got = cli_json(a, {"get", "colour"});
    return got["concurrent"].size() == 1;
  }));
  // Both peers pick the same winner by (HLC, replica id), and show the loser beside it.
  const std::set<std::string> values{got["value"].get<std::string>(), got["concurrent"][0]["value"].get<std::string>()};
  CHECK(values == std::set<std::string>{"red from a", "blue from b"});
  REQUIRE(eventually([&] { return cli_json(b, {"get", "colour"}) == got; }));

  const Json inspected = cli_json(a, {"inspect", "colour"});
  REQUIRE(inspected["versions"].size() == 2);
  CHECK(inspected["value"] == got["value"]);
  CHECK(inspected["concurrent"][0]["value"] == got["concurrent"][0]["value"]);
  const std::string winner = inspected["writing_replica"].get<std::string>();
  CHECK(winner == (got["value"] == "red from a" ? a.replica() : b.replica()));
  CHECK(inspected["version_vector"].contains(a.replica()));
  CHECK(inspected["version_vector"].contains(b.replica()));

  const ProcessResult text = cli(a, {"get", "colour"});
  CHECK_THAT(text.out, Catch::Contains("(concurrent, lost the tie-break) " +
                                       got["concurrent"][0]["value"].get<std::string>()));
  CHECK_THAT(cli(a, {"inspect", "colour"}).out, Catch::Contains("concurrent values"));

  // A write that saw both replaces them.
  REQUIRE(cli(a, {"put", "colour", "green"}).exit_code == kExitOk);
  REQUIRE(eventually([&] { return cli_json(b, {"get", "colour"}) == Json{{"key", "colour"}, {"value", "green"}, {"concurrent", Json::array()}}; }));
}

TEST_CASE("cairn dump reads a running peer's data directory offline", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  REQUIRE(cli(daemon, {"put", "a", "1"}).exit_code == 0);
  REQUIRE(cli(daemon, {"sadd", "b", "x", "y"}).exit_code == 0);
  REQUIRE(cli(daemon, {"incr", "c", "7"}).exit_code == 0);

  const ProcessResult dumped = run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", dir.path().string(), "--json"});
  REQUIRE(dumped.exit_code == kExitOk);
  const Json all = Json::parse(dumped.out);
  CHECK(all == Json::parse(R"([
    {"key":"a","type":"register","value":"1"},
    {"key":"b","type":"set","member":"x"},
    {"key":"b","type":"set","member":"y"},
    {"key":"c","type":"counter","value":7}])"));
  CHECK(run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", dir.path().string()}).out ==
        "a\tregister\t1\nb\tset\tx\nb\tset\ty\nc\tcounter\t7\n");

  // The daemon is unharmed and keeps serving writes.
  CHECK(cli(daemon, {"put", "d", "4"}).exit_code == kExitOk);
  CHECK(run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", dir.path().string() + "/absent"}).exit_code == kExitNotFound);
}

TEST_CASE("cairn retire: a reachable peer exits 6, a malformed id 2, an unknown one 4, a dead one is proposed", "[e2e][cli]") {
  // Fast failure detection, so the killed peer is dead within a few seconds; no automatic retirement.
  TempDir config_dir, dir_a, dir_b;
  const std::string config = config_dir.str() + "/cairnd.toml";
  { std::ofstream(config) << "[gossip]\nprotocol_period_ms = 200\nsuspicion_timeout_ms = 1000\nretire_after_ms = 0\n"; }
  DaemonProcess a = start_daemon(dir_a.path().string(), {"--config", config});
  DaemonProcess b = start_daemon(dir_b.path().string(), {"--config", config, "--seed", a.gossip_address()});
  const auto state_of_b = [&] {
    const ProcessResult result = cli(a, {"peers", "--json"});
    if (result.exit_code != kExitOk) return std::string("(peers failed)");
    const Json peers = Json::parse(result.out)["peers"];
    for (const Json& peer : peers) {
      if (peer["id"] == b.replica()) return peer["state"].get<std::string>();
    }
    return std::string("(unknown)");
  };
  REQUIRE(eventually([&] { return state_of_b() == "alive"; }));

  const ProcessResult reachable = cli(a, {"retire", b.replica()});
  INFO("cairn retire stdout: " << reachable.out << "\nstderr: " << reachable.err);
  CHECK(reachable.exit_code == kExitInvalid);
  CHECK_THAT(reachable.err, Catch::Contains("reachable") && Catch::Contains(b.replica()));
  CHECK(cli_json(a, {"retire", "0x" + a.replica()}, kExitInvalid)["error"]["code"] == "invalid_argument");  // Itself.

  CHECK(cli(a, {"retire", "0xnothex"}).exit_code == kExitUsage);
  CHECK(cli(a, {"retire", "0x" + a.replica() + "0"}).exit_code == kExitUsage);  // 17 digits.
  const std::string unknown = a.replica() == "0123456789abcdef" ? "fedcba9876543210" : "0123456789abcdef";
  CHECK(cli(a, {"retire", unknown}).exit_code == kExitNotFound);
  CHECK(cli_json(a, {"retire", unknown}, kExitNotFound)["error"]["code"] == "not_found");

  // Once B is dead (killed, no goodbye) A accepts its retirement.
  b.kill_hard();
  REQUIRE(eventually([&] { return state_of_b() == "dead"; }));
  CHECK(cli_json(a, {"retire", "0x" + b.replica()}) == Json{{"replica", b.replica()}, {"proposed", true}});
  const ProcessResult proposed = cli(a, {"retire", b.replica()});  // Again: already proposed or decided.
  CHECK(proposed.exit_code == kExitOk);
  CHECK_THAT(proposed.out, Catch::StartsWith("retirement of " + b.replica() + " proposed: it is decided once"));
}

TEST_CASE("cairn errors say where it tried, and usage errors exit 2", "[e2e][cli]") {
  // A port nothing listens on: bind one, note it, close it.
  const ProcessResult refused = run_process(CAIRN_CLI_PATH, {"--connect", "127.0.0.1:1", "get", "k"});
  CHECK(refused.exit_code == kExitUnavailable);
  CHECK_THAT(refused.err, Catch::Contains("127.0.0.1:1"));

  CHECK(run_process(CAIRN_CLI_PATH, {"get"}).exit_code == kExitUsage);
  CHECK(run_process(CAIRN_CLI_PATH, {"frobnicate"}).exit_code == kExitUsage);
  CHECK(run_process(CAIRN_CLI_PATH, {"--connect", "nonsense", "get", "k"}).exit_code == kExitUsage);
  const ProcessResult help = run_process(CAIRN_CLI_PATH, {"--help"});
  CHECK(help.exit_code == kExitOk);
  CHECK_THAT(help.out, Catch::Contains("4 not found, 5 wrong type"));
}

TEST_CASE("cairn client token: found by --data-dir, --token-file, --token or CAIRN_TOKEN, and a wrong or missing one exits 7", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  const std::string address = daemon.client_address();
  const std::string token_file = dir.path().string() + "/client.token";
  const auto run = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"--connect", address});
    return run_process(CAIRN_CLI_PATH, arguments);
  };
  CHECK(run({"--data-dir", dir.path().string(), "put", "k", "v"}).exit_code == kExitOk);
  CHECK(run({"--token-file", token_file, "get", "k"}).out == "v\n");
  CHECK(run({"--token", daemon.client_token(), "get", "k"}).out == "v\n");
  setenv("CAIRN_TOKEN", daemon.client_token().c_str(), 1);
  const ProcessResult from_environment = run({"get", "k"});
  unsetenv("CAIRN_TOKEN");
  CHECK(from_environment.out == "v\n");

  const ProcessResult wrong = run({"--token", "not-the-token", "put", "k", "injected"});
  CHECK(wrong.exit_code == kExitUnauthenticated);
  CHECK_THAT(wrong.err, Catch::Contains("wrong client token"));
  CHECK_THAT(wrong.err, Catch::Contains("--token-file"));
  const ProcessResult missing = run({"--json", "get", "k"});  // No token anywhere (the CWD has no cairn-data).
  CHECK(missing.exit_code == kExitUnauthenticated);
  CHECK(Json::parse(missing.out)["error"]["code"] == "unauthenticated");
  CHECK(run({"--token-file", dir.path().string() + "/absent", "get", "k"}).exit_code == kExitUsage);
  CHECK(run({"--token", daemon.client_token(), "get", "k"}).out == "v\n");  // Nothing was injected.

  // The library: a wrong token fails connect() with kUnauthenticated; the refusals were counted.
  cairn::ClientOptions options = client_options(daemon);
  options.token = "wrong";
  auto refused = cairn::Client::connect(options);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == cairn::ErrorCode::kUnauthenticated);
  const Json stats = cli_json(daemon, {"stats"});
  bool counted = false;
  for (const Json& sample : stats["metrics"]) {
    if (sample.value("name", "") == "cairn_client_auth_failures_total") counted = sample["value"].get<double>() >= 3;
  }
  CHECK(counted);
  CHECK_THAT(run_process(CAIRN_CLI_PATH, {"--help"}).out, Catch::Contains("7 the peer refused the client token"));
}

TEST_CASE("cairnd refuses a second daemon on the same data directory", "[e2e][daemon]") {
  TempDir dir;
  DaemonProcess first = start_daemon(dir.path().string());
  REQUIRE(cli(first, {"put", "k", "v"}).exit_code == 0);
  const ProcessResult second = run_process(
      CAIRND_PATH, {"--data-dir", dir.path().string(), "--gossip-port", "0", "--client-port", "0", "--http-port", "0", "--resp-port", "0"});
  CHECK(second.exit_code != 0);
  CHECK_THAT(second.err, Catch::Contains("cannot start"));
  CHECK_THAT(second.err, Catch::Contains(dir.path().string()));
  // The first daemon and its data are untouched.
  CHECK(cli_json(first, {"get", "k"})["value"] == "v");
}

TEST_CASE("cairnd's SIGTERM loses no acknowledged write", "[e2e][daemon]") {
  TempDir dir;
  std::set<std::string> acknowledged;
  {
    DaemonProcess daemon = start_daemon(dir.path().string());
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<std::thread> writers;
    for (int writer = 0; writer < 4; ++writer) {
      writers.emplace_back([&, writer] {
        auto client = cairn::Client::connect(client_options(daemon));
        if (!client) return;
        for (int i = 0; !stop.load(); ++i) {
          const std::string key = "w" + std::to_string(writer) + ":" + std::to_string(i);
          if (!(*client)->put(key, "v")) return;  // The daemon is going away.
          std::lock_guard lock(mutex);
          acknowledged.insert(key);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const int status = daemon.stop();  // SIGTERM while the writers are busy.
    stop = true;
    for (std::thread& writer : writers) writer.join();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  REQUIRE(acknowledged.size() > 10);
  const ProcessResult dumped = run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", dir.path().string(), "--json"});
  REQUIRE(dumped.exit_code == kExitOk);
  std::set<std::string> stored;
  for (const Json& item : Json::parse(dumped.out)) stored.insert(item["key"].get<std::string>());
  for (const std::string& key : acknowledged) {
    INFO(key);
    CHECK(stored.count(key) == 1);
  }
}

TEST_CASE("cairnd serves /health and /metrics over HTTP", "[e2e][daemon]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.path().string());
  REQUIRE(cli(daemon, {"put", "k", "v"}).exit_code == 0);
  REQUIRE(cli(daemon, {"get", "k"}).exit_code == 0);

  const cairn::test::HttpAnswer health = cairn::test::http_get(daemon.http_port(), "/health");
  CHECK(health.status == 200);
  CHECK(Json::parse(health.body) == Json{{"status", "ok"}, {"reasons", Json::array()}, {"replica", daemon.replica()}});

  // Store usage is refreshed once a second: wait for the operations to show.
  std::string metrics;
  REQUIRE(eventually([&] {
    metrics = cairn::test::http_get(daemon.http_port(), "/metrics").body;
    return metrics.find("cairn_operations_total{op=\"put\"} 1\n") != std::string::npos;
  }));
  for (const char* expected :
       {"# TYPE cairn_operations_total counter\n", "cairn_operations_total{op=\"get\"} 1\n",
        "# TYPE cairn_peers gauge\n", "cairn_peers{state=\"alive\"} 0\n", "# TYPE cairn_delta_log_entries gauge\n",
        "# TYPE cairn_lmdb_map_size_bytes gauge\n", "# TYPE cairn_deltas_sent_total counter\n",
        "# TYPE cairn_frames_dropped_total counter\n"}) {
    CHECK_THAT(metrics, Catch::Contains(expected));
  }
  CHECK(cairn::test::http_get(daemon.http_port(), "/nothing").status == 404);
}

TEST_CASE("cairn retire: a retired cairnd that comes back continues under a new replica id with its data", "[e2e][cli]") {
  TempDir config_dir, dir_a, dir_b;
  const std::string config = config_dir.str() + "/cairnd.toml";
  { std::ofstream(config) << "[gossip]\nprotocol_period_ms = 200\nsuspicion_timeout_ms = 1000\nretire_after_ms = 0\n"; }
  DaemonProcess a = start_daemon(dir_a.path().string(), {"--config", config});
  DaemonProcess b = start_daemon(dir_b.path().string(), {"--config", config, "--seed", a.gossip_address()});
  const std::string old_b = b.replica();
  const auto state_at_a = [&](const std::string& id) {
    const ProcessResult result = cli(a, {"peers", "--json"});
    if (result.exit_code != kExitOk) return std::string("(peers failed)");
    const Json peers = Json::parse(result.out)["peers"];  // A copy: the parsed document is a temporary.
    for (const Json& peer : peers) {
      if (peer["id"] == id) return peer["state"].get<std::string>();
    }
    return std::string("(unknown)");
  };
  const auto has_value = [&](const DaemonProcess& daemon, const std::string& key, const std::string& value) {
    const ProcessResult result = cli(daemon, {"get", key});
    return result.exit_code == kExitOk && result.out.find(value) != std::string::npos;
  };
  REQUIRE(eventually([&] { return state_at_a(old_b) == "alive"; }));
  REQUIRE(cli(b, {"put", "from-b", "written-before-retirement"}).exit_code == kExitOk);
  REQUIRE(eventually([&] { return has_value(a, "from-b", "written-before-retirement"); }));

  b.kill_hard();
  REQUIRE(eventually([&] { return state_at_a(old_b) == "dead"; }));
  REQUIRE(cli(a, {"retire", old_b}).exit_code == kExitOk);
  // Decided (A is the only other peer, so its own report agrees): A forgets B's old id.
  REQUIRE(eventually([&] { return state_at_a(old_b) == "(unknown)"; }));

  // B restarts from its data directory under the old id, is told it was retired, and starts over.
  DaemonProcess back = start_daemon(dir_b.path().string(), {"--config", config, "--seed", a.gossip_address()});
  CHECK(back.replica() == old_b);  // The ready line: the id it had when it started.
  std::string new_b;
  REQUIRE(eventually([&] {
    const ProcessResult result = cli(back, {"peers", "--json"});
    if (result.exit_code != kExitOk) return false;
    new_b = Json::parse(result.out)["self"].get<std::string>();
    return new_b != old_b;
  }));
  // Its store was refilled from A, and what it writes now reaches A under the new id.
  CHECK(eventually([&] { return has_value(back, "from-b", "written-before-retirement"); }));
  REQUIRE(cli(back, {"put", "after", "under-the-new-id"}).exit_code == kExitOk);
  CHECK(eventually([&] { return has_value(a, "after", "under-the-new-id"); }));
  CHECK(eventually([&] { return state_at_a(new_b) == "alive"; }));
  CHECK(state_at_a(old_b) == "(unknown)");
  const Json inspected = cli_json(a, {"inspect", "after"});
  CHECK(inspected.dump().find(new_b) != std::string::npos);
}

TEST_CASE("cairn peers: a retirement that waits shows what for, and is decided once that member is retired too", "[e2e][cli]") {
  TempDir config_dir, dir_a, dir_b, dir_c, dir_d;
  const std::string config = config_dir.str() + "/cairnd.toml";
  { std::ofstream(config) << "[gossip]\nprotocol_period_ms = 200\nsuspicion_timeout_ms = 1000\nretire_after_ms = 0\n"; }
  DaemonProcess a = start_daemon(dir_a.path().string(), {"--config", config});
  const std::vector<std::string> join{"--config", config, "--seed", a.gossip_address()};
  DaemonProcess b = start_daemon(dir_b.path().string(), join);
  DaemonProcess c = start_daemon(dir_c.path().string(), join);
  DaemonProcess d = start_daemon(dir_d.path().string(), join);
  const auto peers_of_a = [&] { return cli_json(a, {"peers"}); };
  const auto state_at_a = [&](const std::string& id) {
    const Json peers = peers_of_a()["peers"];
    for (const Json& peer : peers) {
      if (peer["id"] == id) return peer["state"].get<std::string>();
    }
    return std::string("(unknown)");
  };
  REQUIRE(eventually([&] {
    return state_at_a(b.replica()) == "alive" && state_at_a(c.replica()) == "alive" && state_at_a(d.replica()) == "alive";
  }));
  c.kill_hard();
  d.kill_hard();
  REQUIRE(eventually([&] { return state_at_a(c.replica()) == "dead" && state_at_a(d.replica()) == "dead"; }));

  // C's retirement waits for D: D may hold dots of C nobody else has, and has not reported since.
  REQUIRE(cli(a, {"retire", c.replica()}).exit_code == kExitOk);
  Json pending;
  // Until B reports after the proposal (every 5 s) it waits for B too; then for D alone.
  REQUIRE(eventually([&] {
    pending = peers_of_a()["pending_retirements"];
    return pending.size() == 1 && pending[0]["waiting_for"] == Json::array({d.replica()});
  }));
  INFO("pending: " << pending.dump());
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["replica"] == c.replica());
  CHECK(pending[0]["by_operator"] == true);
  CHECK(pending[0]["waiting_for"] == Json::array({d.replica()}));
  const ProcessResult text = cli(a, {"peers"});
  CHECK_THAT(text.out, Catch::Contains("retirement of " + c.replica() + " (asked by an operator) waits for: " + d.replica()));

  // Retiring D as well: neither waits for the other, and B (alive) reports; both are decided.
  REQUIRE(cli(a, {"retire", d.replica()}).exit_code == kExitOk);
  CHECK(eventually([&] {
    const Json status = peers_of_a();
    return status["pending_retirements"].empty() && state_at_a(c.replica()) == "(unknown)" &&
           state_at_a(d.replica()) == "(unknown)";
  }));
  CHECK(state_at_a(b.replica()) == "alive");
}
