// A simulated cluster: N gossip peers, each with a real store (LMDB, kNoSync) in its own directory,
// driven by the virtual-time scheduler over the simulated network. Everything is seeded, replica ids
// included, so the membership, the ring and every message follow from the seed (register timestamps
// come from the wall clock, so which of two concurrent writes wins may differ between runs).
// Used by the simulator tests and bench/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "src/store/replica.h"
#include "gossip/peer.h"
#include "gossip/sim/network.h"
#include "gossip/sim/scheduler.h"

namespace cairn::sim {

struct ClusterOptions {
  int peers = 3;
  std::uint64_t seed = 1;
  std::uint64_t tick_interval_ms = 50;  // How often each peer's timers are driven.
  int seed_peers = 1;                   // Peers 0..seed_peers-1 are everyone's seeds.
  gossip::PeerOptions peer;  // With no cluster key and not insecure: sealed under a key made from `seed`.
  Network::Faults faults;
  // Peer i's store reads the system clock shifted by clock_skew_ms[i] (negative: behind) for its
  // register timestamps; peers past the end of the list read it unshifted.
  std::vector<std::int64_t> clock_skew_ms;
};

// A text rendering of every key and value in `store` (registers with their concurrent values, set
// members, counter values), for comparing replicas.
std::string digest_of(Store& store);

class Cluster {
 public:
  // Stores live in subdirectories of `data_root`, which must exist and outlive the cluster.
  Cluster(std::filesystem::path data_root, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts every peer (staggered by a few ms, as real peers would be).
  void start_all();

  // Runs the simulation for `duration_ms` of virtual time.
  void run_for(std::uint64_t duration_ms);

  // Runs until `done()` holds (checked every `check_every_ms`) or `limit_ms` passes; returns the
  // virtual time it took, or nullopt on timeout.
  template <typename Done>
  std::optional<std::uint64_t> run_until(Done&& done, std::uint64_t limit_ms,
                                         std::uint64_t check_every_ms = 50) {
    const SimTimeMs started = scheduler_.now_ms();
    while (scheduler_.now_ms() - started <= limit_ms) {
      if (done()) return scheduler_.now_ms() - started;
      run_for(check_every_ms);
    }
    return std::nullopt;
  }

  // Stops peer `i` abruptly (no leave): it stops ticking and receiving; its store stays on disk.
  void crash(int i);
  // Restarts a crashed peer from its data directory; it rejoins through its seeds and remembered members.
  void restart(int i);
  bool running(int i) const;
  // Freezes peer `i` for `duration_ms` of virtual time, as a process that gets no CPU (a GC pause, a
  // swap storm, an overloaded host): it runs no timer and handles no frame until then; what arrives
  // meanwhile waits and is handled when it wakes, after its first (late) tick.
  void stall(int i, std::uint64_t duration_ms);
  bool stalled(int i) const;
  // Adds a peer that is not started (restart(i) starts it, from whatever its directory holds then),
  // with its own endpoint and seeded id for a new store; returns its index.
  int add_peer();
  // Where peer i's store lives.
  const std::filesystem::path& directory(int i) const;

  store::Replica& store(int i);
  gossip::Peer& peer(int i);
  const gossip::Endpoint& endpoint(int i) const;
  int size() const { return static_cast<int>(nodes_.size()); }
  Scheduler& scheduler() { return scheduler_; }
  Network& network() { return network_; }

  // A text rendering of every key and value in store `i` (registers with their concurrent values,
  // set members, counter values), for comparing replicas.
  std::string digest(int i);
  // True when every running peer's digest is the same.
  bool converged();
  // True when every running peer counts every other peer (running or not) as reachable.
  bool everyone_knows_everyone() const;

 private:
  struct Node;
  void schedule_tick(int i, std::uint64_t generation);
  void send_all(int from, std::vector<gossip::OutgoingFrame> frames);
  void open_peer(int i);

  std::filesystem::path data_root_;
  ClusterOptions options_;
  Scheduler scheduler_;
  Network network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::uint64_t seed_state_ = 0;  // Where the seeded peer seeds and replica ids are drawn from.
  void deliver(int i, std::string frame);
};

}  // namespace cairn::sim
