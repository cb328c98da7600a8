// What a store does when its files hold something it did not expect, or its map fills up.
#include <lmdb.h>

#include <catch2/catch.hpp>

#include <string>

#include "cairn/store.h"
#include "src/codec/codec.h"
#include "src/store/databases.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using test::drain;
using test::open_store;
using test::TempDir;

// Writes `value` at `key` of database `db` of the (closed) store in `path`, bypassing cairn.
void poke(const std::string& path, const char* db, const std::string& key, const std::string& value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 8);
  REQUIRE(mdb_env_open(env, path.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

TEST_CASE("store failures: a corrupt record fails reads of its key only") {
  TempDir dir;
  {
    auto store = open_store(dir.str());
    REQUIRE(store->put("good", "v"));
    REQUIRE(store->put("bad", "v"));
  }
  poke(dir.str(), "values", codec::encode_record_key({"bad", codec::ValueType::kRegister, {}}), "garbage bytes");
  auto store = open_store(dir.str());
  auto bad = store->get("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == ErrorCode::kCorrupt);
  CHECK(bad.error().message().find("bad") != std::string::npos);
  CHECK(store->put("bad", "w").error().code() == ErrorCode::kCorrupt);
  CHECK(store->get("good")->value == "v");
  CHECK(store->put("other", "v"));
}

TEST_CASE("store failures: a store written by a newer format is refused, not misread") {
  TempDir dir;
  std::uint64_t replica = 0;
  {
    auto store = open_store(dir.str());
    replica = store->replica_id();
  }
  codec::StoreMeta newer;
  newer.format_version = store::kStoreFormatVersion + 1;
  newer.replica = crdt::ReplicaId{replica};
  poke(dir.str(), "meta", "identity", codec::encode_meta(newer));
  auto reopened = Store::open(dir.str());
  REQUIRE_FALSE(reopened);
  CHECK(reopened.error().code() == ErrorCode::kUnsupported);
  CHECK(reopened.error().message().find("format") != std::string::npos);
}

TEST_CASE("store failures: a full map fails the write cleanly and the store stays readable") {
  TempDir dir;
  StoreOptions small;
  small.map_size_bytes = 1 << 20;
  small.grow_map_automatically = false;
  auto store = open_store(dir.str(), small);
  REQUIRE(store->put("first", "v"));
  const std::string big(256 << 10, 'x');
  Status failed = ok();
  for (int i = 0; i < 16 && failed; ++i) failed = store->put("big" + std::to_string(i), big);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code() == ErrorCode::kMapFull);
  CHECK(failed.error().message().find("MDB_MAP_FULL") != std::string::npos);
  CHECK(store->get("first")->value == "v");
  CHECK(drain(*store->scan("")).size() >= 1);
}

TEST_CASE("store failures: usage() reports failing commits by episode, until a commit writes again") {
  TempDir dir;
  StoreOptions small;
  small.map_size_bytes = 1 << 20;
  small.grow_map_automatically = false;
  auto store = open_store(dir.str(), small);
  REQUIRE(store->put("first", "v"));
  CHECK_FALSE(store->usage()->writes.failing);
  const std::string big(256 << 10, 'x');
  int filled = 0;
  while (filled < 16 && store->put("big" + std::to_string(filled), big)) ++filled;
  REQUIRE(filled < 16);
  REQUIRE_FALSE(store->put("more", big));  // A second failure: the same episode.
  WriteHealth health = store->usage()->writes;
  CHECK(health.failing);
  CHECK_FALSE(health.fatal);
  CHECK(health.failed_commits == 2);
  CHECK(health.episodes == 1);
  CHECK(health.last_error.find("MDB_MAP_FULL") != std::string::npos);

  // A read proves nothing; a write that commits ends the episode.
  CHECK(store->get("first"));
  CHECK(store->usage()->writes.failing);
  REQUIRE(store->del("big0"));
  health = store->usage()->writes;
  CHECK_FALSE(health.failing);
  CHECK(health.episodes == 1);
  CHECK(health.failed_commits == 2);
  CHECK(health.last_error.find("MDB_MAP_FULL") != std::string::npos);  // Kept for the record.

  // The next failure is a new episode.
  Status failed = ok();
  for (int i = 0; i < 16 && failed; ++i) failed = store->put("again" + std::to_string(i), big);
  REQUIRE_FALSE(failed);
  CHECK(store->usage()->writes.episodes == 2);
}

TEST_CASE("store failures: with growth allowed the map grows instead of failing") {
  TempDir dir;
  StoreOptions growing;
  growing.map_size_bytes = 1 << 20;
  growing.grow_map_automatically = true;
  growing.max_map_size_bytes = 64 << 20;
  auto store = open_store(dir.str(), growing);
  const std::string big(256 << 10, 'x');
  for (int i = 0; i < 16; ++i) REQUIRE(store->put("big" + std::to_string(i), big));
  CHECK(drain(*store->scan("big")).size() == 16);
}

}  // namespace
}  // namespace cairn
