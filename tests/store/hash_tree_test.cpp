// The hash tree anti-entropy compares: kept in step with every record change, equal to one rebuilt
// from scratch, equal on replicas holding the same state, and built for a store that had none.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include <numeric>
#include <vector>

#include "src/store/replica.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"
#include "tests/support/random_ops.h"

namespace cairn::test {
namespace {

std::vector<std::uint32_t> every_node(unsigned level) {
  std::vector<std::uint32_t> nodes(level == 0 ? 1 : 1u << (4 * level));
  std::iota(nodes.begin(), nodes.end(), 0u);
  return nodes;
}

std::vector<std::uint64_t> leaves(store::Replica& store) {
  auto hashes = store.tree_hashes(kTreeLeafLevel, every_node(kTreeLeafLevel), false);
  REQUIRE(hashes.has_value());
  return hashes->hashes;
}


TEST_CASE("hash tree: the incrementally kept tree equals one rebuilt from the records, after random writes") {
  for_each_history("hash tree incremental == rebuilt", 20, [](Rng& rng) {
    TempDir dir;
    auto store = open_store(dir.path() / "a");
    const int writes = 20 + static_cast<int>(rng.below(200));
    for (int i = 0; i < writes; ++i) random_write(*store, rng, static_cast<std::uint64_t>(i));
    const std::vector<std::uint64_t> kept = leaves(*store);
    CHECK(test::tree_leaves_from_records(*store) == kept);
  });
}

TEST_CASE("hash tree: inner nodes are the XOR of the leaves below them") {
  TempDir dir;
  auto store = open_store(dir.path() / "a");
  Rng rng(7);
  for (int i = 0; i < 300; ++i) random_write(*store, rng, static_cast<std::uint64_t>(i), 40);
  const std::vector<std::uint64_t> leaf = leaves(*store);
  for (unsigned level = 0; level < kTreeLeafLevel; ++level) {
    auto nodes = store->tree_hashes(level, every_node(level), false);
    REQUIRE(nodes.has_value());
    const std::uint32_t span = 1u << (4 * (kTreeLeafLevel - level));
    for (std::uint32_t node = 0; node < nodes->hashes.size(); ++node) {
      std::uint64_t expected = 0;
      for (std::uint32_t i = node * span; i < (node + 1) * span; ++i) expected ^= leaf[i];
      REQUIRE(nodes->hashes[node] == expected);
    }
  }
  auto root = store->tree_hashes(0, {0}, false);
  REQUIRE(root.has_value());
  CHECK(root->hashes[0] != 0);
  CHECK_FALSE(store->tree_hashes(5, {0}, false).has_value());
  CHECK_FALSE(store->tree_hashes(1, {16}, false).has_value());
}

TEST_CASE("hash tree: two replicas that merged the same deltas in different orders have equal trees") {
  for_each_history("hash tree equal on equal state", 10, [](Rng& rng) {
    TempDir dir;
    auto a = open_store(dir.path() / "a");
    auto b = open_store(dir.path() / "b");
    auto c = open_store(dir.path() / "c");
    for (int i = 0; i < 60; ++i)
      random_write(rng.below(2) != 0 ? *a : *b, rng, static_cast<std::uint64_t>(i));
    // c takes a's deltas then b's; b takes a's; a takes b's.
    ship_deltas(*a, *c);
    ship_deltas(*b, *c);
    auto b_before = b->deltas_since(0, 1'000'000);
    REQUIRE(b_before.has_value());
    ship_deltas(*a, *b);
    for (const LoggedDelta& delta : *b_before)
      REQUIRE(a->merge_delta(delta.bytes, b->replica_id()).has_value());
    CHECK(leaves(*a) == leaves(*b));
    CHECK(leaves(*a) == leaves(*c));
  });
}

TEST_CASE("hash tree: a store whose tree is missing gets it built when opened") {
  TempDir dir;
  const auto path = dir.path() / "a";
  std::vector<std::uint64_t> kept;
  {
    auto store = open_store(path);
    Rng rng(3);
    for (int i = 0; i < 100; ++i) random_write(*store, rng, static_cast<std::uint64_t>(i), 30);
    kept = leaves(*store);
  }
  {
    // Make it look like a store from before the tree: no tree databases, no marker.
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 8);
    REQUIRE(mdb_env_open(env, path.c_str(), 0, 0644) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    for (const char* name : {"tree", "tree_keys"}) {
      MDB_dbi dbi = 0;
      REQUIRE(mdb_dbi_open(txn, name, 0, &dbi) == 0);
      REQUIRE(mdb_drop(txn, dbi, 1) == 0);
    }
    MDB_dbi meta = 0;
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    MDB_val key{4, const_cast<char*>("tree")};
    REQUIRE(mdb_del(txn, meta, &key, nullptr) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto reopened = open_store(path);
  CHECK(leaves(*reopened) == kept);
}

}  // namespace
}  // namespace cairn::test
