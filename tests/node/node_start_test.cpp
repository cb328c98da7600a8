// Node::start's failure paths: every way start-up can fail returns an error that names what failed,
// never crashes, and leaves nothing behind (no socket, thread or file descriptor, and the data
// directory's lock is released). Under ASan (.ci/run) these also prove nothing leaks.
#include <sys/resource.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cairn/node.h"
#include "tests/node/node_test_support.h"
#include "tests/support/temp_dir.h"

namespace {

using cairn::ErrorCode;
using cairn::Node;
using cairn::NodeOptions;
using cairn::test::loopback_node_options;
using cairn::test::open_fd_count;
using cairn::test::PortHolder;
using cairn::test::port_is_free;
using cairn::test::TempDir;
using cairn::test::thread_count_settled;

// What a process holds with no node running, measured after one node has run (libuv opens a
// process-wide signal pipe once, on its first loop).
struct Baseline {
  Baseline() {
    TempDir dir;
    auto warm_up = Node::start(loopback_node_options(dir.str()));
    REQUIRE(warm_up);
    (*warm_up)->stop();
    warm_up->reset();
    fds = open_fd_count();
    threads = thread_count_settled(1);  // The test's own thread, once the node's have ended.
  }
  // Checks that everything a node had opened is gone again.
  void check_released() const {
    CHECK(open_fd_count() == fds);
    CHECK(thread_count_settled(threads) == threads);
  }
  std::size_t fds = 0;
  std::size_t threads = 0;
};

// Starts a node with `options`, expects it to fail with `code`, and returns the error's message.
std::string start_failure(const NodeOptions& options, ErrorCode code) {
  auto node = Node::start(options);
  REQUIRE_FALSE(node);
  INFO(node.error().to_string());
  CHECK(node.error().code() == code);
  return node.error().message();
}

// A node can start in `data_dir` (its lock is free) and stop again.
void check_startable(const std::string& data_dir) {
  auto node = Node::start(loopback_node_options(data_dir));
  INFO((node ? std::string("started") : node.error().to_string()));
  REQUIRE(node);
  (*node)->stop();
}

std::string in_use(const std::string& port_name, std::uint16_t port, const std::string& suffix = "") {
  return port_name + " 127.0.0.1:" + std::to_string(port) + suffix + ": address already in use (EADDRINUSE)";
}

}  // namespace

TEST_CASE("Node::start names each taken port and releases all it had started", "[node][start]") {
  const Baseline baseline;
  TempDir dir;

  SECTION("gossip port taken for TCP") {
    PortHolder tcp(SOCK_STREAM);
    NodeOptions options = loopback_node_options(dir.str());
    options.gossip_port = tcp.port();
    CHECK(start_failure(options, ErrorCode::kUnavailable) == in_use("gossip port", tcp.port(), " (TCP)"));
  }
  SECTION("gossip port taken for UDP (TCP was bound first and is let go)") {
    const auto udp = cairn::test::udp_port_with_free_tcp();
    NodeOptions options = loopback_node_options(dir.str());
    options.gossip_port = udp->port();
    CHECK(start_failure(options, ErrorCode::kUnavailable) == in_use("gossip port", udp->port(), " (UDP)"));
    CHECK(port_is_free(udp->port(), SOCK_STREAM));
  }
  SECTION("HTTP port taken (the gossip port was bound)") {
    PortHolder tcp(SOCK_STREAM);
    NodeOptions options = loopback_node_options(dir.str());
    options.http_port = tcp.port();
    CHECK(start_failure(options, ErrorCode::kUnavailable) == in_use("HTTP port", tcp.port()));
  }
  SECTION("client port taken (the gossip and HTTP ports were bound)") {
    PortHolder tcp(SOCK_STREAM);
    NodeOptions options = loopback_node_options(dir.str());
    options.client_port = tcp.port();
    CHECK(start_failure(options, ErrorCode::kUnavailable) == in_use("client port", tcp.port()));
  }
  baseline.check_released();
  check_startable(dir.str());  // The store's lock was released.
}

TEST_CASE("Node::start fails cleanly at each step before the ports", "[node][start]") {
  const Baseline baseline;
  TempDir dir;
  NodeOptions options = loopback_node_options(dir.str());

  SECTION("a seed that is not host:port") {
    options.seeds = {"127.0.0.1:7400", "no-port"};
    CHECK(start_failure(options, ErrorCode::kInvalidArgument) == "seed 'no-port' is not host:port");
  }
  SECTION("a data directory that cannot be created") {
    { std::ofstream(dir.str() + "/a-file") << "x"; }
    options.data_dir = dir.str() + "/a-file/store";
    CHECK_THAT(start_failure(options, ErrorCode::kIo), Catch::Contains(options.data_dir));
  }
  SECTION("a data directory held by a running node") {
    auto first = Node::start(options);
    REQUIRE(first);
    REQUIRE((*first)->store().put("k", "v"));
    CHECK_THAT(start_failure(options, ErrorCode::kUnavailable), Catch::Contains("in use by another cairn process"));
    CHECK((*first)->store().get("k")->value == "v");  // The running node is untouched.
  }
  SECTION("a malformed cluster key") {
    options.cluster_keys = {"not-hex"};
    start_failure(options, ErrorCode::kInvalidArgument);
  }
  SECTION("a cluster key file that cannot be read") {
    options.cluster_keys.clear();
    std::filesystem::create_directories(dir.str() + "/cluster.key");  // A directory where the file belongs.
    auto node = Node::start(options);
    REQUIRE_FALSE(node);
    CHECK_THAT(node.error().message(), Catch::StartsWith("cluster key: "));
  }
  SECTION("a client token file that cannot be read") {
    options.client_token.clear();
    std::filesystem::create_directories(dir.str() + "/client.token");
    auto node = Node::start(options);
    REQUIRE_FALSE(node);
    CHECK_THAT(node.error().message(), Catch::StartsWith("client token: "));
  }
  SECTION("a gossip address that is not an IP literal") {
    options.listen_host = "peer.example";
    CHECK_THAT(start_failure(options, ErrorCode::kInvalidArgument), Catch::StartsWith("gossip port peer.example:0: "));
  }
  SECTION("a client address that is not an IP literal (HTTP binds it first)") {
    options.client_host = "clients.example";
    CHECK_THAT(start_failure(options, ErrorCode::kInvalidArgument), Catch::StartsWith("HTTP port clients.example:0: "));
  }
  SECTION("a client address that is not an IP literal, with HTTP off") {
    options.client_host = "clients.example";
    options.serve_http = false;
    CHECK_THAT(start_failure(options, ErrorCode::kInvalidArgument), Catch::StartsWith("client port clients.example:0: "));
  }
  baseline.check_released();
  check_startable(dir.str());
}

// Every file descriptor start-up needs (the store's files and lock, key files, the loop's epoll and
// wake-up, each socket) is a failure point: with the limit raised one descriptor at a time, start()
// fails at each of them in turn and must release all it had opened, until it succeeds.
TEST_CASE("Node::start fails cleanly when file descriptors run out at any step", "[node][start]") {
  const Baseline baseline;
  rlimit original{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &original) == 0);
  // The descriptor numbers free now, lowest first: a limit of free_numbers[k] leaves exactly k of them
  // usable (a new descriptor must be below the limit).
  std::set<int> open;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    open.insert(std::stoi(entry.path().filename().string()));
  }
  std::vector<rlim_t> free_numbers;
  for (int fd = 0; free_numbers.size() < 64; ++fd) {
    if (!open.contains(fd)) free_numbers.push_back(static_cast<rlim_t>(fd));
  }
  std::set<std::string> failures;  // Each message up to its first ':' or '/', digits dropped.
  bool started = false;
  for (std::size_t usable = 0; !started && usable < free_numbers.size(); ++usable) {
    const rlim_t limit = free_numbers[usable];
    TempDir dir;
    {
      rlimit lowered = original;
      lowered.rlim_cur = limit;
      REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
      auto node = Node::start(loopback_node_options(dir.str()));
      REQUIRE(setrlimit(RLIMIT_NOFILE, &original) == 0);
      if (node) {
        started = true;
        (*node)->stop();
      } else {
        std::string message = node.error().message();
        std::erase_if(message, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        failures.insert(message.substr(0, message.find_first_of(":/")));
      }
    }
    INFO("descriptor limit " << limit);
    baseline.check_released();
  }
  std::string seen;
  for (const std::string& failure : failures) seen += "\n  " + failure;
  INFO("failure points seen:" << seen);
  CHECK(started);
  CHECK(failures.contains("event loop"));
  CHECK(failures.contains("gossip port ..."));
  CHECK(failures.contains("HTTP port ..."));
  CHECK(failures.contains("client port ..."));
  CHECK(failures.size() >= 5);  // The store's files too, before the loop.
}
