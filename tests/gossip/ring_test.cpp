// Tests of gossip/ring.h: the position hash, the ring, the neighbour rule (against a naive reading of
// it), how neighbour lists adapt to failures and returns, the degree bound and the flooding bound.
#include "gossip/ring.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "src/util/rng.h"
#include "tests/support/property.h"

namespace cairn::gossip {
namespace {

using test::for_each_history;

// ---- Helpers ----

std::vector<PeerId> random_members(Rng& rng, int count) {
  std::set<PeerId> ids;
  while (static_cast<int>(ids.size()) < count) ids.insert(PeerId{rng.next()});
  return {ids.begin(), ids.end()};
}

std::vector<PeerId> consecutive_members(int count) {
  std::vector<PeerId> ids;
  for (int i = 1; i <= count; ++i) ids.push_back(PeerId{static_cast<std::uint64_t>(i)});
  return ids;
}

Ring make_ring(const std::vector<PeerId>& members, RingOptions options = {}) {
  Ring ring(options);
  ring.set_members(members);
  return ring;
}

std::map<PeerId, std::vector<PeerId>> all_neighbours(const Ring& ring, const std::vector<PeerId>& members) {
  std::map<PeerId, std::vector<PeerId>> lists;
  for (const PeerId peer : members) lists[peer] = ring.neighbours(peer);
  return lists;
}

int ceil_log2(std::size_t n) { return n <= 1 ? 0 : static_cast<int>(std::ceil(std::log2(n))); }

// Who sends to whom, by index into the sorted member list.
using Adjacency = std::vector<std::vector<std::size_t>>;

Adjacency adjacency(const Ring& ring, std::vector<PeerId> members) {
  std::sort(members.begin(), members.end());
  Adjacency out(members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    for (const PeerId n : ring.neighbours(members[i])) {
      const auto it = std::lower_bound(members.begin(), members.end(), n);
      out[i].push_back(static_cast<std::size_t>(it - members.begin()));
    }
  }
  return out;
}

// Synchronous flooding from `source`: in round r every peer holding the item sends it to all its
// neighbours. Returns the rounds until every peer holds it, or nullopt if some peer never does.
std::optional<int> flood_rounds(const Adjacency& graph, std::size_t source) {
  std::vector<bool> has(graph.size(), false);
  has[source] = true;
  std::size_t reached = 1;
  std::vector<std::size_t> frontier{source};
  int rounds = 0;
  while (reached < graph.size()) {
    std::vector<std::size_t> next;
    for (const std::size_t peer : frontier) {
      for (const std::size_t n : graph[peer]) {
        if (!has[n]) {
          has[n] = true;
          next.push_back(n);
        }
      }
    }
    if (next.empty()) return std::nullopt;
    reached += next.size();
    frontier = std::move(next);
    ++rounds;
  }
  return rounds;
}

// The worst flooding time over every source (or, past `max_sources` peers, over an evenly spaced sample
// of that many sources); nullopt if some source does not reach everyone.
std::optional<int> worst_flood_rounds(const Adjacency& graph, std::size_t max_sources = 200) {
  const std::size_t stride = (graph.size() + max_sources - 1) / max_sources;
  int worst = 0;
  for (std::size_t source = 0; source < graph.size(); source += stride) {
    const auto rounds = flood_rounds(graph, source);
    if (!rounds) return std::nullopt;
    worst = std::max(worst, *rounds);
  }
  return worst;
}

// The neighbour rule of ring.h read as literally as possible, with no ring walking: the standard the
// real implementation is checked against.
std::vector<PeerId> naive_neighbours(std::vector<PeerId> members, const RingOptions& options, PeerId self) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (!std::binary_search(members.begin(), members.end(), self) || members.size() < 2) return {};
  std::set<PeerId> out;

  // Ring links: neighbours in the order of primary positions.
  std::vector<std::pair<std::uint64_t, PeerId>> primaries;
  for (const PeerId m : members) primaries.emplace_back(Ring::position_of(m, 0), m);
  std::sort(primaries.begin(), primaries.end());
  const std::size_t n = primaries.size();
  const auto self_it =
      std::find_if(primaries.begin(), primaries.end(), [self](const auto& p) { return p.second == self; });
  const auto k = static_cast<std::size_t>(self_it - primaries.begin());
  for (std::size_t j = 1; j <= std::min<std::size_t>(static_cast<std::size_t>(options.successors), n - 1);
       ++j) {
    out.insert(primaries[(k + j) % n].second);
  }
  for (std::size_t j = 1; j <= std::min<std::size_t>(static_cast<std::size_t>(options.predecessors), n - 1);
       ++j) {
    out.insert(primaries[(k + n - j) % n].second);
  }

  // Fingers: the other peer's position least far clockwise from primary + 2^i (ties by peer, vnode).
  if (options.fingers) {
    const std::uint64_t primary = Ring::position_of(self, 0);
    for (int i = 0; i < 64; ++i) {
      const std::uint64_t target = primary + (std::uint64_t{1} << i);
      std::optional<std::tuple<std::uint64_t, PeerId, int>> best;
      for (const PeerId m : members) {
        if (m == self) continue;
        for (int v = 0; v < options.virtual_nodes; ++v) {
          const std::tuple<std::uint64_t, PeerId, int> key{Ring::position_of(m, v) - target, m, v};
          if (!best || key < *best) best = key;
        }
      }
      out.insert(std::get<1>(*best));
    }
  }
  return {out.begin(), out.end()};
}

RingOptions random_options(Rng& rng) {
  RingOptions options;
  options.virtual_nodes = static_cast<int>(rng.between(1, 8));
  options.successors = static_cast<int>(rng.between(0, 3));
  options.predecessors = static_cast<int>(rng.between(0, 3));
  options.fingers = rng.chance(3, 4);
  return options;
}

// ---- Positions ----

TEST_CASE("ring: position_of is a stable hash, the same on every platform") {
  // Pinned values: a change here moves every peer's ring and must be a deliberate, versioned decision.
  CHECK(Ring::position_of(PeerId{0}, 0) == 0xA706DD2F4D197E6FULL);
  CHECK(Ring::position_of(PeerId{1}, 0) == 0x5E41AB087439611EULL);
  CHECK(Ring::position_of(PeerId{1}, 7) == 0x3F391C8A76D960BBULL);
  CHECK(Ring::position_of(PeerId{0xDEADBEEF}, 3) == 0xAC75F0A487FF924CULL);
}

TEST_CASE("ring: position_of spreads consecutive ids and virtual nodes evenly") {
  constexpr int kPeers = 1000;
  constexpr int kVirtualNodes = 8;
  std::set<std::uint64_t> seen;
  std::vector<int> buckets(16, 0);  // By the top 4 bits.
  for (int peer = 0; peer < kPeers; ++peer) {
    for (int v = 0; v < kVirtualNodes; ++v) {
      const std::uint64_t position = Ring::position_of(PeerId{static_cast<std::uint64_t>(peer)}, v);
      seen.insert(position);
      ++buckets[position >> 60];
    }
  }
  CHECK(seen.size() == kPeers * kVirtualNodes);
  // 8000 positions, 500 expected per bucket (standard deviation about 22).
  for (const int count : buckets) {
    CHECK(count > 400);
    CHECK(count < 600);
  }
}

TEST_CASE("ring: positions are in ring order, virtual_nodes entries per member") {
  for_each_history("ring positions", 50, [](Rng& rng) {
    const RingOptions options = random_options(rng);
    const auto members = random_members(rng, static_cast<int>(rng.between(1, 40)));
    const Ring ring = make_ring(members, options);
    const auto& positions = ring.positions();
    REQUIRE(positions.size() == members.size() * static_cast<std::size_t>(options.virtual_nodes));
    CHECK(std::is_sorted(positions.begin(), positions.end()));
    std::map<PeerId, std::set<int>> vnodes;
    for (const RingPosition& p : positions) {
      CHECK(p.position == Ring::position_of(p.peer, p.virtual_node));
      vnodes[p.peer].insert(p.virtual_node);
    }
    REQUIRE(vnodes.size() == members.size());
    for (const auto& [peer, set] : vnodes) {
      CHECK(set.size() == static_cast<std::size_t>(options.virtual_nodes));
      CHECK(*set.begin() == 0);
      CHECK(*set.rbegin() == options.virtual_nodes - 1);
    }
  });
}

// ---- The neighbour rule ----

TEST_CASE("ring: a lone peer has no neighbours, two peers have each other") {
  for (const RingOptions options : {RingOptions{}, RingOptions{1, 1, 1, true}, RingOptions{3, 0, 0, true},
                                    RingOptions{8, 2, 2, false}, RingOptions{4, 1, 0, false}}) {
    const PeerId a{7}, b{42}, stranger{99};
    CHECK(make_ring({}, options).neighbours(a).empty());
    CHECK(make_ring({a}, options).neighbours(a).empty());
    CHECK(make_ring({a, a, a}, options).neighbours(a).empty());
    const Ring pair = make_ring({a, b}, options);
    CHECK(pair.neighbours(a) == std::vector<PeerId>{b});
    CHECK(pair.neighbours(b) == std::vector<PeerId>{a});
    CHECK(pair.neighbours(stranger).empty());  // Not a member.
  }
}

TEST_CASE("ring: neighbours follow the rule exactly (checked against a naive reading of it)") {
  for_each_history("ring naive neighbours", 100, [](Rng& rng) {
    const RingOptions options = random_options(rng);
    const auto members = random_members(rng, static_cast<int>(rng.between(1, 30)));
    INFO("virtual_nodes " << options.virtual_nodes << " successors " << options.successors << " predecessors "
                          << options.predecessors << " fingers " << options.fingers << " N "
                          << members.size());
    const Ring ring = make_ring(members, options);
    for (const PeerId self : members)
      CHECK(ring.neighbours(self) == naive_neighbours(members, options, self));
  });
}

TEST_CASE("ring: neighbours are sorted, distinct, and never self") {
  for_each_history("ring neighbour shape", 50, [](Rng& rng) {
    const auto members = random_members(rng, static_cast<int>(rng.between(2, 100)));
    const Ring ring = make_ring(members, random_options(rng));
    for (const PeerId self : members) {
      const auto list = ring.neighbours(self);
      CHECK(std::adjacent_find(list.begin(), list.end(), [](PeerId x, PeerId y) { return !(x < y); }) ==
            list.end());
      CHECK(std::find(list.begin(), list.end(), self) == list.end());
      for (const PeerId n : list) CHECK(std::binary_search(members.begin(), members.end(), n));
    }
  });
}

TEST_CASE("ring: the same members in any order, with duplicates, give the same ring") {
  for_each_history("ring determinism", 50, [](Rng& rng) {
    const RingOptions options = random_options(rng);
    const auto members = random_members(rng, static_cast<int>(rng.between(1, 60)));
    const Ring reference = make_ring(members, options);

    auto shuffled = members;
    for (std::size_t i = shuffled.size(); i > 1; --i) std::swap(shuffled[i - 1], shuffled[rng.below(i)]);
    shuffled.push_back(shuffled.front());  // A duplicate.
    // Reached through a different history: a bigger set first, then the real one.
    Ring other(options);
    other.set_members(random_members(rng, 20));
    other.set_members(shuffled);

    CHECK(other.positions() == reference.positions());
    for (const PeerId self : members) CHECK(other.neighbours(self) == reference.neighbours(self));
  });
}

// ---- Adapting to failures and returns ----

TEST_CASE("ring: a failed peer leaves exactly the lists that held it, and its return restores them") {
  for_each_history("ring fail and return", 100, [](Rng& rng) {
    const RingOptions options = random_options(rng);
    const auto members = random_members(rng, static_cast<int>(rng.between(2, 80)));
    const PeerId failed = members[rng.below(members.size())];
    Ring ring = make_ring(members, options);
    const auto before = all_neighbours(ring, members);

    std::vector<PeerId> survivors;
    std::copy_if(members.begin(), members.end(), std::back_inserter(survivors),
                 [&](PeerId p) { return p != failed; });
    ring.set_members(survivors);
    CHECK(ring.neighbours(failed).empty());
    for (const PeerId peer : survivors) {
      const auto& old_list = before.at(peer);
      const auto new_list = ring.neighbours(peer);
      CHECK(std::find(new_list.begin(), new_list.end(), failed) == new_list.end());
      if (std::find(old_list.begin(), old_list.end(), failed) == old_list.end()) {
        CHECK(new_list == old_list);  // Untouched: it did not know the failed peer.
      } else {
        // The failed peer is replaced; nobody else is dropped.
        for (const PeerId n : old_list) {
          if (n != failed) CHECK(std::binary_search(new_list.begin(), new_list.end(), n));
        }
      }
    }

    ring.set_members(members);  // The peer returns.
    CHECK(all_neighbours(ring, members) == before);
  });
}

TEST_CASE("ring: through joins, failures and returns, lists hold only live peers and match a fresh ring") {
  for_each_history("ring churn", 30, [](Rng& rng) {
    const RingOptions options = random_options(rng);
    const auto everyone = random_members(rng, 40);
    std::set<PeerId> live(everyone.begin(), everyone.begin() + 10);
    Ring ring(options);
    for (int step = 0; step < 40; ++step) {
      const PeerId peer = everyone[rng.below(everyone.size())];
      if (live.count(peer) != 0) {
        live.erase(peer);
      } else {
        live.insert(peer);
      }
      const std::vector<PeerId> members(live.begin(), live.end());
      ring.set_members(members);
      const Ring fresh = make_ring(members, options);
      for (const PeerId self : everyone) {
        const auto list = ring.neighbours(self);
        CHECK(list == fresh.neighbours(self));
        if (live.count(self) == 0) CHECK(list.empty());
        for (const PeerId n : list) {
          CHECK(n != self);
          CHECK(live.count(n) == 1);
        }
      }
    }
  });
}

// ---- Degree and flooding ----

// The documented degree bound: the ring links plus about log2(N * virtual_nodes) distinct finger targets.
// The +8 is slack for the short finger intervals (shorter than the mean gap between positions) that
// happen to hold a position: about one on average, at most +5 over 10^5 sampled peers, and each further
// one needs an interval half as long to be occupied, so +8 is out of reach in practice.
std::size_t degree_bound(std::size_t n, const RingOptions& options) {
  const std::size_t bound =
      static_cast<std::size_t>(options.successors + options.predecessors) +
      static_cast<std::size_t>(ceil_log2(n * static_cast<std::size_t>(options.virtual_nodes))) + 8;
  return std::min(bound, n - 1);
}

struct Measured {
  int worst_rounds = 0;
  double mean_degree = 0;
  std::size_t max_degree = 0;
};

Measured measure(const std::vector<PeerId>& members, const RingOptions& options) {
  const Ring ring = make_ring(members, options);
  const Adjacency graph = adjacency(ring, members);
  Measured m;
  std::size_t total = 0;
  for (const auto& list : graph) {
    total += list.size();
    m.max_degree = std::max(m.max_degree, list.size());
    CHECK(list.size() <= degree_bound(members.size(), options));
  }
  m.mean_degree = static_cast<double>(total) / static_cast<double>(members.size());
  const auto worst = worst_flood_rounds(graph);
  REQUIRE(worst.has_value());  // Every source (sampled past 200 peers) reaches every peer.
  m.worst_rounds = *worst;
  return m;
}

// Flooding from every source up to N = 200, from 200 evenly spaced sources at N = 1000. Measured with
// the defaults: 1, 1, 1, 2, 3 (rarely 4), 4, 4 worst rounds for N = 2, 3, 5, 10, 50, 200, 1000.
TEST_CASE("ring: flooding reaches all N peers within ceil(log2 N) + 2 rounds, with O(log N) degree") {
  const RingOptions options;  // The defaults.
  for (const int n : {2, 3, 5, 10, 50, 200, 1000}) {
    const std::uint64_t histories = n >= 1000 ? 3 : n >= 200 ? 10 : 40;
    const int bound = ceil_log2(static_cast<std::size_t>(n)) + 2;
    Measured worst;
    double mean_degree_sum = 0;
    std::uint64_t count = 0;
    for_each_history("ring flooding N=" + std::to_string(n), histories, [&](Rng& rng) {
      const Measured m = measure(random_members(rng, n), options);
      INFO("N " << n << ": worst flooding rounds " << m.worst_rounds << ", bound " << bound);
      CHECK(m.worst_rounds <= bound);
      worst.worst_rounds = std::max(worst.worst_rounds, m.worst_rounds);
      worst.max_degree = std::max(worst.max_degree, m.max_degree);
      mean_degree_sum += m.mean_degree;
      ++count;
    });
    // Replica ids in simulations are often 1..N: the hash must spread those just as well.
    const Measured consecutive = measure(consecutive_members(n), options);
    CHECK(consecutive.worst_rounds <= bound);
    std::printf("ring N=%d: worst flooding rounds %d (bound %d), degree mean %.1f max %zu (bound %zu)\n", n,
                std::max(worst.worst_rounds, consecutive.worst_rounds), bound,
                mean_degree_sum / static_cast<double>(count),
                std::max(worst.max_degree, consecutive.max_degree),
                degree_bound(static_cast<std::size_t>(n), options));
  }
}

TEST_CASE("ring: without fingers, flooding crawls along the ring like a line") {
  // The contrast that justifies the fingers. With ring links only, the primary ring with s successors and
  // s predecessors is a circulant graph: the farthest peer is floor(N/2) steps away and each round covers
  // s of them, so flooding takes exactly ceil(floor(N/2) / s) rounds: 50 at N = 200, where the fingers
  // need 4. Successors alone (one-way) take ceil((N-1) / s): 100.
  for_each_history("ring without fingers", 3, [](Rng& rng) {
    const auto members = random_members(rng, 200);
    RingOptions both;
    both.fingers = false;
    const auto rounds_both = worst_flood_rounds(adjacency(make_ring(members, both), members));
    REQUIRE(rounds_both.has_value());
    CHECK(*rounds_both == 50);

    RingOptions successors_only = both;
    successors_only.predecessors = 0;
    const auto rounds_one_way = worst_flood_rounds(adjacency(make_ring(members, successors_only), members));
    REQUIRE(rounds_one_way.has_value());
    CHECK(*rounds_one_way == 100);
  });
}

TEST_CASE("ring: ring links alone reach every peer, whatever the options") {
  // The guarantee under the fingers: with successors + predecessors >= 1, flooding reaches everyone
  // even with fingers off and however the virtual nodes fall.
  for_each_history("ring links reach all", 100, [](Rng& rng) {
    RingOptions options = random_options(rng);
    options.fingers = rng.chance(1, 2);
    if (options.successors + options.predecessors == 0) options.successors = 1;
    const auto members = random_members(rng, static_cast<int>(rng.between(2, 60)));
    INFO("successors " << options.successors << " predecessors " << options.predecessors << " N "
                       << members.size());
    CHECK(worst_flood_rounds(adjacency(make_ring(members, options), members)).has_value());
  });
}

}  // namespace
}  // namespace cairn::gossip
