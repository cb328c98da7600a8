#include "gossip/sim/cluster.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "src/util/rng.h"
#include "src/util/system_clock.h"

namespace cairn::sim {

struct Cluster::Node {
  gossip::Endpoint endpoint;
  std::filesystem::path directory;
  std::unique_ptr<store::Replica> store;
  std::unique_ptr<gossip::Peer> peer;
  std::uint64_t generation = 0;  // Bumped on every crash, so ticks of an earlier life stop.
  std::uint64_t peer_seed = 0;
  std::uint64_t replica_id = 0;
  SimTimeMs stalled_until_ms = 0;  // Cluster::stall: no tick and no frame before this.
};

Cluster::Cluster(std::filesystem::path data_root, ClusterOptions options)
    : data_root_(std::move(data_root)), options_(std::move(options)), network_(scheduler_, options_.seed) {
  network_.set_faults(options_.faults);
  // Simulated peers seal their frames like real ones unless a test says otherwise: one cluster key,
  // derived from the seed (it protects nothing here; the point is to run the sealing path).
  gossip::PeerSecurity& security = options_.peer.security;
  if (security.cluster_keys.empty() && !security.insecure) {
    std::uint64_t key_state = options_.seed;
    gossip::ClusterKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(splitmix64(key_state));
    security.cluster_keys.push_back(key);
  }
  seed_state_ = options_.seed;  // The same draws as before add_peer() existed: peer ids follow the seed.
  for (int i = 0; i < options_.peers; ++i) add_peer();
}

int Cluster::add_peer() {
  const int i = size();
  auto node = std::make_unique<Node>();
  node->endpoint = gossip::Endpoint{"10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 7400};
  node->directory = data_root_ / ("peer-" + std::to_string(i));
  node->peer_seed = splitmix64(seed_state_);
  node->replica_id = splitmix64(seed_state_) | 1;  // Never 0.
  nodes_.push_back(std::move(node));
  return i;
}

const std::filesystem::path& Cluster::directory(int i) const { return nodes_[static_cast<std::size_t>(i)]->directory; }

Cluster::~Cluster() {
  // Peers first (they borrow the stores), then the stores.
  for (auto& node : nodes_) node->peer.reset();
}

void Cluster::open_peer(int i) {
  Node& node = *nodes_[static_cast<std::size_t>(i)];
  StoreOptions store_options;
  store_options.durability = Durability::kNoSync;  // The simulation models crashes, not power loss.
  store_options.map_size_bytes = 8ull << 20;  // Small (it grows on demand): thousands of maps fit.
  store_options.replica_id_for_new_store = node.replica_id;  // Seeded, so the ring is the same every run.
  const auto index = static_cast<std::size_t>(i);
  const std::int64_t skew_ms = index < options_.clock_skew_ms.size() ? options_.clock_skew_ms[index] : 0;
  // Writes commit inline on the simulator's thread: no writer thread per simulated store.
  auto store = store::open_replica(
      node.directory.string(),
      store::ReplicaOptions{store_options, std::make_shared<SkewedWallClock>(skew_ms), /*inline_writer=*/true});
  // Test-harness code: this runs inside scheduler events, where no Result can be returned, so a store
  // that cannot open throws, and the test framework reports it as a failure of the running test.
  if (!store) throw std::runtime_error("simulated peer store: " + store.error().to_string());
  node.store = std::move(*store);
  std::vector<gossip::Endpoint> seeds;
  for (int s = 0; s < options_.seed_peers && s < size(); ++s) {
    if (s != i) seeds.push_back(nodes_[static_cast<std::size_t>(s)]->endpoint);
  }
  node.peer =
      std::make_unique<gossip::Peer>(node.endpoint, *node.store, seeds, options_.peer, node.peer_seed++);
  network_.attach(node.endpoint, [this, i](const gossip::Endpoint&, gossip::Channel, std::string frame) {
    deliver(i, std::move(frame));
  });
  send_all(i, node.peer->start(scheduler_.now_ms()));
  schedule_tick(i, node.generation);
}

void Cluster::deliver(int i, std::string frame) {
  Node& target = *nodes_[static_cast<std::size_t>(i)];
  if (!target.peer) return;
  if (scheduler_.now_ms() < target.stalled_until_ms) {
    // Waits in the socket buffer until the peer runs again (in arrival order: equal due times keep
    // scheduling order). A crash meanwhile drops it, like the buffer of a killed process.
    const std::uint64_t generation = target.generation;
    scheduler_.schedule_after(target.stalled_until_ms - scheduler_.now_ms(),
                              [this, i, generation, frame = std::move(frame)]() mutable {
                                if (nodes_[static_cast<std::size_t>(i)]->generation == generation)
                                  deliver(i, std::move(frame));
                              });
    return;
  }
  send_all(i, target.peer->on_frame(frame, scheduler_.now_ms()));
}

void Cluster::stall(int i, std::uint64_t duration_ms) {
  Node& node = *nodes_[static_cast<std::size_t>(i)];
  node.stalled_until_ms = std::max(node.stalled_until_ms, scheduler_.now_ms() + duration_ms);
}

bool Cluster::stalled(int i) const {
  return scheduler_.now_ms() < nodes_[static_cast<std::size_t>(i)]->stalled_until_ms;
}

void Cluster::start_all() {
  for (int i = 0; i < size(); ++i) {
    scheduler_.schedule_after(static_cast<SimTimeMs>(i % 10), [this, i] { open_peer(i); });
  }
  scheduler_.run_until(scheduler_.now_ms() + 10);
}

void Cluster::schedule_tick(int i, std::uint64_t generation) {
  scheduler_.schedule_after(options_.tick_interval_ms, [this, i, generation] {
    Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (node.generation != generation || !node.peer) return;
    if (scheduler_.now_ms() < node.stalled_until_ms) {
      // The timer fires late, once the peer runs again (one tick, as a late event loop would run it).
      scheduler_.schedule_after(node.stalled_until_ms - scheduler_.now_ms(), [this, i, generation] {
        Node& late = *nodes_[static_cast<std::size_t>(i)];
        if (late.generation != generation || !late.peer) return;
        send_all(i, late.peer->tick(scheduler_.now_ms()));
        schedule_tick(i, generation);
      });
      return;
    }
    send_all(i, node.peer->tick(scheduler_.now_ms()));
    schedule_tick(i, generation);
  });
}

void Cluster::send_all(int from, std::vector<gossip::OutgoingFrame> frames) {
  const gossip::Endpoint& source = nodes_[static_cast<std::size_t>(from)]->endpoint;
  for (gossip::OutgoingFrame& frame : frames)
    network_.send(source, frame.to, frame.channel, std::move(frame.bytes));
}

void Cluster::run_for(std::uint64_t duration_ms) { scheduler_.run_until(scheduler_.now_ms() + duration_ms); }

void Cluster::crash(int i) {
  Node& node = *nodes_[static_cast<std::size_t>(i)];
  network_.detach(node.endpoint);
  ++node.generation;
  node.peer.reset();
  node.store.reset();  // kNoSync: everything committed is in the OS page cache, as after a process crash.
}

void Cluster::restart(int i) {
  if (running(i)) return;
  open_peer(i);
}

bool Cluster::running(int i) const { return nodes_[static_cast<std::size_t>(i)]->peer != nullptr; }

store::Replica& Cluster::store(int i) { return *nodes_[static_cast<std::size_t>(i)]->store; }
gossip::Peer& Cluster::peer(int i) { return *nodes_[static_cast<std::size_t>(i)]->peer; }
const gossip::Endpoint& Cluster::endpoint(int i) const {
  return nodes_[static_cast<std::size_t>(i)]->endpoint;
}

std::string digest_of(Store& replica) {
  std::string text;
  auto keys = replica.scan("");
  for (auto key = keys->next(); key && key->has_value(); key = keys->next()) {
    const std::string& name = **key;
    text += name;
    text += '=';
    if (auto value = replica.get(name)) {
      text += value->value;
      for (const std::string& loser : value->concurrent) text += "|" + loser;
    } else if (auto count = replica.counter(name)) {
      text += std::to_string(*count);
    } else if (auto members = replica.smembers(name)) {
      for (auto member = (*members)->next(); member && member->has_value(); member = (*members)->next()) {
        text += **member + ",";
      }
    }
    text += ';';
  }
  return text;
}

std::string Cluster::digest(int i) { return digest_of(store(i)); }

bool Cluster::everyone_knows_everyone() const {
  for (int i = 0; i < size(); ++i) {
    const Node& node = *nodes_[static_cast<std::size_t>(i)];
    if (node.peer &&
        node.peer->membership().reachable_members().size() != static_cast<std::size_t>(size() - 1)) {
      return false;
    }
  }
  return true;
}

bool Cluster::converged() {
  std::string first;
  bool have_first = false;
  for (int i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    std::string mine = digest(i);
    if (!have_first) {
      first = std::move(mine);
      have_first = true;
    } else if (mine != first) {
      return false;
    }
  }
  return true;
}

}  // namespace cairn::sim
