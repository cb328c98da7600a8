// Retiring a peer (issue 6 item 6, docs/metadata-gc.md), in the simulator: an operator retires a peer
// cut off by a partition while it keeps writing; the decision reaches every peer, the retired replica
// leaves every version vector, and when the partition heals the retired peer is told, starts over under
// a new id, is refilled by anti-entropy and re-issues its unsynced writes, with nothing acknowledged
// lost and nothing deleted brought back. And a peer dead past the horizon is retired with no operator.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "gossip/sim/cluster.h"
#include "tests/gossip/sim/fast_cluster_options.h"
#include "tests/gossip/sim/store_probes.h"
#include "tests/support/temp_dir.h"

namespace cairn::sim {
namespace {

ClusterOptions retirement_options(int peers, std::uint64_t seed) {
  ClusterOptions options = fast_cluster_options(peers, seed, "retire");
  options.peer.stability.report_interval_ms = 500;
  options.peer.stability.compaction_interval_ms = 1000;
  return options;
}

bool vector_mentions(store::Replica& store, std::uint64_t replica) {
  auto vector = store.context_vector();
  REQUIRE(vector.has_value());
  return std::any_of(vector->begin(), vector->end(),
                     [&](const VersionVectorEntry& entry) { return entry.replica == replica; });
}

std::set<std::string> members_of(store::Replica& store, const std::string& key) {
  std::set<std::string> members;
  auto cursor = store.smembers(key);
  REQUIRE(cursor.has_value());
  for (auto member = (*cursor)->next(); member && member->has_value(); member = (*cursor)->next()) {
    members.insert(**member);
  }
  return members;
}

void require_ok(const Status& status) {
  INFO((status ? std::string("ok") : status.error().to_string()));
  REQUIRE(status.has_value());
}

TEST_CASE("sim: a retired peer that comes back re-issues its unsynced writes under a new id and resurrects nothing") {
  test::TempDir dir;
  Cluster cluster(dir.path(), retirement_options(5, 71));
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
  constexpr int kRetired = 4;
  const std::uint64_t old_id = cluster.store(kRetired).replica_id();

  // Synced state everyone holds.
  require_ok(cluster.store(0).put("reg/a", "v1"));
  require_ok(cluster.store(0).put("reg/b", "kept-until-x-deletes"));
  require_ok(cluster.store(1).put("reg/gone", "deleted-while-x-was-away"));
  require_ok(cluster.store(0).sadd("set/s", {"m1", "m2"}));
  require_ok(cluster.store(kRetired).incr("cnt/c", 5));
  REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 30'000));

  // The retired-to-be peer is cut off and keeps writing; the others write too.
  cluster.network().partition({{cluster.endpoint(kRetired).host}});
  require_ok(cluster.store(kRetired).put("reg/x", "written-offline"));
  require_ok(cluster.store(kRetired).put("reg/a", "x-overwrite"));
  require_ok(cluster.store(kRetired).del("reg/b"));
  require_ok(cluster.store(kRetired).sadd("set/s", {"mx"}));
  require_ok(cluster.store(kRetired).srem("set/s", {"m1"}));
  require_ok(cluster.store(kRetired).incr("cnt/c", 7));
  require_ok(cluster.store(1).del("reg/gone"));
  require_ok(cluster.store(1).incr("cnt/c", 11));

  // The operator retires it once the others see it dead.
  const auto dead_everywhere = [&] {
    for (int i = 0; i < kRetired; ++i) {
      const auto& members = cluster.peer(i).membership().members();
      auto it = members.find(gossip::PeerId{old_id});
      if (it == members.end() || it->second.status != gossip::MemberStatus::kDead) return false;
    }
    return true;
  };
  REQUIRE(cluster.run_until(dead_everywhere, 30'000));
  CHECK_FALSE(cluster.peer(0).retire(gossip::PeerId{cluster.store(0).replica_id()}, 0).has_value());
  require_ok(cluster.peer(0).retire(gossip::PeerId{old_id}, cluster.scheduler().now_ms()));
  const auto retired_everywhere = [&] {
    for (int i = 0; i < kRetired; ++i) {
      if (!cluster.peer(i).stability().retired().contains(gossip::PeerId{old_id})) return false;
    }
    return true;
  };
  REQUIRE(cluster.run_until(retired_everywhere, 30'000));
  CHECK(cluster.peer(0).stability().stats().retirements_decided == 1);
  for (int i = 0; i < kRetired; ++i) {
    INFO("peer " << i);
    CHECK_FALSE(cluster.peer(i).membership().members().contains(gossip::PeerId{old_id}));
    CHECK_FALSE(vector_mentions(cluster.store(i), old_id));  // It costs no version vector space any more.
  }

  // The partition heals: the retired peer is told, starts over, is refilled and re-issues.
  cluster.network().heal();
  const auto settled = [&] {
    auto pending = cluster.store(kRetired).has_retired_writes();
    return cluster.peer(kRetired).reincarnations() == 1 && pending && !*pending &&
           cluster.everyone_knows_everyone() && cluster.converged();
  };
  const auto took = cluster.run_until(settled, 120'000, 200);
  INFO("peer 0: " << cluster.digest(0) << "\npeer " << kRetired << ": " << cluster.digest(kRetired));
  REQUIRE(took.has_value());
  const std::uint64_t new_id = cluster.store(kRetired).replica_id();
  CHECK(new_id != old_id);
  CHECK(cluster.peer(kRetired).id().value == new_id);

  for (int i = 0; i < cluster.size(); ++i) {
    INFO("peer " << i);
    store::Replica& store = cluster.store(i);
    auto x = store.get("reg/x");
    REQUIRE(x.has_value());
    CHECK(x->value == "written-offline");
    auto a = store.get("reg/a");
    REQUIRE(a.has_value());
    CHECK(a->value == "x-overwrite");
    CHECK(store.get("reg/b").error().code() == ErrorCode::kNotFound);     // Its offline delete, re-applied.
    CHECK(store.get("reg/gone").error().code() == ErrorCode::kNotFound);  // Not resurrected by its copy.
    CHECK(members_of(store, "set/s") == std::set<std::string>{"m2", "mx"});
    auto count = store.counter("cnt/c");
    REQUIRE(count.has_value());
    CHECK(*count == 5 + 7 + 11);  // Every increment exactly once.
    CHECK_FALSE(vector_mentions(store, old_id));
    CHECK_FALSE(cluster.peer(i).membership().members().contains(gossip::PeerId{old_id}));
  }
  std::printf("sim retirement: the retired peer was back in sync %llu ms after the heal\n",
              static_cast<unsigned long long>(*took));
}

TEST_CASE("sim: a peer dead past the horizon is retired with no operator and leaves every version vector") {
  test::TempDir dir;
  ClusterOptions options = retirement_options(4, 72);
  options.peer.stability.retire_after_ms = 10'000;
  Cluster cluster(dir.path(), options);
  cluster.start_all();
  REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
  constexpr int kGone = 3;
  const std::uint64_t gone_id = cluster.store(kGone).replica_id();
  require_ok(cluster.store(kGone).put("reg/g", "from-the-gone-peer"));
  require_ok(cluster.store(kGone).incr("cnt/g", 3));
  REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 30'000));
  // A delete leaves a reset entry about the gone peer's contribution: only retirement can free it.
  require_ok(cluster.store(0).del("cnt/g"));
  cluster.crash(kGone);

  const auto retired_everywhere = [&] {
    for (int i = 0; i < kGone; ++i) {
      if (!cluster.peer(i).stability().retired().contains(gossip::PeerId{gone_id})) return false;
      if (vector_mentions(cluster.store(i), gone_id)) return false;
    }
    return true;
  };
  REQUIRE(cluster.run_until(retired_everywhere, 120'000, 200));
  std::uint64_t decided = 0;
  for (int i = 0; i < kGone; ++i) {
    INFO("peer " << i);
    decided += cluster.peer(i).stability().stats().retirements_decided;
    auto g = cluster.store(i).get("reg/g");  // Its writes stay: retiring forgets the replica, not its data.
    REQUIRE(g.has_value());
    CHECK(g->value == "from-the-gone-peer");
    CHECK(cluster.store(i).counter("cnt/g").error().code() == ErrorCode::kNotFound);
  }
  CHECK(decided >= 1);
  // The reset about the retired contributor is compacted away on every peer, by their own sweeps.
  const auto compacted = [&] {
    for (int i = 0; i < kGone; ++i) {
      if (test::orphaned_resets(cluster.store(i)) != 0) return false;
    }
    return true;
  };
  CHECK(cluster.run_until(compacted, 30'000, 500));
  std::uint64_t dropped = 0;
  for (int i = 0; i < kGone; ++i) dropped += cluster.peer(i).stability().stats().resets_dropped;
  CHECK(dropped >= 1);

  // A restarted peer still remembers the retired one in its peers table: it must stay retired, at the
  // same counter, past the horizon again, with its data intact.
  std::uint64_t through = cluster.peer(0).stability().retired().at(gossip::PeerId{gone_id});
  cluster.crash(0);
  cluster.restart(0);
  cluster.run_for(30'000);
  for (int i = 0; i < kGone; ++i) {
    INFO("peer " << i);
    CHECK(cluster.peer(i).stability().retired().at(gossip::PeerId{gone_id}) == through);
    CHECK_FALSE(cluster.peer(i).membership().members().contains(gossip::PeerId{gone_id}));
    auto g = cluster.store(i).get("reg/g");
    REQUIRE(g.has_value());
    CHECK(g->value == "from-the-gone-peer");
  }
}

}  // namespace
}  // namespace cairn::sim
