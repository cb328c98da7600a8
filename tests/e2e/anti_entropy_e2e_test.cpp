// Catch-up and partition healing with real processes and real sockets: a cairnd killed with SIGKILL,
// written around until the others trimmed their logs, restarted from its data directory, catches up;
// three Nodes in network namespaces, split by a partition with writes on both sides, heal to
// identical state.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cairn/node.h"
#include "cairn/store.h"
#include "gossip/sim/cluster.h"
#include "src/node/test_hooks.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/netns_lab.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::DaemonProcess;

bool eventually(const std::function<bool()>& check, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return check();
}

std::vector<std::string> daemon_args(const std::string& data_dir, const std::vector<std::string>& seeds) {
  std::vector<std::string> args{
      "--data-dir",   data_dir, "--gossip-port",        "0",
      "--cluster",    "ae-e2e", "--gossip-interval-ms", "100",
      "--durability", "nosync", "--cluster-key-file",   test::shared_cluster_key_file()};
  for (const std::string& seed : seeds) {
    args.push_back("--seed");
    args.push_back(seed);
  }
  return args;
}

NodeOptions fast_node(const std::string& data_dir, const std::string& host, std::uint16_t port,
                      std::vector<std::string> seeds) {
  NodeOptions options;
  options.data_dir = data_dir;
  options.listen_host = host;
  options.gossip_port = port;
  options.seeds = std::move(seeds);
  options.cluster_name = "ae-e2e";
  options.gossip_interval_ms = 100;
  options.protocol_period_ms = 300;
  options.suspicion_timeout_ms = 1500;
  options.cluster_keys = {test::shared_cluster_key()};
  return options;
}

// How many of keys key/0 .. key/<count-1> a daemon's data directory holds (opened read-only, beside
// the daemon), or -1 when the store cannot be opened.
int keys_present(const std::string& data_dir, int count) {
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = Store::open(data_dir, read_only);
  if (!store) return -1;
  int present = 0;
  for (int i = 0; i < count; ++i) {
    if ((*store)->get("key/" + std::to_string(i))) ++present;
  }
  return present;
}

// Whether a daemon's delta log is trimmed empty (so a returning peer cannot be caught up from it).
bool log_trimmed_empty(const std::string& data_dir) {
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = store::open_replica(data_dir, store::ReplicaOptions{read_only, nullptr});
  if (!store) return false;
  auto bounds = (*store)->delta_log_bounds();
  return bounds && bounds->last > 0 && bounds->first > bounds->last;
}

std::string state_of(const std::string& data_dir) {
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = Store::open(data_dir, read_only);
  return store ? sim::digest_of(**store) : store.error().to_string();
}

TEST_CASE("e2e: a cairnd killed with SIGKILL, written around and restarted catches up") {
  test::TempDir dir;
  const std::string a_dir = (dir.path() / "a").string(), b_dir = (dir.path() / "b").string(),
                    c_dir = (dir.path() / "c").string();
  DaemonProcess a(CAIRND_PATH, daemon_args(a_dir, {}));
  DaemonProcess b(CAIRND_PATH, daemon_args(b_dir, {a.gossip_address()}));
  auto c = std::make_unique<DaemonProcess>(CAIRND_PATH, daemon_args(c_dir, {a.gossip_address()}));
  store::Replica* writer_replica = nullptr;  // The writer's delta log, through the node's test seam.
  node::NodeTestHooks hooks;
  hooks.store_opened = [&](store::Replica& replica) { writer_replica = &replica; };
  auto writer_node = node::start_node_with_test_hooks(
      fast_node((dir.path() / "writer").string(), "127.0.0.1", 0, {a.gossip_address()}), std::move(hooks));
  REQUIRE(writer_node.has_value());
  REQUIRE(writer_replica != nullptr);
  Node& writer = **writer_node;

  REQUIRE(writer.store().put("before", "the crash"));
  REQUIRE(eventually([&] { return state_of(c_dir).find("before=the crash") != std::string::npos; },
                     std::chrono::seconds(30)));
  c->kill_hard();
  // Written around: the others go on, see c dead, and trim what they logged meanwhile.
  auto c_is_dead = [&] {
    for (const auto& member : writer.status().members) {
      if (member.state == "dead") return true;
    }
    return false;
  };
  REQUIRE(eventually(c_is_dead, std::chrono::seconds(30)));
  const auto log_before = writer_replica->delta_log_bounds();
  REQUIRE(log_before.has_value());
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i)
    REQUIRE(writer.store().put("key/" + std::to_string(i), "v" + std::to_string(i)));
  REQUIRE(
      eventually([&] { return keys_present(a_dir, kKeys) == kKeys && keys_present(b_dir, kKeys) == kKeys; },
                 std::chrono::seconds(60)));
  REQUIRE(eventually(
      [&] {
        auto bounds = writer_replica->delta_log_bounds();
        return bounds && bounds->first > log_before->last + kKeys;  // Every write of the outage trimmed.
      },
      std::chrono::seconds(30)));
  // The daemons' logs too: only anti-entropy can bring c back now.
  REQUIRE(eventually([&] { return log_trimmed_empty(a_dir) && log_trimmed_empty(b_dir); },
                     std::chrono::seconds(60)));

  c = std::make_unique<DaemonProcess>(CAIRND_PATH, daemon_args(c_dir, {a.gossip_address()}));
  INFO("c holds " << keys_present(c_dir, kKeys) << " of " << kKeys);
  CHECK(eventually([&] { return keys_present(c_dir, kKeys) == kKeys; }, std::chrono::seconds(90)));
  CHECK(state_of(c_dir).find("before=the crash") != std::string::npos);
  writer.stop();
}

TEST_CASE(
    "e2e: three Nodes in network namespaces, partitioned with writes on both sides, heal to identical "
    "state") {
  test::TempDir dir;
  test::NetnsLab lab(3);
  std::unique_ptr<Node> nodes[3];
  store::Replica* replicas[3] = {};  // Their delta logs, through the node's test seam.
  for (int i = 0; i < 3; ++i) {
    const std::vector<std::string> seeds =
        i == 0 ? std::vector<std::string>{} : std::vector<std::string>{test::NetnsLab::address(0) + ":7400"};
    Result<std::unique_ptr<Node>> started = fail(ErrorCode::kUnavailable, "not started");
    lab.inside(i, [&] {
      node::NodeTestHooks hooks;
      hooks.store_opened = [&replicas, i](store::Replica& replica) { replicas[i] = &replica; };
      started = node::start_node_with_test_hooks(
          fast_node((dir.path() / std::to_string(i)).string(), test::NetnsLab::address(i), 7400, seeds),
          std::move(hooks));
    });
    INFO((started ? std::string("started") : started.error().to_string()));
    REQUIRE(started.has_value());
    nodes[i] = std::move(*started);
  }
  const auto everyone_sees = [&](std::size_t alive) {
    for (auto& node : nodes) {
      std::size_t count = 0;
      for (const auto& member : node->status().members) count += member.state == "alive" ? 1 : 0;
      if (count != alive) return false;
    }
    return true;
  };
  REQUIRE(eventually([&] { return everyone_sees(2); }, std::chrono::seconds(30)));
  REQUIRE(nodes[0]->store().sadd("tags", {"shared"}));
  REQUIRE(eventually([&] { return sim::digest_of(nodes[2]->store()).find("shared") != std::string::npos; },
                     std::chrono::seconds(30)));

  lab.cut(0);  // Node 0 alone on one side, nodes 1 and 2 on the other.
  const auto isolated = [&] {
    for (const auto& member : nodes[0]->status().members) {
      if (member.state == "alive" || member.state == "suspect") return false;
    }
    return true;
  };
  REQUIRE(eventually(isolated, std::chrono::seconds(30)));
  REQUIRE(nodes[0]->store().put("register", "side A"));
  REQUIRE(nodes[0]->store().sadd("tags", {"a-1", "a-2"}));
  REQUIRE(nodes[0]->store().incr("visits", 5));
  REQUIRE(nodes[1]->store().put("register", "side B"));
  REQUIRE(nodes[1]->store().srem("tags", {"shared"}));
  REQUIRE(nodes[2]->store().incr("visits", 7));
  REQUIRE(nodes[2]->store().del("never-existed"));
  for (int i = 0; i < 100; ++i) REQUIRE(nodes[1 + i % 2]->store().put("bulk/" + std::to_string(i), "b"));
  // The majority side replicates and trims its logs while node 0 is away: what it wrote can reach
  // node 0 only by anti-entropy. (Node 0, alone, keeps its log for whoever comes.)
  const auto majority_trimmed = [&] {
    for (int i : {1, 2}) {
      auto bounds = replicas[i]->delta_log_bounds();
      if (!bounds || bounds->first <= bounds->last) return false;
    }
    return true;
  };
  REQUIRE(eventually(majority_trimmed, std::chrono::seconds(30)));

  lab.connect(0);
  const auto same_everywhere = [&] {
    const std::string first = sim::digest_of(nodes[0]->store());
    return sim::digest_of(nodes[1]->store()) == first && sim::digest_of(nodes[2]->store()) == first;
  };
  INFO("node 0: " << sim::digest_of(nodes[0]->store()) << "\nnode 1: " << sim::digest_of(nodes[1]->store()));
  REQUIRE(eventually(same_everywhere, std::chrono::seconds(60)));
  for (auto& node : nodes) {
    Store& store = node->store();
    auto reg = store.get("register");
    REQUIRE(reg.has_value());
    CHECK(reg->concurrent.size() == 1);  // Both concurrent writes survive; one wins everywhere.
    CHECK(*store.counter("visits") == 12);
    CHECK(*store.sismember("tags", "a-1"));
    CHECK(*store.sismember("tags", "a-2"));
    CHECK_FALSE(*store.sismember("tags", "shared"));
    CHECK(store.get("bulk/99")->value == "b");
  }
  for (auto& node : nodes) node->stop();
}

}  // namespace
}  // namespace cairn
