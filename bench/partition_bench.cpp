// partition_bench: what a partition costs in metadata against how evenly peers share the partitions,
// the two figures the default partition count is chosen from (docs/partitions.md "Choosing the count").
//
//   partition_bench            prints both tables (about a second)
//
// Metadata per partition, for R replicas that wrote to it: the stored causal context (codec encoding of a
// version vector of R entries with realistic counters), the context report one holder sends per report
// round (a whole wire frame, unsealed), the dot counters (8 bytes per replica per partition: every
// replica keeps its own counter for every partition) and the level-1 hash-tree node an anti-entropy
// pass compares per partition (16 x 8 bytes, each way).
//
// Placement: N peers with 8 virtual nodes each (gossip::RingOptions' default) on the ring of
// gossip::Ring::position_of; partition p sits at p * 2^64 / P and is held by the first n = 3 distinct
// peers clockwise (ARCHITECTURE.md "Placement"). Reported: the most and fewest partitions a peer holds
// against the mean, over 20 seeded sets of replica ids.
#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "crdt/dot_context.h"
#include "gossip/ring.h"
#include "gossip/wire.h"
#include "src/codec/codec.h"

namespace {

using cairn::gossip::PeerId;

void metadata_table() {
  std::printf("# metadata per partition, bytes\n");
  std::printf("replicas_writing,context_stored,report_frame,dot_counters,tree_level1_per_pass\n");
  for (int replicas : {1, 3, 10, 50}) {
    std::mt19937_64 random(replicas);
    cairn::crdt::VersionVector vector;
    cairn::gossip::ContextReport report;
    for (int r = 0; r < replicas; ++r) {
      const std::uint64_t id = random() | 1;
      const std::uint64_t counter = 1 + random() % 1'000'000;  // A partition of a busy store.
      vector.raise(cairn::crdt::ReplicaId{id}, counter);
      report.vector.push_back({PeerId{id}, counter});
    }
    std::sort(report.vector.begin(), report.vector.end(),
              [](const auto& a, const auto& b) { return a.replica < b.replica; });
    const auto context = cairn::crdt::DotContext::from_parts(vector, {});
    cairn::gossip::Envelope envelope;
    envelope.cluster_id = 1;
    envelope.sender = PeerId{1};
    envelope.sender_endpoint = {"10.0.0.1", 7400};
    envelope.body = report;
    std::printf("%d,%zu,%zu,%d,%d\n", replicas, cairn::codec::encode_context(context).size(),
                cairn::gossip::encode_peer_frame(envelope).size(), 8 * replicas, 16 * 8);
  }
}

struct Spread {
  double max_over_mean = 0;
  double min_over_mean = 1e9;
};

Spread placement(int peers, std::uint32_t partitions, int replication, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<PeerId> members;
  for (int i = 0; i < peers; ++i) members.push_back(PeerId{random() | 1});
  cairn::gossip::Ring ring;
  ring.set_members(members);
  const auto& positions = ring.positions();
  std::vector<int> held(members.size(), 0);
  const long double step = 18446744073709551616.0L / partitions;
  for (std::uint32_t p = 0; p < partitions; ++p) {
    const auto at = static_cast<std::uint64_t>(step * p);
    auto it = std::lower_bound(positions.begin(), positions.end(), at,
                               [](const auto& position, std::uint64_t value) { return position.position < value; });
    std::set<std::uint64_t> holders;
    for (std::size_t walked = 0; walked < positions.size() && static_cast<int>(holders.size()) < replication; ++walked) {
      if (it == positions.end()) it = positions.begin();
      holders.insert(it->peer.value);
      ++it;
    }
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (holders.contains(members[m].value)) ++held[m];
    }
  }
  const double mean = static_cast<double>(partitions) * std::min(replication, peers) / peers;
  const auto [low, high] = std::minmax_element(held.begin(), held.end());
  return Spread{*high / mean, *low / mean};
}

void placement_table() {
  std::printf("\n# placement: partitions held per peer against the mean (n = 3, 8 virtual nodes, 20 seeds)\n");
  std::printf("peers,partitions,worst_max_over_mean,mean_max_over_mean,worst_min_over_mean\n");
  for (int peers : {5, 10, 20, 50}) {
    for (std::uint32_t partitions : {16u, 64u, 256u, 1024u, 4096u}) {
      double worst_max = 0, sum_max = 0, worst_min = 1e9;
      const int seeds = 20;
      for (int seed = 1; seed <= seeds; ++seed) {
        const Spread spread = placement(peers, partitions, 3, static_cast<std::uint64_t>(seed) * 7919);
        worst_max = std::max(worst_max, spread.max_over_mean);
        worst_min = std::min(worst_min, spread.min_over_mean);
        sum_max += spread.max_over_mean;
      }
      std::printf("%d,%u,%.2f,%.2f,%.2f\n", peers, partitions, worst_max, sum_max / seeds, worst_min);
    }
  }
}

}  // namespace

int main() {
  metadata_table();
  placement_table();
  return 0;
}
