// Random histories: sets of operations, replica ids and timestamps. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "crdt/causal.h"
#include "crdt/causal_map.h"
#include "crdt/dot.h"
#include "crdt/dot_context.h"
#include "crdt/dot_fun.h"
#include "crdt/dot_map.h"
#include "crdt/dot_set.h"
#include "crdt/hlc.h"
#include "crdt/lattice.h"
#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "src/util/rng.h"
#include "tests/support/property.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Sets of operations.

// A set of operations of one history, by index in issue order. Histories stay under 64 operations so
// that a set is one word and the models' set algebra costs a few instructions.
using OpSet = std::uint64_t;
inline constexpr std::size_t kMaxOps = 64;

constexpr OpSet op_bit(std::size_t op) { return OpSet{1} << op; }
constexpr OpSet ops_below(std::size_t count) { return count >= kMaxOps ? ~OpSet{0} : op_bit(count) - 1; }
constexpr bool has_op(OpSet ops, std::size_t op) { return (ops & op_bit(op)) != 0; }

template <typename Visit>
void for_each_op(OpSet ops, Visit&& visit) {
  while (ops != 0) {
    visit(static_cast<std::size_t>(std::countr_zero(ops)));
    ops &= ops - 1;
  }
}

// A uniformly chosen member of a non-empty set.
inline std::size_t random_op(OpSet ops, Rng& rng) {
  for (auto skip = rng.below(static_cast<std::uint64_t>(std::popcount(ops))); skip > 0; --skip)
    ops &= ops - 1;
  return static_cast<std::size_t>(std::countr_zero(ops));
}

// Each member kept with probability 1/2, but never empty when `ops` is not.
inline OpSet random_subset(OpSet ops, Rng& rng) {
  if (ops == 0) return 0;
  const OpSet subset = ops & rng.next();
  return subset != 0 ? subset : op_bit(random_op(ops, rng));
}

inline std::string show_ops(OpSet ops) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for_each_op(ops, [&](std::size_t op) {
    out << separator << op;
    separator = ",";
  });
  out << "}";
  return out.str();
}

// Fisher-Yates with the project Rng: std::shuffle's draws differ between standard libraries, and a
// printed seed must replay the same history everywhere.
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

// ---------------------------------------------------------------------------------------------------
// Replica ids and timestamps.

// `count` distinct replica ids in one of three shapes: small ids (so their order against the replica
// index varies), ids at both ends of the range (0 and the maximum, where an off-by-one in a dot
// search would show), or arbitrary 64-bit ids.
inline std::vector<crdt::ReplicaId> random_replica_ids(Rng& rng, std::size_t count) {
  const auto shape = rng.below(3);
  std::set<std::uint64_t> chosen;
  std::vector<crdt::ReplicaId> ids;
  while (ids.size() < count) {
    std::uint64_t id = 0;
    switch (shape) {
      case 0:
        id = rng.below(8);
        break;
      case 1:
        id = rng.chance(1, 2) ? rng.below(3) : UINT64_MAX - rng.below(3);
        break;
      default:
        id = rng.next();
        break;
    }
    if (chosen.insert(id).second) ids.push_back(crdt::ReplicaId{id});
  }
  return ids;
}

// Timestamps for register writes, drawn so that equal timestamps on different replicas are common:
// the tie-break by replica id is what most needs exercising. Per history, either every replica runs a
// HybridClock over coarse, skewed wall clocks (realistic; ties when the clocks agree), or timestamps
// come from a tiny domain with no causal order at all (the register must not rely on one).
class TimestampSource {
 public:
  TimestampSource(Rng& rng, std::size_t replicas) : tiny_domain_(rng.chance(1, 3)) {
    for (std::size_t i = 0; i < replicas; ++i) {
      clocks_.push_back(std::make_unique<ReplicaClock>());
      skews_ms_.push_back(rng.below(3));
    }
  }

  // The timestamp of a write by `replica`, which has seen timestamps up to `seen`.
  crdt::HlcTimestamp next(Rng& rng, std::size_t replica, const crdt::HlcTimestamp& seen) {
    if (tiny_domain_) return crdt::HlcTimestamp{rng.below(3), static_cast<std::uint32_t>(rng.below(2))};
    sim_time_ms_ += rng.below(2);
    ReplicaClock& clock = *clocks_[replica];
    clock.wall.ms = sim_time_ms_ + skews_ms_[replica];
    if (clock.wall.ms > 0 && rng.chance(1, 8)) --clock.wall.ms;  // A wall clock stepping back.
    clock.hlc.observe(seen);
    return clock.hlc.now();
  }

 private:
  class ScriptedWallClock : public crdt::WallClock {
   public:
    std::uint64_t now_ms() override { return ms; }
    std::uint64_t ms = 0;
  };
  struct ReplicaClock {
    ScriptedWallClock wall;
    crdt::HybridClock hlc{wall};
  };

  bool tiny_domain_;
  std::uint64_t sim_time_ms_ = 0;
  std::vector<std::uint64_t> skews_ms_;
  std::vector<std::unique_ptr<ReplicaClock>> clocks_;  // HybridClock borrows its wall clock: no moves.
};

}  // namespace cairn::test
