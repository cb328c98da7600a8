// A replica's identity in the simulator (issue 13 item 3, docs/store.md "Identity"): a peer whose data
// file is rolled back in place (the fingerprint cannot tell), and a clone of a live peer that kept its
// fingerprint (a cloned VM), each started cut off from the cluster and written to there, with the rest
// of the cluster writing on. Once they meet, the copy that re-minted dots its original had already
// minted moves to a new id, is refilled and re-issues its writes; every acknowledged write is then
// present on every peer, every increment counted once, and every peer equal. And a normal restart: its
// newest writes are held until the members confirm them, then go out, under the same id.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <lmdb.h>

#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gossip/sim/cluster.h"
#include "src/codec/codec.h"
#include "src/store/databases.h"
#include "src/store/fingerprint.h"
#include "tests/gossip/sim/acked_history.h"
#include "tests/gossip/sim/fast_cluster_options.h"
#include "tests/support/property.h"
#include "tests/support/temp_dir.h"

namespace cairn::sim {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint64_t inode_of(const fs::path& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_ino;
}

// Writes `bytes` over `file` in place (same inode): a backup restored into the same file, or a VM
// snapshot rolled back.
void overwrite_in_place(const fs::path& file, const std::string& bytes) {
  const std::uint64_t inode = inode_of(file);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  REQUIRE(inode_of(file) == inode);
}

// Makes the store in `dir` believe it is where its id was minted, as a cloned VM's disk does (same
// inode, filesystem and machine id); a plain copy elsewhere is caught on open instead.
void forge_fingerprint(const fs::path& dir) {
  auto here = store::fingerprint_of(dir.string());
  REQUIRE(here.has_value());
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 16);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi meta = 0;
  REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
  MDB_val key{std::strlen(store::kMetaIdentityKey), const_cast<char*>(store::kMetaIdentityKey)};
  MDB_val value{};
  REQUIRE(mdb_get(txn, meta, &key, &value) == 0);
  auto decoded = codec::decode_meta(std::string_view(static_cast<const char*>(value.mv_data), value.mv_size));
  REQUIRE(decoded.has_value());
  decoded->fingerprint = *here;
  std::string bytes = codec::encode_meta(*decoded);
  MDB_val updated{bytes.size(), bytes.data()};
  REQUIRE(mdb_put(txn, meta, &key, &updated, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

// Peer i's data file as of now, taken at a crash point (crash, copy, restart).
std::string snapshot(Cluster& cluster, int i) {
  cluster.crash(i);
  std::string bytes = read_file(cluster.directory(i) / "data.mdb");
  cluster.restart(i);
  return bytes;
}

void require_ok(const Status& status) {
  INFO((status ? std::string("ok") : status.error().to_string()));
  REQUIRE(status.has_value());
}

// What a copy acknowledged while cut off, on keys of its own (register keys and set members no one
// else writes, so each must be there in the end), and on a counter shared with the cluster.
struct CutOffWrites {
  std::map<std::string, std::string> registers;
  std::set<std::string> members;
  std::int64_t increments = 0;

  void write(store::Replica& store, Rng& rng, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string tag = std::to_string(registers.size() + members.size() + static_cast<std::size_t>(i));
      switch (rng.below(3)) {
        case 0:
          require_ok(store.put("cut/reg/" + tag, "v" + tag));
          registers["cut/reg/" + tag] = "v" + tag;
          break;
        case 1:
          require_ok(store.sadd("cut/set", {"c" + tag}));
          members.insert("c" + tag);
          break;
        default: {
          const std::uint64_t amount = 1 + rng.below(9);
          require_ok(store.incr("count/shared", amount));
          increments += static_cast<std::int64_t>(amount);
          break;
        }
      }
    }
  }

  void check(store::Replica& store, std::int64_t shared_total) const {
    for (const auto& [key, value] : registers) {
      INFO("register " << key);
      auto read = store.get(key);
      REQUIRE(read.has_value());
      CHECK(read->value == value);
    }
    std::set<std::string> present;
    auto cursor = store.smembers("cut/set");
    REQUIRE(cursor.has_value());
    for (auto member = (*cursor)->next(); member && member->has_value(); member = (*cursor)->next()) {
      present.insert(**member);
    }
    CHECK(present == members);
    auto total = store.counter("count/shared");
    REQUIRE(total.has_value());
    CHECK(*total == shared_total);
  }
};

// The cluster's writes: random acknowledged operations (tests/gossip/sim/acked_history.h) at random
// running peers among `writers`, and increments of the shared counter.
struct ClusterWrites {
  test::AckedHistory history;
  std::int64_t shared_increments = 0;

  void write(Cluster& cluster, Rng& rng, const std::vector<int>& writers, int count) {
    for (int i = 0; i < count; ++i) {
      store::Replica& store = cluster.store(writers[rng.below(writers.size())]);
      if (rng.below(4) == 0) {
        const std::uint64_t amount = 1 + rng.below(9);
        require_ok(store.incr("count/shared", amount));
        shared_increments += static_cast<std::int64_t>(amount);
      } else {
        history.random_operation(store, rng);
      }
    }
  }
};

std::vector<int> all_but(int peers, int excluded) {
  std::vector<int> writers;
  for (int i = 0; i < peers; ++i) {
    if (i != excluded) writers.push_back(i);
  }
  return writers;
}

bool retired_anywhere(Cluster& cluster, std::uint64_t replica) {
  for (int i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    auto retired = cluster.store(i).retirements();
    REQUIRE(retired.has_value());
    for (const Retirement& retirement : *retired) {
      if (retirement.replica == replica) return true;
    }
  }
  return false;
}

// Runs until `copy` holds an id other than `old_id`, has re-issued what it set aside, and every
// running peer is equal.
void settle(Cluster& cluster, int copy, std::uint64_t old_id) {
  const auto settled = cluster.run_until(
      [&] {
        auto pending = cluster.store(copy).has_retired_writes();
        return cluster.store(copy).replica_id() != old_id && pending && !*pending && cluster.converged();
      },
      180'000, 200);
  INFO("copy's id " << cluster.store(copy).replica_id() << ", old id " << old_id);
  REQUIRE(settled.has_value());
}

TEST_CASE("sim: a peer rolled back in place and written to while cut off moves to a new id and loses nothing") {
  test::for_each_history("sim identity: rolled back in place", 3, [](Rng& rng) {
    constexpr int kPeers = 5;
    test::TempDir dir;
    Cluster cluster(dir.path(), fast_cluster_options(kPeers, rng.next(), "identity"));
    cluster.start_all();
    REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
    ClusterWrites writes;
    const std::vector<int> everyone = all_but(kPeers, -1);
    writes.write(cluster, rng, everyone, 30);
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 60'000));

    const int rolled = static_cast<int>(rng.below(kPeers));
    const std::uint64_t old_id = cluster.store(rolled).replica_id();
    const std::string older_copy = snapshot(cluster, rolled);
    REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
    // Acknowledged after the snapshot, by the peer itself among others: the cluster holds them.
    writes.write(cluster, rng, {rolled}, 5);
    writes.write(cluster, rng, everyone, 25);
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 60'000));

    // Rolled back to the older copy in place, restarted cut off, and written to.
    cluster.crash(rolled);
    overwrite_in_place(cluster.directory(rolled) / "data.mdb", older_copy);
    cluster.network().partition({{cluster.endpoint(rolled).host}});
    cluster.restart(rolled);
    REQUIRE(cluster.store(rolled).replica_id() == old_id);  // Same file: nothing to notice on open.
    CutOffWrites cut_off;
    cut_off.write(cluster.store(rolled), rng, 8);
    writes.write(cluster, rng, all_but(kPeers, rolled), 20);
    cluster.run_for(3'000);
    CHECK(cluster.store(rolled).identity().unconfirmed_from != 0);  // Nobody could confirm them.
    cluster.network().heal();
    settle(cluster, rolled, old_id);

    const StoreIdentity identity = cluster.store(rolled).identity();
    REQUIRE(identity.last_change.has_value());
    CHECK(identity.last_change->reason == IdentityChangeReason::kConflict);
    CHECK(identity.last_change->emptied);  // It had written while unconfirmed.
    CHECK(identity.predecessors == std::vector<std::uint64_t>{old_id});
    CHECK_FALSE(retired_anywhere(cluster, old_id));  // Abandoned, not retired (no operator yet).
    for (int i = 0; i < kPeers; ++i) {
      INFO("peer " << i);
      writes.history.check(cluster.store(i));
      cut_off.check(cluster.store(i), writes.shared_increments + cut_off.increments);
    }
  });
}

TEST_CASE("sim: a clone of a live peer that kept its fingerprint moves to a new id, and the original keeps its own") {
  test::for_each_history("sim identity: clone of a live peer", 3, [](Rng& rng) {
    constexpr int kPeers = 4;
    test::TempDir dir;
    Cluster cluster(dir.path(), fast_cluster_options(kPeers, rng.next(), "identity"));
    cluster.start_all();
    REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
    ClusterWrites writes;
    const std::vector<int> members = all_but(kPeers, -1);
    writes.write(cluster, rng, members, 30);
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 60'000));

    const int original = static_cast<int>(rng.below(kPeers));
    const std::uint64_t original_id = cluster.store(original).replica_id();
    const std::string disk = snapshot(cluster, original);
    // The original goes on: writes acknowledged after the clone's disk was taken.
    writes.write(cluster, rng, {original}, 5);
    writes.write(cluster, rng, members, 15);
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 60'000));

    // The cloned VM boots cut off with the original's disk, and is written to.
    const int clone = cluster.add_peer();
    fs::remove_all(cluster.directory(clone));
    fs::create_directories(cluster.directory(clone));
    { std::ofstream(cluster.directory(clone) / "data.mdb", std::ios::binary) << disk; }
    forge_fingerprint(cluster.directory(clone));
    cluster.network().partition({{cluster.endpoint(clone).host}});
    cluster.restart(clone);
    REQUIRE(cluster.store(clone).replica_id() == original_id);
    CutOffWrites cut_off;
    cut_off.write(cluster.store(clone), rng, 8);
    writes.write(cluster, rng, members, 20);  // The original among them.
    cluster.run_for(3'000);
    cluster.network().heal();
    settle(cluster, clone, original_id);

    CHECK(cluster.store(original).replica_id() == original_id);  // The original keeps its id...
    CHECK(cluster.peer(original).reincarnations() == 0);
    // ...and stays a live member everywhere: the clone announced the id it gave up as left, and the
    // original refuted that as any live member refutes a false report.
    const auto original_alive_everywhere = [&] {
      for (int i = 0; i <= kPeers; ++i) {
        if (i == original) continue;
        const auto& known = cluster.peer(i).membership().members();
        auto member = known.find(gossip::PeerId{original_id});
        if (member == known.end() || member->second.status != gossip::MemberStatus::kAlive) return false;
      }
      return true;
    };
    CHECK(cluster.run_until(original_alive_everywhere, 30'000).has_value());
    for (int i = 0; i <= kPeers; ++i) {
      INFO("peer " << i);
      writes.history.check(cluster.store(i));
      cut_off.check(cluster.store(i), writes.shared_increments + cut_off.increments);
    }
  });
}

TEST_CASE("sim: a restarted peer holds its newest writes until its members confirm them, then ships them under the same id") {
  test::for_each_history("sim identity: normal restarts", 3, [](Rng& rng) {
    constexpr int kPeers = 3;
    test::TempDir dir;
    Cluster cluster(dir.path(), fast_cluster_options(kPeers, rng.next(), "identity"));
    cluster.start_all();
    REQUIRE(cluster.run_until([&] { return cluster.everyone_knows_everyone(); }, 60'000));
    const int restarted = static_cast<int>(rng.below(kPeers));
    const std::uint64_t id = cluster.store(restarted).replica_id();
    require_ok(cluster.store(restarted).put("before", "b"));
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 30'000));
    const auto visible_everywhere = [&](const std::string& key) {
      for (int i = 0; i < kPeers; ++i) {
        if (!cluster.store(i).get(key)) return false;
      }
      return true;
    };

    // Restarted cut off: its write is held (nobody could confirm it), then shipped after the heal.
    cluster.crash(restarted);
    cluster.network().partition({{cluster.endpoint(restarted).host}});
    cluster.restart(restarted);
    require_ok(cluster.store(restarted).put("held", "h"));
    cluster.run_for(2'000);
    CHECK(cluster.store(restarted).identity().unconfirmed_from != 0);
    CHECK(cluster.store(restarted).identity().held_from_sequence != 0);
    cluster.network().heal();
    const auto shipped = cluster.run_until([&] { return visible_everywhere("held"); }, 30'000, 10);
    REQUIRE(shipped.has_value());
    std::printf("sim identity: a write held while cut off reached every peer %llu ms (virtual) after the heal\n",
                static_cast<unsigned long long>(*shipped));

    // Restarted in plain sight and written to at once.
    cluster.crash(restarted);
    cluster.restart(restarted);
    require_ok(cluster.store(restarted).put("after-restart", "a"));
    const auto delivered = cluster.run_until([&] { return visible_everywhere("after-restart"); }, 30'000, 10);
    REQUIRE(delivered.has_value());
    std::printf("sim identity: a write made at a restart reached every peer %llu ms (virtual) later\n",
                static_cast<unsigned long long>(*delivered));

    // No false alarm: the same id all along, nothing set aside, everyone equal.
    CHECK(cluster.store(restarted).replica_id() == id);
    CHECK(cluster.store(restarted).identity().unconfirmed_from == 0);
    CHECK_FALSE(cluster.store(restarted).identity().last_change.has_value());
    CHECK(cluster.peer(restarted).stability().stats().identity_conflicts == 0);
    CHECK(cluster.peer(restarted).stability().stats().identity_confirmations == 1);
    REQUIRE(cluster.run_until([&] { return cluster.converged(); }, 30'000));
  });
}

}  // namespace
}  // namespace cairn::sim
