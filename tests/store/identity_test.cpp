// A store's replica identity (src/store/identity.h, docs/store.md "Identity"): a copied data file
// takes a new id on open and keeps its data; a store rolled back in place that learns another copy
// minted under its id moves to a new id before it mints again, keeping its data when it minted nothing
// unconfirmed, else setting those writes aside and re-issuing them once refilled; nothing acknowledged
// is lost and every store ends equal.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <lmdb.h>

#include "cairn/store.h"
#include "src/codec/codec.h"
#include "src/store/databases.h"
#include "tests/store/store_sync_support.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using test::drain;
using test::open_store;
using test::refill;
using test::ship_deltas;
using test::sync_all;
using test::TempDir;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint64_t inode_of(const fs::path& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_ino;
}

// Writes `bytes` over the data file in `dir` in place, as restoring an older copy into the same file
// does (`cp old/data.mdb dir/data.mdb`, a VM snapshot rolled back): the inode stays, so the
// fingerprint does too.
void roll_back_in_place(const fs::path& dir, const std::string& bytes) {
  const fs::path file = dir / "data.mdb";
  const std::uint64_t inode = inode_of(file);
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  REQUIRE(inode_of(file) == inode);
}

std::vector<std::string> members(store::Replica& store, const std::string& key) {
  auto cursor = store.smembers(key);
  REQUIRE(cursor.has_value());
  return drain(**cursor);
}

std::uint64_t seen_of(store::Replica& store, std::uint64_t replica) {
  auto vector = store.context_vector();
  REQUIRE(vector.has_value());
  for (const VersionVectorEntry& entry : *vector) {
    if (entry.replica == replica) return entry.counter;
  }
  return 0;
}

// Removes the fingerprint from the store's meta record, as a store written before fingerprints
// existed has none.
void strip_fingerprint(const fs::path& dir) {
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
  decoded->fingerprint.reset();
  std::string bytes = codec::encode_meta(*decoded);
  MDB_val updated{bytes.size(), bytes.data()};
  REQUIRE(mdb_put(txn, meta, &key, &updated, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

// ---- Prevent at start: the fingerprint. ----

TEST_CASE("identity: a copied data directory takes a new id on open, keeping every record and naming its predecessor") {
  TempDir dir;
  std::uint64_t original_id = 0;
  {
    auto original = open_store(dir.path() / "original");
    original_id = original->replica_id();
    REQUIRE(original->put("reg", "v").has_value());
    REQUIRE(original->sadd("set", {"a", "b"}).has_value());
    REQUIRE(original->incr("ctr", 10).has_value());
    CHECK_FALSE(original->identity().last_change.has_value());  // A new store: nothing changed.
  }
  fs::copy(dir.path() / "original", dir.path() / "copy", fs::copy_options::recursive);
  auto copy = open_store(dir.path() / "copy");
  CHECK(copy->replica_id() != original_id);
  const StoreIdentity identity = copy->identity();
  CHECK(identity.replica == copy->replica_id());
  CHECK(identity.predecessors == std::vector<std::uint64_t>{original_id});
  REQUIRE(identity.last_change.has_value());
  CHECK(identity.last_change->reason == IdentityChangeReason::kCopied);
  CHECK(identity.last_change->old_replica == original_id);
  CHECK(identity.last_change->new_replica == copy->replica_id());
  CHECK_FALSE(identity.last_change->emptied);
  CHECK_THAT(identity.last_change->detail, Catch::Contains("inode"));
  // Every record stays, and so do the old id's dots in the context (as any received dots do).
  CHECK(copy->get("reg")->value == "v");
  CHECK(members(*copy, "set") == std::vector<std::string>{"a", "b"});
  CHECK(*copy->counter("ctr") == 10);
  CHECK(seen_of(*copy, original_id) == 4);  // The put, the increment and two set adds.
  // It mints under its own id from its first write on.
  REQUIRE(copy->incr("ctr", 1).has_value());
  CHECK(seen_of(*copy, copy->replica_id()) == 1);
  const std::uint64_t copy_id = copy->replica_id();
  copy.reset();
  // The new id is where it is now: reopening changes nothing more, and the original keeps its id.
  auto reopened = open_store(dir.path() / "copy");
  CHECK(reopened->replica_id() == copy_id);
  CHECK_FALSE(reopened->identity().last_change.has_value());
  CHECK(reopened->identity().predecessors == std::vector<std::uint64_t>{original_id});
  CHECK(open_store(dir.path() / "original")->replica_id() == original_id);
}

TEST_CASE("identity: an original and its copy both count on one counter, and every store ends equal") {
  // The story: a copy of a live peer's directory joined under the same id, and a counter
  // settled at 10 / 1 / 10. With the copy on its own id, every increment counts once everywhere.
  TempDir dir;
  auto third = open_store(dir.path() / "third");
  {
    auto original = open_store(dir.path() / "original");
    REQUIRE(original->incr("ctr", 9).has_value());
  }
  fs::copy(dir.path() / "original", dir.path() / "copy", fs::copy_options::recursive);
  auto original = open_store(dir.path() / "original");
  auto copy = open_store(dir.path() / "copy");
  REQUIRE(original->incr("ctr", 1).has_value());   // 10 at the original,
  REQUIRE(copy->incr("ctr", 1).has_value());       // and the copy's own increment,
  REQUIRE(original->put("after", "original").has_value());
  REQUIRE(copy->put("after-copy", "copy").has_value());
  sync_all({original.get(), copy.get(), third.get()});
  for (store::Replica* store : {original.get(), copy.get(), third.get()}) {
    INFO("store " << store->replica_id());
    CHECK(*store->counter("ctr") == 11);
    CHECK(store->get("after")->value == "original");
    CHECK(store->get("after-copy")->value == "copy");
  }
}

TEST_CASE("identity: a directory renamed on its filesystem keeps its id") {
  TempDir dir;
  std::uint64_t id = 0;
  {
    auto store = open_store(dir.path() / "before");
    id = store->replica_id();
    REQUIRE(store->put("k", "v").has_value());
  }
  fs::rename(dir.path() / "before", dir.path() / "after");
  auto moved = open_store(dir.path() / "after");
  CHECK(moved->replica_id() == id);
  CHECK_FALSE(moved->identity().last_change.has_value());
  CHECK(moved->identity().predecessors.empty());
}

TEST_CASE("identity: a store written before fingerprints records one on open and keeps its id") {
  TempDir dir;
  std::uint64_t id = 0;
  {
    auto store = open_store(dir.path() / "old");
    id = store->replica_id();
    REQUIRE(store->put("k", "v").has_value());
  }
  strip_fingerprint(dir.path() / "old");
  {
    auto store = open_store(dir.path() / "old");
    CHECK(store->replica_id() == id);
    CHECK_FALSE(store->identity().last_change.has_value());
  }
  // It recorded where it is: a copy made now is noticed.
  fs::copy(dir.path() / "old", dir.path() / "copy", fs::copy_options::recursive);
  CHECK(open_store(dir.path() / "copy")->replica_id() != id);
}

TEST_CASE("identity: a read-only open of a copy changes nothing") {
  TempDir dir;
  std::uint64_t id = 0;
  {
    auto store = open_store(dir.path() / "original");
    id = store->replica_id();
    REQUIRE(store->put("k", "v").has_value());
  }
  fs::copy(dir.path() / "original", dir.path() / "copy", fs::copy_options::recursive);
  StoreOptions read_only;
  read_only.read_only = true;
  CHECK(open_store(dir.path() / "copy", read_only)->replica_id() == id);
  CHECK(open_store(dir.path() / "copy")->replica_id() != id);  // The first writable open notices.
}

TEST_CASE("identity: adopt_new_identity keeps every record and remembers the old id") {
  TempDir dir;
  auto store = open_store(dir.path() / "s");
  const std::uint64_t old_id = store->replica_id();
  REQUIRE(store->put("k", "v").has_value());
  REQUIRE(store->incr("c", 2).has_value());
  auto change = store->adopt_new_identity();
  REQUIRE(change.has_value());
  CHECK(change->reason == IdentityChangeReason::kRequested);
  CHECK(change->old_replica == old_id);
  CHECK(change->new_replica == store->replica_id());
  CHECK_FALSE(change->emptied);
  CHECK(store->get("k")->value == "v");
  REQUIRE(store->incr("c", 3).has_value());
  CHECK(*store->counter("c") == 5);
  CHECK(seen_of(*store, store->replica_id()) == 1);
  CHECK(store->identity().predecessors == std::vector<std::uint64_t>{old_id});
}

// ---- Detect later: a store rolled back in place. ----

// An original store (in `dir`) and a cluster store that has everything the original wrote, and a
// snapshot of the original taken after its first writes: the original goes on writing after it, then
// stops, and its directory is rolled back to the snapshot (same inode: the fingerprint cannot tell).
struct RolledBack {
  TempDir dir;
  std::unique_ptr<store::Replica> cluster;
  std::uint64_t id = 0;
  std::uint64_t counter_at_snapshot = 0;

  RolledBack() {
    cluster = open_store(dir.path() / "cluster");
    std::string snapshot;
    {
      auto original = open_store(dir.path() / "peer");
      id = original->replica_id();
      REQUIRE(original->put("before", "b").has_value());
      REQUIRE(original->incr("ctr", 5).has_value());
      REQUIRE(original->sadd("set", {"m0"}).has_value());
      ship_deltas(*original, *cluster);
      counter_at_snapshot = seen_of(*original, id);
      original.reset();
      snapshot = read_file(dir.path() / "peer" / "data.mdb");
      original = open_store(dir.path() / "peer");
      // After the snapshot: acknowledged writes the cluster holds.
      REQUIRE(original->incr("ctr", 2).has_value());
      REQUIRE(original->put("after", "original").has_value());
      REQUIRE(original->sadd("set", {"m1"}).has_value());
      ship_deltas(*original, *cluster);
    }
    roll_back_in_place(dir.path() / "peer", snapshot);
  }
};

TEST_CASE("identity: a rolled-back store that receives a dot of its id it never minted takes a new id first, keeping its data") {
  RolledBack setup;
  auto peer = open_store(setup.dir.path() / "peer");
  REQUIRE(peer->replica_id() == setup.id);  // Same file, same fingerprint: nothing noticed on open.
  REQUIRE(peer->start_identity_check().has_value());
  CHECK(peer->identity().unconfirmed_from == setup.counter_at_snapshot + 1);
  ship_deltas(*setup.cluster, *peer);  // Carries the original's dots beyond the snapshot.
  CHECK(peer->replica_id() != setup.id);
  const StoreIdentity identity = peer->identity();
  REQUIRE(identity.last_change.has_value());
  CHECK(identity.last_change->reason == IdentityChangeReason::kConflict);
  CHECK_FALSE(identity.last_change->emptied);
  CHECK(identity.predecessors == std::vector<std::uint64_t>{setup.id});
  CHECK(identity.unconfirmed_from == 0);  // A fresh id: nothing to confirm.
  // The original's writes merged as any other replica's, and new writes go to the new id.
  REQUIRE(peer->incr("ctr", 1).has_value());
  REQUIRE(peer->put("later", "l").has_value());
  sync_all({peer.get(), setup.cluster.get()});
  for (store::Replica* store : {peer.get(), setup.cluster.get()}) {
    CHECK(*store->counter("ctr") == 8);
    CHECK(store->get("after")->value == "original");
    CHECK(store->get("later")->value == "l");
    CHECK(members(*store, "set") == std::vector<std::string>{"m0", "m1"});
  }
}

TEST_CASE("identity: a rolled-back store that wrote while unconfirmed sets those writes aside, is refilled and re-issues them") {
  RolledBack setup;
  auto peer = open_store(setup.dir.path() / "peer");
  REQUIRE(peer->start_identity_check().has_value());
  const std::uint64_t unconfirmed_from = peer->identity().unconfirmed_from;
  REQUIRE(unconfirmed_from == setup.counter_at_snapshot + 1);
  CHECK(peer->identity().held_from_sequence > 0);
  // Acknowledged here, under dots the original already used for other writes.
  REQUIRE(peer->incr("ctr", 3).has_value());
  REQUIRE(peer->put("after", "copy").has_value());
  REQUIRE(peer->put("mine", "m").has_value());
  REQUIRE(peer->sadd("set", {"m2"}).has_value());
  REQUIRE(peer->srem("set", {"m0"}).has_value());

  // Unconfirmed dots survive a restart: still held, still measured from before them.
  peer.reset();
  peer = open_store(setup.dir.path() / "peer");
  REQUIRE(peer->start_identity_check().has_value());
  CHECK(peer->identity().unconfirmed_from == unconfirmed_from);

  // A peer's context holds a dot it never shipped: another copy minted under its id.
  auto observed = peer->observe_own_dots(unconfirmed_from);
  REQUIRE(observed.has_value());
  REQUIRE(observed->has_value());
  const IdentityChange& change = **observed;
  CHECK(change.reason == IdentityChangeReason::kConflict);
  CHECK(change.old_replica == setup.id);
  CHECK(change.new_replica == peer->replica_id());
  CHECK(change.emptied);
  CHECK(change.writes_set_aside == 4);  // The counter chain, "after", "mine", m2.
  CHECK(peer->get("before").error().code() == ErrorCode::kNotFound);  // Emptied until refilled.
  CHECK(*peer->has_retired_writes());
  // The old id is abandoned, not retired: the other copy's dots beyond it stay welcome.
  CHECK(peer->retirements()->empty());

  refill(*setup.cluster, *peer);
  CHECK(peer->get("after")->value == "original");
  auto issued = peer->reissue_retired_writes();
  REQUIRE(issued.has_value());
  CHECK(*issued == 4);
  sync_all({peer.get(), setup.cluster.get()});
  for (store::Replica* store : {peer.get(), setup.cluster.get()}) {
    INFO("store " << store->replica_id());
    // 5 before the snapshot, 2 by the original after it, 3 by the rolled-back copy: each once.
    CHECK(*store->counter("ctr") == 10);
    CHECK(store->get("before")->value == "b");
    CHECK(store->get("mine")->value == "m");
    // Both wrote "after" without seeing the other: the copy's re-issued write is the later one.
    CHECK(store->get("after")->value == "copy");
    CHECK(members(*store, "set") == std::vector<std::string>{"m1", "m2"});
  }
}

TEST_CASE("identity: a delete made while unconfirmed cancels only what it saw of the other copy's counter") {
  RolledBack setup;
  auto peer = open_store(setup.dir.path() / "peer");
  REQUIRE(peer->start_identity_check().has_value());
  REQUIRE(peer->incr("ctr", 3).has_value());  // 5 confirmed + 3 unconfirmed...
  REQUIRE(peer->del("ctr").has_value());       // ...all deleted here,
  REQUIRE(peer->incr("ctr", 4).has_value());   // then 4 on a fresh chain.
  auto observed = peer->observe_own_dots(peer->identity().unconfirmed_from);
  REQUIRE(observed.has_value());
  REQUIRE(observed->has_value());
  refill(*setup.cluster, *peer);
  REQUIRE(peer->reissue_retired_writes().has_value());
  sync_all({peer.get(), setup.cluster.get()});
  for (store::Replica* store : {peer.get(), setup.cluster.get()}) {
    // The delete saw the 5 both copies share, not the original's later 2: 2 + 4.
    CHECK(*store->counter("ctr") == 6);
  }
}

TEST_CASE("identity: once confirmed, its own dots coming back change nothing but one it never minted still does") {
  TempDir dir;
  auto peer = open_store(dir.path() / "peer");
  auto other = open_store(dir.path() / "other");
  REQUIRE(peer->put("k", "v").has_value());
  peer.reset();
  peer = open_store(dir.path() / "peer");  // A restart: its id is not fresh any more.
  const std::uint64_t id = peer->replica_id();
  REQUIRE(peer->start_identity_check().has_value());
  REQUIRE(peer->identity().unconfirmed_from == 2);
  REQUIRE(peer->put("k2", "v2").has_value());
  REQUIRE(peer->confirm_identity().has_value());
  CHECK(peer->identity().unconfirmed_from == 0);
  CHECK(peer->identity().held_from_sequence == 0);
  // Its dots come back from a peer (an echo): nothing to see.
  sync_all({peer.get(), other.get()});
  auto echoed = peer->observe_own_dots(2);
  REQUIRE(echoed.has_value());
  CHECK_FALSE(echoed->has_value());
  CHECK(peer->replica_id() == id);
  // A dot beyond any it minted: another copy minted under its id.
  auto beyond = peer->observe_own_dots(3);
  REQUIRE(beyond.has_value());
  REQUIRE(beyond->has_value());
  CHECK_FALSE((*beyond)->emptied);  // Nothing unconfirmed was minted: it keeps its data.
  CHECK(peer->replica_id() != id);
  CHECK(peer->get("k2")->value == "v2");
}

TEST_CASE("identity: start_identity_check is a no-op for an id minted since the store was opened") {
  TempDir dir;
  auto fresh = open_store(dir.path() / "fresh");
  REQUIRE(fresh->start_identity_check().has_value());
  CHECK(fresh->identity().unconfirmed_from == 0);
  REQUIRE(fresh->put("k", "v").has_value());
  REQUIRE(fresh->adopt_new_identity().has_value());
  fresh.reset();
  auto reopened = open_store(dir.path() / "fresh");
  REQUIRE(reopened->start_identity_check().has_value());
  CHECK(reopened->identity().unconfirmed_from == 1);  // The adopted id minted nothing yet.
}

}  // namespace
}  // namespace cairn
