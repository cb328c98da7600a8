// A client that goes away never kills the application embedding a Node: the node's threads write the
// replies, and a write to a client that closed must fail with EPIPE, not raise a SIGPIPE that ends
// this (test) process, whose SIGPIPE disposition is the default.
#include <pthread.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "cairn/node.h"
#include "tests/node/node_test_support.h"
#include "tests/server/hangup_client.h"
#include "tests/support/temp_dir.h"

namespace {

using cairn::MetricSample;

double metric(const std::vector<MetricSample>& samples, const std::string& name,
              const std::pair<std::string, std::string>& label = {}) {
  for (const MetricSample& sample : samples) {
    if (sample.name != name) continue;
    if (label.first.empty() || (sample.labels.size() == 1 && sample.labels.front() == label)) return sample.value;
  }
  return -1;
}

}  // namespace

TEST_CASE("an embedded Node survives clients that hang up before reading big replies", "[node][sigpipe]") {
  struct sigaction disposition {};
  REQUIRE(sigaction(SIGPIPE, nullptr, &disposition) == 0);
  REQUIRE(disposition.sa_handler == SIG_DFL);  // A SIGPIPE would end this process.
  sigset_t mask_before;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask_before);

  cairn::test::TempDir dir;
  auto started = cairn::Node::start(cairn::test::loopback_node_options(dir.str()));
  REQUIRE(started);
  cairn::Node& node = **started;
  const std::string big_value(std::size_t{4} << 20, 'v');
  REQUIRE(node.store().put("big", big_value));
  std::vector<std::string> members;
  for (int i = 0; i < 60'000; ++i) members.push_back("member-" + std::to_string(i));
  REQUIRE(node.store().sadd("set", members));

  // Each reply is megabytes, far more than one write: the node is still writing when it learns that
  // the reader has gone. A plain reply, a streamed one, and an inspection.
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    cairn::test::request_and_hang_up(node.client_port(), cairn::test::kTestClientToken, cairn::protocol::Get{"big"});
    cairn::test::request_and_hang_up(node.client_port(), cairn::test::kTestClientToken,
                                     cairn::protocol::Smembers{"set"});
    cairn::test::request_and_hang_up(node.client_port(), cairn::test::kTestClientToken,
                                     cairn::protocol::Inspect{"big"});
  }
  // Wait until the node has answered (tried to) and closed every one of those connections.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<MetricSample> samples = node.metrics();
  while (std::chrono::steady_clock::now() < deadline &&
         (metric(samples, "cairn_client_connections") != 0 ||
          metric(samples, "cairn_client_requests_total", {"op", "get"}) < kRounds ||
          metric(samples, "cairn_client_requests_total", {"op", "smembers"}) < kRounds ||
          metric(samples, "cairn_client_requests_total", {"op", "inspect"}) < kRounds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    samples = node.metrics();
  }
  CHECK(metric(samples, "cairn_client_connections") == 0);
  CHECK(metric(samples, "cairn_client_requests_total", {"op", "smembers"}) == kRounds);

  // The node still serves, whole replies included.
  cairn::ClientOptions options;
  options.port = node.client_port();
  options.token = cairn::test::kTestClientToken;
  auto client = cairn::Client::connect(options);
  REQUIRE(client);
  CHECK((*client)->get("big")->value == big_value);
  std::size_t streamed = 0;
  REQUIRE((*client)->smembers("set", [&](const std::string&) { return ++streamed, true; }));
  CHECK(streamed == members.size());

  // Nothing about this thread's signals was changed.
  REQUIRE(sigaction(SIGPIPE, nullptr, &disposition) == 0);
  CHECK(disposition.sa_handler == SIG_DFL);
  sigset_t mask_after;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask_after);
  CHECK(sigismember(&mask_after, SIGPIPE) == sigismember(&mask_before, SIGPIPE));
  node.stop();
}
