// An application that runs a cairn peer in-process (cairn::Node): it writes while offline, then starts
// the node, joins a cluster through a seed (a cairnd, say), and syncs both ways: its offline writes
// reach the cluster and the cluster's writes reach it.
//
//   node_embedded --data-dir DIR --seed HOST:PORT --cluster-key-file FILE [--cluster NAME]
//                 [--wait-for KEY] [--timeout-ms N]
//
// Steps, each printed: (1) open the store in DIR with no network and write a register, a set and a
// counter; close it. (2) start a Node on DIR (gossip on 127.0.0.1, an ephemeral port) that joins
// through the seed with the cluster's key (cairnd's --cluster-key-file). (3) wait until the seed has
// acknowledged every offline write, and, with --wait-for, until KEY (written elsewhere in the cluster)
// has arrived. (4) leave the cluster and stop. Exits 0 when all of it happened within the timeout
// (default 30 s), 1 when not, 2 for a bad command line.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "cairn/node.h"
#include "cairn/store.h"

namespace {

constexpr const char* kUsage =
    "usage: node_embedded --data-dir DIR --seed HOST:PORT --cluster-key-file FILE [--cluster NAME]\n"
    "                     [--wait-for KEY] [--timeout-ms N]\n"
    "Writes to a cairn store in DIR offline, then runs a peer in-process that joins the cluster through\n"
    "the seed and waits until its writes are acknowledged (and KEY, if given, has arrived).\n";

struct Arguments {
  std::string data_dir, seed, key_file, cluster = "cairn", wait_for;
  long timeout_ms = 30'000;
};

std::optional<Arguments> parse(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;  // Every flag takes a value.
    const std::string value = argv[++i];
    if (flag == "--data-dir") arguments.data_dir = value;
    else if (flag == "--seed") arguments.seed = value;
    else if (flag == "--cluster-key-file") arguments.key_file = value;
    else if (flag == "--cluster") arguments.cluster = value;
    else if (flag == "--wait-for") arguments.wait_for = value;
    else if (flag == "--timeout-ms") arguments.timeout_ms = std::stol(value);
    else return std::nullopt;
  }
  if (arguments.data_dir.empty() || arguments.seed.empty() || arguments.key_file.empty()) return std::nullopt;
  return arguments;
}

int failed(const char* step, const cairn::Error& error) {
  std::fprintf(stderr, "node_embedded: %s failed: %s\n", step, error.to_string().c_str());
  return 1;
}

// Step 1: writes with no network at all; each call returns once its write is durable.
cairn::Status write_offline(const std::string& data_dir) {
  auto opened = cairn::Store::open(data_dir);
  if (!opened) return tl::unexpected(opened.error());
  cairn::Store& store = **opened;
  if (auto done = store.put("edge/note", "written offline"); !done) return done;
  if (auto done = store.sadd("edge/sensors", {"humidity", "temperature"}); !done) return done;
  if (auto done = store.incr("edge/boots"); !done) return done;
  std::printf("wrote 3 keys offline as replica %016llx\n", static_cast<unsigned long long>(store.replica_id()));
  return cairn::ok();
}  // The store closes here; the node opens it again.

// Whether some live neighbour has acknowledged every delta of ours (its replication lag is zero).
bool acknowledged_by_a_neighbour(cairn::Node& node) {
  const cairn::NodeStatus status = node.status();
  for (const auto& member : status.members) {
    if (member.neighbour && member.state == "alive" && member.lag_entries == 0) return true;
  }
  return false;
}

// Polls `done` every 100 ms until it holds or `deadline` passes.
template <typename Check>
bool wait_until(std::chrono::steady_clock::time_point deadline, Check&& done) {
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<Arguments> arguments = parse(argc, argv);
  if (!arguments) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (auto written = write_offline(arguments->data_dir); !written) return failed("offline write", written.error());

  cairn::NodeOptions options;
  options.data_dir = arguments->data_dir;
  options.gossip_port = 0;  // Ephemeral: many apps on one host never collide.
  options.seeds = {arguments->seed};
  options.cluster_name = arguments->cluster;
  std::string key;
  std::ifstream(arguments->key_file) >> key;  // The cluster key: every peer of the cluster holds the same.
  options.cluster_keys = {key};
  auto started = cairn::Node::start(options);
  if (!started) return failed("node start", started.error());
  cairn::Node& node = **started;
  std::printf("node started: replica %016llx, gossip 127.0.0.1:%u, seed %s\n",
              static_cast<unsigned long long>(node.replica_id()), unsigned{node.gossip_port()},
              arguments->seed.c_str());

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(arguments->timeout_ms);
  bool synced = wait_until(deadline, [&] { return acknowledged_by_a_neighbour(node); });
  std::printf("offline writes acknowledged by the cluster: %s\n", synced ? "yes" : "NO (timed out)");
  if (synced && !arguments->wait_for.empty()) {
    synced = wait_until(deadline, [&] { return node.store().get(arguments->wait_for).has_value(); });
    if (synced) {
      std::printf("received %s = %s\n", arguments->wait_for.c_str(),
                  node.store().get(arguments->wait_for)->value.c_str());
    } else {
      std::printf("received %s: NO (timed out)\n", arguments->wait_for.c_str());
    }
  }
  node.stop();  // Announces the leave, then closes the network and the store.
  std::printf("%s\n", synced ? "synced" : "NOT synced");
  return synced ? 0 : 1;
}
