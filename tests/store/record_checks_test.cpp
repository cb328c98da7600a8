// The invariant checks at the LMDB boundary (src/store/record_checks.h): a record that breaks one is
// a corrupt-record error for its key alone, counted in usage(), never a crash and never served.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include <string>

#include "crdt/dot_set.h"
#include "crdt/lww_register.h"
#include "crdt/pn_counter.h"
#include "src/codec/codec.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::test {
namespace {

// Writes `bytes` at record `key` of the closed store in `path` with raw LMDB, as a damaged disk or a
// buggy older build would leave it.
void write_raw_record(const std::string& path, const codec::RecordKey& key, const std::string& bytes) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 16);
  REQUIRE(mdb_env_open(env, path.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi values = 0;
  REQUIRE(mdb_dbi_open(txn, "values", 0, &values) == 0);
  const std::string record_key = codec::encode_record_key(key);
  MDB_val k{record_key.size(), const_cast<char*>(record_key.data())};
  MDB_val v{bytes.size(), const_cast<char*>(bytes.data())};
  REQUIRE(mdb_put(txn, values, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::uint64_t failed_checks(store::Replica& store) {
  auto usage = store.usage();
  REQUIRE(usage.has_value());
  return usage->failed_record_checks;
}

TEST_CASE("record checks: a stored set member with no dots is a corrupt-record error for its key only, counted") {
  TempDir dir;
  const std::string path = (dir.path() / "a").string();
  {
    auto store = open_store(path);
    REQUIRE(store->put("good", "v"));
    REQUIRE(store->sadd("bad", {"m"}));
    REQUIRE(store->incr("ctr", 2));
  }
  // It decodes, but an empty member record is erased, never stored: unchecked, it would read as
  // "not a member" and hide the damage.
  write_raw_record(path, codec::RecordKey{"bad", codec::ValueType::kSetMember, "m"},
                   codec::encode_record(crdt::DotSet{}));
  auto store = open_store(path);
  CHECK(failed_checks(*store) == 0);
  auto member = store->sismember("bad", "m");
  REQUIRE_FALSE(member.has_value());
  CHECK(member.error().code() == ErrorCode::kCorrupt);
  CHECK(member.error().message().find("'bad'") != std::string::npos);
  CHECK(failed_checks(*store) == 1);
  // Every other key reads as before.
  auto good = store->get("good");
  REQUIRE(good.has_value());
  CHECK(good->value == "v");
  auto ctr = store->counter("ctr");
  REQUIRE(ctr.has_value());
  CHECK(*ctr == 2);
  CHECK(failed_checks(*store) == 1);
}

TEST_CASE("record checks: a stored counter contribution not written by its contributor is a corrupt-record error") {
  TempDir dir;
  const std::string path = (dir.path() / "a").string();
  std::uint64_t replica = 0;
  {
    auto store = open_store(path);
    REQUIRE(store->put("good", "v"));
    REQUIRE(store->incr("ctr", 1));
    replica = store->replica_id();
  }
  // A contribution of replica 5's chain under a dot of this store's replica: only replica 5 writes
  // its own contributions, so no merge can produce it.
  crdt::CounterEntry entry;
  entry.contributor = crdt::ReplicaId{5};
  entry.chain = crdt::Dot{crdt::ReplicaId{5}, 1};
  entry.increments = 3;
  crdt::PnCounter::Store::Entries entries;
  entries.emplace(crdt::Dot{crdt::ReplicaId{replica}, 1}, entry);
  write_raw_record(path, codec::RecordKey{"ctr", codec::ValueType::kCounter, {}},
                   codec::encode_record(crdt::PnCounter::Store(std::move(entries))));
  auto store = open_store(path);
  auto value = store->counter("ctr");
  REQUIRE_FALSE(value.has_value());
  CHECK(value.error().code() == ErrorCode::kCorrupt);
  CHECK(failed_checks(*store) == 1);
  CHECK(store->get("good")->value == "v");
}

TEST_CASE("record checks: a delta whose record holds a dot outside its own context is refused before the write") {
  TempDir dir;
  auto store = open_store((dir.path() / "a").string());
  REQUIRE(store->put("good", "v"));
  const crdt::Dot dot{crdt::ReplicaId{77}, 1};
  codec::DeltaGroup group;
  crdt::LwwRegister::Store::Entries entries;
  entries.emplace(dot, crdt::LwwEntry{"unseen", crdt::HlcTimestamp{1, 0}});
  group.records.push_back(codec::RecordFragment{codec::RecordKey{"k", codec::ValueType::kRegister, {}},
                                                crdt::LwwRegister::Store(std::move(entries))});
  // The group's context does not hold the dot: joined, the record would hold a dot its store never saw.
  auto merged = store->merge_delta(codec::encode_delta_group(group), 77);
  REQUIRE_FALSE(merged.has_value());
  CHECK(merged.error().code() == ErrorCode::kCorrupt);
  CHECK(failed_checks(*store) == 1);
  CHECK(store->get("k").error().code() == ErrorCode::kNotFound);  // Nothing was written.
  CHECK(store->get("good")->value == "v");
}

}  // namespace
}  // namespace cairn::test
