// Trust boundaries with real processes (docs/security.md): cairnd creates its keys on first start; a
// peer with the wrong cluster key cannot join, inject or read; a peer flooded with garbage keeps
// serving its cluster.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "cairn/node.h"
#include "cairn/store.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::DaemonProcess;
using test::eventually;
using test::read_register;

std::vector<std::string> daemon_args(const std::string& data_dir, const std::string& key_file,
                                     const std::vector<std::string>& seeds = {}) {
  std::vector<std::string> args{"--data-dir", data_dir, "--gossip-port", "0", "--gossip-interval-ms", "100",
                                "--cluster-key-file", key_file};
  for (const std::string& seed : seeds) args.insert(args.end(), {"--seed", seed});
  return args;
}

// The value of one sample of /metrics, e.g. metric("cairn_frames_dropped_total{reason=\"unknown_key\"}").
double metric(const DaemonProcess& daemon, const std::string& sample) {
  const test::HttpAnswer answer = test::http_get(daemon.http_port(), "/metrics");
  const auto at = answer.body.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(answer.body.substr(at + sample.size() + 2));
}

// The number of members a daemon counts alive (from /metrics).
double alive_members(const DaemonProcess& daemon) {
  return metric(daemon, "cairn_peers{state=\"alive\"}");
}

std::uint32_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

TEST_CASE("security e2e: cairnd creates its cluster key and client token on first start, mode 0600, and keeps them") {
  test::TempDir dir;
  const std::string data = dir.str() + "/data";
  std::string key, token;
  {
    DaemonProcess daemon(CAIRND_PATH, {"--data-dir", data, "--gossip-port", "0"});
    key = test::read_whole_file(data + "/cluster.key");
    token = test::read_whole_file(data + "/client.token");
    CHECK(std::regex_match(key, std::regex("[0-9a-f]{64}\n")));
    CHECK(std::regex_match(token, std::regex("[0-9a-f]{64}\n")));
    CHECK(key != token);
    CHECK(mode_of(data + "/cluster.key") == 0600);
    CHECK(mode_of(data + "/client.token") == 0600);
    CHECK(daemon.stop() == 0);
  }
  DaemonProcess again(CAIRND_PATH, {"--data-dir", data, "--gossip-port", "0"});
  CHECK(test::read_whole_file(data + "/cluster.key") == key);
  CHECK(test::read_whole_file(data + "/client.token") == token);
}

TEST_CASE("security e2e: cairnd refuses a malformed or missing key file, and says so") {
  test::TempDir dir;
  const std::string bad_key = dir.str() + "/bad.key";
  test::write_cluster_key_file(bad_key, "not-a-key");
  const test::ProcessResult malformed = test::run_process(
      CAIRND_PATH, {"--data-dir", dir.str() + "/data", "--gossip-port", "0", "--cluster-key-file", bad_key});
  CHECK(malformed.exit_code == 1);
  CHECK_THAT(malformed.err, Catch::Contains("64 hex digits"));
  const test::ProcessResult missing = test::run_process(
      CAIRND_PATH, {"--data-dir", dir.str() + "/data", "--gossip-port", "0", "--cluster-key-file", dir.str() + "/absent"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("cluster key file"));
}

TEST_CASE("security e2e: a peer with the wrong cluster key cannot join, inject or read") {
  test::TempDir dir;
  const std::string key_file = test::write_cluster_key_file(dir.str() + "/cluster.key", test::random_cluster_key_hex());
  DaemonProcess a(CAIRND_PATH, daemon_args(dir.str() + "/a", key_file));
  DaemonProcess b(CAIRND_PATH, daemon_args(dir.str() + "/b", key_file, {a.gossip_address()}));
  REQUIRE(eventually([&] { return alive_members(a) == 1 && alive_members(b) == 1; }));

  // The intruder runs the same software, knows the addresses, and holds another key.
  NodeOptions intruder_options;
  intruder_options.data_dir = dir.str() + "/intruder";
  intruder_options.gossip_port = 0;
  intruder_options.seeds = {a.gossip_address(), b.gossip_address()};
  intruder_options.gossip_interval_ms = 100;
  intruder_options.protocol_period_ms = 200;
  intruder_options.cluster_keys = {test::random_cluster_key_hex()};
  auto intruder = Node::start(intruder_options);
  REQUIRE(intruder.has_value());
  REQUIRE((*intruder)->store().put("injected", "by the intruder"));

  // The cluster's own traffic goes on: a write on a still reaches b.
  const std::string writer_dir = dir.str() + "/writer";
  NodeOptions writer_options = intruder_options;
  writer_options.data_dir = writer_dir;
  writer_options.seeds = {a.gossip_address()};
  writer_options.cluster_keys = {test::read_whole_file(key_file)};
  writer_options.cluster_keys[0].pop_back();  // The newline.
  auto writer = Node::start(writer_options);
  REQUIRE(writer.has_value());
  REQUIRE((*writer)->store().put("secret", "members only"));
  CHECK(eventually([&] { return read_register(dir.str() + "/b", "secret") == "members only"; }));

  // Both daemons drop the intruder's frames as sealed under an unknown key...
  CHECK(eventually([&] {
    return metric(a, "cairn_frames_dropped_total{reason=\"unknown_key\"}") > 0 &&
           metric(b, "cairn_frames_dropped_total{reason=\"unknown_key\"}") > 0;
  }));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // Time enough for gossip to have spread it.
  // ...so it is not a member anywhere, its write went nowhere, and it read nothing.
  CHECK(eventually([&] { return alive_members(a) == 2 && alive_members(b) == 2; }));  // Each other and the writer.
  CHECK((*intruder)->status().members.empty());
  CHECK(read_register(dir.str() + "/a", "injected").rfind("<not_found", 0) == 0);
  CHECK(read_register(dir.str() + "/b", "injected").rfind("<not_found", 0) == 0);
  CHECK_FALSE((*intruder)->store().get("secret").has_value());
  (*intruder)->stop();
  (*writer)->stop();
}

TEST_CASE("security e2e: an --insecure peer is refused by a sealed cluster and warns that it is insecure") {
  test::TempDir dir;
  const std::string key_file = test::write_cluster_key_file(dir.str() + "/cluster.key", test::random_cluster_key_hex());
  DaemonProcess sealed(CAIRND_PATH, daemon_args(dir.str() + "/sealed", key_file));
  test::BackgroundProcess insecure(CAIRND_PATH, {"--data-dir", dir.str() + "/insecure", "--gossip-port", "0",
                                                 "--client-port", "0", "--http-port", "0", "--resp-port", "0", "--insecure", "--seed",
                                                 sealed.gossip_address(), "--gossip-interval-ms", "100"});
  CHECK(eventually([&] { return metric(sealed, "cairn_frames_dropped_total{reason=\"unsealed\"}") > 0; }));
  CHECK(alive_members(sealed) == 0);
  insecure.kill_and_reap(SIGTERM);
  CHECK_THAT(insecure.err(), Catch::Contains("INSECURE"));
  CHECK_FALSE(std::filesystem::exists(dir.str() + "/insecure/cluster.key"));
}

// Sends `count` datagrams of `bytes` to 127.0.0.1:port, and as many TCP connections carrying garbage.
void flood(int port, int count, const std::string& bytes) {
  const int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(udp >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < count; ++i) {
    ::sendto(udp, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  ::close(udp);
  for (int i = 0; i < count / 10; ++i) {
    const int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(tcp >= 0);
    if (::connect(tcp, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) {
      [[maybe_unused]] const auto sent = ::send(tcp, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    ::close(tcp);
  }
}

TEST_CASE("security e2e: a peer flooded with garbage and forged frames keeps serving its cluster") {
  test::TempDir dir;
  const std::string key_file = test::write_cluster_key_file(dir.str() + "/cluster.key", test::random_cluster_key_hex());
  DaemonProcess a(CAIRND_PATH, daemon_args(dir.str() + "/a", key_file));
  DaemonProcess b(CAIRND_PATH, daemon_args(dir.str() + "/b", key_file, {a.gossip_address()}));
  REQUIRE(eventually([&] { return alive_members(a) == 1 && alive_members(b) == 1; }));

  // Garbage, a header announcing an oversized payload, and a well-formed header with a forged key id.
  std::string oversized = "CAIR";
  oversized += std::string{'\x01', '\x01', '\0', '\0', '\0', '\0', '\0', '\x07'};
  oversized += std::string(24, '\0');
  oversized += std::string{'\x7f', '\xff', '\xff', '\xff'};
  std::string forged = oversized;
  forged[36] = forged[37] = '\0';
  forged[38] = '\x01';
  forged[39] = '\0';
  forged += std::string(256, 'f');
  std::thread attacker([&] {
    for (int round = 0; round < 20; ++round) {
      flood(a.gossip_port(), 200, std::string(1000, '\xab'));
      flood(a.gossip_port(), 50, oversized);
      flood(a.gossip_port(), 200, forged);
    }
  });
  // Meanwhile the cluster's writes still flow to a, and a keeps b alive.
  const std::string key_text = test::read_whole_file(key_file).substr(0, 64);
  NodeOptions writer_options;
  writer_options.data_dir = dir.str() + "/writer";
  writer_options.gossip_port = 0;
  writer_options.seeds = {b.gossip_address()};
  writer_options.gossip_interval_ms = 100;
  writer_options.cluster_keys = {key_text};
  auto writer = Node::start(writer_options);
  REQUIRE(writer.has_value());
  for (int i = 0; i < 20; ++i) REQUIRE((*writer)->store().put("k" + std::to_string(i), "v"));
  attacker.join();
  CHECK(eventually([&] { return read_register(dir.str() + "/a", "k19") == "v"; }));
  CHECK(metric(a, "cairn_frames_dropped_total{reason=\"bad_magic\"}") > 0);
  CHECK(metric(a, "cairn_frames_dropped_total{reason=\"unknown_key\"}") > 0);
  CHECK(eventually([&] { return alive_members(a) == 2 && alive_members(b) == 2; }));
  (*writer)->stop();
  CHECK(a.stop() == 0);
}

TEST_CASE("security e2e: NodeLimits bound peer connections and frame sizes while the cluster is served") {
  test::TempDir dir;
  const std::string key = test::random_cluster_key_hex();
  NodeOptions options;
  options.data_dir = dir.str() + "/a";
  options.gossip_port = 0;
  options.gossip_interval_ms = 100;
  options.cluster_keys = {key};
  options.limits.max_peer_connections = 4;
  options.limits.max_peer_frame_bytes = 64 << 10;
  auto a = Node::start(options);
  REQUIRE(a.has_value());
  const int port = (*a)->gossip_port();

  // Hold many idle connections (only 4 are accepted) and send frames announcing 1 MiB payloads.
  std::vector<int> held;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 50; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0) held.push_back(fd);
    else ::close(fd);
  }
  std::string big = "CAIR";
  big += std::string{'\x01', '\x01', '\0', '\0', '\0', '\0', '\0', '\x07'};
  big += std::string(24, '\0');
  big += std::string{'\0', '\x10', '\0', '\0'};  // 1 MiB announced.
  flood(port, 100, big + std::string(1000, 'x'));

  // Another peer with the key still joins through the free connection slots and datagrams, and syncs.
  NodeOptions b_options = options;
  b_options.data_dir = dir.str() + "/b";
  b_options.seeds = {"127.0.0.1:" + std::to_string(port)};
  b_options.limits = NodeLimits{};
  auto b = Node::start(b_options);
  REQUIRE(b.has_value());
  // Membership (datagrams) works while every connection slot is held...
  CHECK(eventually([&] { return (*a)->status().members.size() == 1; }));
  CHECK(held.size() == 50);  // The kernel accepts them all; the node closes all but 4 at once.
  for (int fd : held) ::close(fd);  // ...and once they go, b's stream gets a slot.
  REQUIRE((*b)->store().put("through", "the flood"));
  CHECK(eventually([&] {
    auto value = (*a)->store().get("through");
    return value && value->value == "the flood";
  }));
  CHECK(eventually([&] { return (*a)->status().frames_dropped > 0; }));  // The oversized datagrams.
  (*b)->stop();
  (*a)->stop();
}

}  // namespace
}  // namespace cairn
