// cairnd's configuration layers: defaults, then a TOML file; every mistake in the file is an error that
// names the key and its line, and a file with an error changes nothing.
#include <catch2/catch.hpp>

#include "src/daemon/config.h"
#include "tests/support/temp_dir.h"

#include <fstream>

using cairn::ErrorCode;
using cairn::daemon::apply_toml;
using cairn::daemon::DaemonConfig;

TEST_CASE("the daemon's defaults run a loopback peer with clients and HTTP on", "[config]") {
  const DaemonConfig config;
  CHECK(config.node.data_dir == "./cairn-data");
  CHECK(config.node.listen_host == "127.0.0.1");
  CHECK(config.node.client_host == "127.0.0.1");
  CHECK(config.node.gossip_port == 7400);
  CHECK(config.node.client_port == 7401);
  CHECK(config.node.http_port == 7402);
  CHECK(config.node.serve_clients);
  CHECK(config.node.serve_http);
  CHECK(config.node.seeds.empty());
  CHECK(config.node.store.durability == cairn::Durability::kGroup);
  CHECK(config.log_level == cairn::log::Level::kInfo);
}

TEST_CASE("a TOML file overrides exactly the keys it sets", "[config]") {
  DaemonConfig config;
  const auto applied = apply_toml(R"(
data_dir = "/var/lib/cairn"
cluster = "edge"
seeds = ["10.0.0.2:7400", "10.0.0.3:7400"]
durability = "sync"
log_level = "debug"

[listen]
host = "0.0.0.0"
advertise = "10.0.0.1"
gossip_port = 7500
client_port = 0
http_port = 9000

[gossip]
interval_ms = 50
suspicion_timeout_ms = 3000
retire_after_ms = 0
)",
                                  "test.toml", config);
  REQUIRE(applied);
  CHECK(config.node.data_dir == "/var/lib/cairn");
  CHECK(config.node.cluster_name == "edge");
  CHECK(config.node.seeds == std::vector<std::string>{"10.0.0.2:7400", "10.0.0.3:7400"});
  CHECK(config.node.store.durability == cairn::Durability::kSync);
  CHECK(config.log_level == cairn::log::Level::kDebug);
  CHECK(config.node.listen_host == "0.0.0.0");
  CHECK(config.node.advertise_host == "10.0.0.1");
  CHECK(config.node.gossip_port == 7500);
  CHECK(config.node.client_port == 0);
  CHECK(config.node.http_port == 9000);
  CHECK(config.node.client_host == "127.0.0.1");  // Not set in the file: still the default.
  CHECK(config.node.gossip_interval_ms == 50);
  CHECK(config.node.protocol_period_ms == 1000);
  CHECK(config.node.suspicion_timeout_ms == 3000);
  CHECK(config.node.retire_after_ms == 0);
}

TEST_CASE("an empty file changes nothing", "[config]") {
  DaemonConfig config;
  REQUIRE(apply_toml("", "empty.toml", config));
  CHECK(config.node.data_dir == DaemonConfig{}.node.data_dir);
}

TEST_CASE("mistakes in the file are errors naming the key and line, and change nothing", "[config]") {
  struct Case {
    const char* document;
    const char* expected_in_message;
  };
  const Case cases[] = {
      {"data_dir = 42\n", "test.toml:1: 'data_dir' must be a string"},
      {"\n\ndata_dri = \"x\"\n", "test.toml:3: unknown key 'data_dri'"},
      {"[listen]\ngossip_port = 70000\n", "'listen.gossip_port' must be an integer from 0 to 65535"},
      {"[listen]\ngossip_port = -1\n", "'listen.gossip_port' must be an integer from 0 to 65535"},
      {"[listen]\ngossip_port = \"7400\"\n", "'listen.gossip_port' must be an integer"},
      {"[listen]\nport = 1\n", "unknown key 'listen.port'"},
      {"[gossip]\ninterval_ms = 0\n", "'gossip.interval_ms' must be an integer from 1"},
      {"seeds = \"127.0.0.1:7400\"\n", "'seeds' must be an array of strings"},
      {"seeds = [1, 2]\n", "'seeds' must be an array of strings"},
      {"durability = \"fast\"\n", "durability must be sync, group or nosync"},
      {"log_level = \"loud\"\n", "log_level must be debug, info, warn or error"},
      {"listen = 5\n", "'listen' must be a table"},
      {"data_dir = \n", "test.toml:1"},
      {"[listen\n", "test.toml:1"},
  };
  for (const Case& each : cases) {
    INFO(each.document);
    DaemonConfig config;
    config.node.data_dir = "unchanged";
    const auto applied = apply_toml(std::string(each.document) , "test.toml", config);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code() == ErrorCode::kInvalidArgument);
    CHECK_THAT(applied.error().message(), Catch::Contains(each.expected_in_message));
    CHECK(config.node.data_dir == "unchanged");
  }
}

TEST_CASE("a config file is read from disk, and a missing one is kNotFound", "[config]") {
  cairn::test::TempDir dir;
  const std::string path = dir.path().string() + "/cairnd.toml";
  std::ofstream(path) << "cluster = \"from-file\"\n";
  DaemonConfig config;
  REQUIRE(cairn::daemon::apply_toml_file(path, config));
  CHECK(config.node.cluster_name == "from-file");

  const auto missing = cairn::daemon::apply_toml_file(dir.path().string() + "/absent.toml", config);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("security keys: the key and token files, insecure, and secure by default", "[config]") {
  DaemonConfig config;
  CHECK_FALSE(config.node.insecure);
  CHECK(config.node.cluster_keys.empty());  // The node then uses DATA_DIR/cluster.key.
  cairn::test::TempDir dir;
  const std::string key_file = dir.path().string() + "/cluster.key";
  const std::string token_file = dir.path().string() + "/client.token";
  std::ofstream(key_file) << "# new key first\n" << std::string(64, 'a') << "\n\n  " << std::string(64, 'b') << "  \n";
  std::ofstream(token_file) << "s3cret\n";
  REQUIRE(apply_toml("cluster_key_file = \"" + key_file + "\"\nclient_token_file = \"" + token_file +
                         "\"\ninsecure = true\n",
                     "test.toml", config));
  CHECK(config.node.insecure);
  REQUIRE(cairn::daemon::load_secrets(config));
  CHECK(config.node.cluster_keys == std::vector<std::string>{std::string(64, 'a'), std::string(64, 'b')});
  CHECK(config.node.client_token == "s3cret");

  const auto wrong_type = apply_toml("insecure = \"yes\"\n", "test.toml", config);
  REQUIRE_FALSE(wrong_type);
  CHECK_THAT(wrong_type.error().message(), Catch::Contains("'insecure' must be true or false"));

  DaemonConfig missing;
  missing.cluster_key_file = dir.path().string() + "/absent.key";
  const auto loaded = cairn::daemon::load_secrets(missing);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code() == ErrorCode::kNotFound);
  CHECK_THAT(loaded.error().message(), Catch::Contains("cluster key file"));

  std::ofstream(dir.path().string() + "/empty.key") << "# nothing here\n";
  DaemonConfig empty;
  empty.cluster_key_file = dir.path().string() + "/empty.key";
  CHECK(cairn::daemon::load_secrets(empty).error().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("resource limits: the [limits] table sets every NodeLimits field, within range", "[config]") {
  DaemonConfig config;
  const cairn::NodeLimits defaults;
  CHECK(config.node.limits.max_peer_connections == defaults.max_peer_connections);
  REQUIRE(apply_toml("[limits]\nmax_peer_connections = 10\nmax_peer_frame_bytes = 65536\nmax_members = 50\n"
                     "max_delta_batch_entries = 8\nmax_delta_batch_bytes = 100000\nmax_client_connections = 20\n"
                     "max_client_frame_bytes = 4096\nmax_client_requests_in_flight = 4\n",
                     "test.toml", config));
  const cairn::NodeLimits& limits = config.node.limits;
  CHECK(limits.max_peer_connections == 10);
  CHECK(limits.max_peer_frame_bytes == 65536);
  CHECK(limits.max_members == 50);
  CHECK(limits.max_delta_batch_entries == 8);
  CHECK(limits.max_delta_batch_bytes == 100000);
  CHECK(limits.max_client_connections == 20);
  CHECK(limits.max_client_frame_bytes == 4096);
  CHECK(limits.max_client_requests_in_flight == 4);

  for (const char* bad : {"[limits]\nmax_peer_frame_bytes = 999999999\n", "[limits]\nmax_members = 0\n",
                          "[limits]\nmax_delta_batch_entries = 5000\n", "[limits]\nmax_sockets = 1\n"}) {
    INFO(bad);
    const auto applied = apply_toml(bad, "test.toml", config);
    REQUIRE_FALSE(applied);
    CHECK_THAT(applied.error().message(), Catch::Contains("limits."));
  }
  CHECK(config.node.limits.max_members == 50);  // A file with an error changes nothing.
}
