// Real cairnd processes on 127.0.0.1 with ephemeral ports, and an embedded Node in this process.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cairn/node.h"
#include "cairn/store.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::DaemonProcess;
using test::eventually;
using test::read_register;

std::vector<std::string> daemon_args(const std::string& data_dir, const std::vector<std::string>& seeds) {
  std::vector<std::string> args{"--data-dir", data_dir, "--gossip-port", "0", "--cluster", "e2e",
                                "--gossip-interval-ms", "100",
                                "--cluster-key-file", test::shared_cluster_key_file()};
  for (const std::string& seed : seeds) {
    args.push_back("--seed");
    args.push_back(seed);
  }
  return args;
}

std::unique_ptr<Node> start_node(const std::string& data_dir, const std::vector<std::string>& seeds) {
  NodeOptions options;
  options.data_dir = data_dir;
  options.gossip_port = 0;
  options.seeds = seeds;
  options.cluster_name = "e2e";
  options.gossip_interval_ms = 100;
  options.cluster_keys = {test::shared_cluster_key()};
  auto node = Node::start(options);
  INFO((node ? std::string("started") : node.error().to_string()));
  REQUIRE(node.has_value());
  return std::move(*node);
}

TEST_CASE("e2e: a write on one peer is read on three cairnd daemons") {
  test::TempDir dir;
  const std::string binary = CAIRND_PATH;
  DaemonProcess a(binary, daemon_args((dir.path() / "a").string(), {}));
  DaemonProcess b(binary, daemon_args((dir.path() / "b").string(), {a.gossip_address()}));
  DaemonProcess c(binary, daemon_args((dir.path() / "c").string(), {a.gossip_address()}));
  auto writer = start_node((dir.path() / "writer").string(), {b.gossip_address()});

  REQUIRE(writer->store().put("greeting", "hello cluster"));
  for (const char* peer : {"a", "b", "c"}) {
    const std::string data_dir = (dir.path() / peer).string();
    INFO("peer " << peer << " reads " << read_register(data_dir, "greeting"));
    CHECK(eventually([&] { return read_register(data_dir, "greeting") == "hello cluster"; }));
  }
  // Every daemon exits cleanly on SIGTERM.
  for (DaemonProcess* daemon : {&a, &b, &c}) {
    const int status = daemon->stop();
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  writer->stop();
}

TEST_CASE("e2e: two embedded Nodes sync through a cairnd, in both directions") {
  test::TempDir dir;
  DaemonProcess daemon(CAIRND_PATH, daemon_args((dir.path() / "daemon").string(), {}));
  auto left = start_node((dir.path() / "left").string(), {daemon.gossip_address()});
  auto right = start_node((dir.path() / "right").string(), {daemon.gossip_address()});

  REQUIRE(left->store().sadd("tags", {"from-left"}));
  REQUIRE(right->store().incr("visits", 2));
  CHECK(eventually([&] {
    auto member = right->store().sismember("tags", "from-left");
    return member && *member;
  }));
  CHECK(eventually([&] {
    auto visits = left->store().counter("visits");
    return visits && *visits == 2;
  }));
  CHECK(eventually([&] {
    const NodeStatus status = left->status();
    return status.members.size() == 2;
  }));
}

TEST_CASE("e2e: cairnd refuses a second daemon on the same data directory") {
  test::TempDir dir;
  DaemonProcess first(CAIRND_PATH, daemon_args((dir.path() / "data").string(), {}));
  const std::string command = std::string(CAIRND_PATH) + " --data-dir " + (dir.path() / "data").string() +
                              " --gossip-port 0 > /dev/null 2> " + (dir.path() / "err").string();
  const int status = std::system(command.c_str());
  CHECK(WEXITSTATUS(status) == 1);
  std::ifstream err(dir.path() / "err");
  std::string message, line;
  while (std::getline(err, line)) message += line + "\n";
  INFO("stderr: " << message);
  CHECK(message.find("in use") != std::string::npos);
}

}  // namespace
}  // namespace cairn
