// Failure detection must not wait behind the store (issue 13, item 8): three in-process Nodes on
// 127.0.0.1, a 16 MiB write, and the merge of that write made slow on its receivers, as on a slow disk.
// SWIM runs on each node's membership lane, so the receivers keep answering pings while their data
// lanes merge, and no node declares another dead.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cairn/node.h"
#include "src/node/test_hooks.h"
#include "src/util/hex_id.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

constexpr std::size_t kBigValueBytes = std::size_t{16} << 20;
// Long enough that a peer whose pings wait behind the merge is suspected (after one protocol period)
// and declared dead (after the suspicion timeout) well before the merge ends.
constexpr auto kSlowMerge = std::chrono::milliseconds(3'000);

NodeOptions fast_detection(const std::string& data_dir, std::vector<std::string> seeds) {
  NodeOptions options;
  options.data_dir = data_dir;
  options.gossip_port = 0;
  options.seeds = std::move(seeds);
  options.cluster_name = "lanes";
  options.cluster_keys = {test::shared_cluster_key()};
  options.gossip_interval_ms = 100;
  options.protocol_period_ms = 400;
  options.suspicion_timeout_ms = 1'500;
  return options;
}

// The first frame over 1 MiB a node receives (the 16 MiB push) takes kSlowMerge to merge.
node::NodeTestHooks slow_first_big_merge() {
  auto slowed = std::make_shared<std::atomic<bool>>(false);
  node::NodeTestHooks hooks;
  hooks.before_stream_frame = [slowed](std::size_t frame_bytes) {
    if (frame_bytes > (std::size_t{1} << 20) && !slowed->exchange(true)) std::this_thread::sleep_for(kSlowMerge);
  };
  return hooks;
}

std::unique_ptr<Node> start(const NodeOptions& options) {
  auto node = node::start_node_with_test_hooks(options, slow_first_big_merge());
  INFO((node ? std::string("started") : node.error().to_string()));
  REQUIRE(node.has_value());
  return std::move(*node);
}

// Every membership state any node held of any other, sampled every 20 ms while it runs.
class StateWatch {
 public:
  explicit StateWatch(std::vector<Node*> nodes) : nodes_(std::move(nodes)), thread_([this] { run(); }) {}
  ~StateWatch() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // "observer -> member: state" for every state other than alive ever seen.
  std::vector<std::string> not_alive() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void run() {
    while (!stopping_) {
      for (Node* node : nodes_) {
        for (const NodeStatus::Member& member : node->status().members) {
          if (member.state == "alive") continue;
          std::lock_guard lock(mutex_);
          seen_.push_back(hex_id(node->replica_id()) + " -> " + hex_id(member.id) + ": " + member.state);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  std::vector<Node*> nodes_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<std::string> seen_;
  std::thread thread_;
};

bool all_alive(Node& node, std::size_t members) {
  const NodeStatus status = node.status();
  if (status.members.size() != members) return false;
  for (const NodeStatus::Member& member : status.members) {
    if (member.state != "alive") return false;
  }
  return true;
}

TEST_CASE("failure detection e2e: a 16 MiB write merged on a slow disk makes no node declare another dead") {
  test::TempDir dir;
  auto writer = start(fast_detection(dir.str() + "/writer", {}));
  const std::string seed = "127.0.0.1:" + std::to_string(writer->gossip_port());
  auto b = start(fast_detection(dir.str() + "/b", {seed}));
  auto c = start(fast_detection(dir.str() + "/c", {seed}));
  REQUIRE(test::eventually([&] { return all_alive(*writer, 2) && all_alive(*b, 2) && all_alive(*c, 2); }));

  StateWatch watch({writer.get(), b.get(), c.get()});
  const std::string big(kBigValueBytes, 'v');
  REQUIRE(writer->store().put("big", big));
  // b and c each take kSlowMerge over the push; meanwhile their pings must still be answered.
  const auto arrived = [&](Node& node) {
    auto value = node.store().get("big");
    return value && value->value.size() == kBigValueBytes;
  };
  CHECK(test::eventually([&] { return arrived(*b) && arrived(*c); }, std::chrono::seconds(60)));
  // Past the merges by more than a suspicion timeout: a suspicion born during them would be a death now.
  std::this_thread::sleep_for(std::chrono::milliseconds(2'000));
  watch.stop();

  std::vector<std::string> deaths = watch.not_alive();
  std::erase_if(deaths, [](const std::string& seen) { return seen.find(": dead") == std::string::npos; });
  INFO("first death seen: " << (deaths.empty() ? "none" : deaths.front()));
  CHECK(deaths.empty());
  // (A suspicion on a loaded machine is possible and refuted within a period or two: only deaths count.)
  CHECK(test::eventually([&] { return all_alive(*writer, 2) && all_alive(*b, 2) && all_alive(*c, 2); },
                         std::chrono::seconds(5)));
  c->stop();
  b->stop();
  writer->stop();
}

}  // namespace
}  // namespace cairn
