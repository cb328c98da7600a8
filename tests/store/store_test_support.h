// Helpers shared by the store tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/store/hash_tree.h"
#include "src/store/lmdb.h"
#include "src/store/replica.h"
#include "src/util/system_clock.h"
#include "tests/support/temp_dir.h"

namespace cairn::test {

// Opens a store, with its replication face (src/store/replica.h), or fails the test with the error's
// text. `wall_clock`: what its register timestamps read (null: the system clock).
inline std::unique_ptr<store::Replica> open_store(const std::string& path, const StoreOptions& options = {},
                                                  std::shared_ptr<crdt::WallClock> wall_clock = nullptr) {
  auto store = store::open_replica(path, store::ReplicaOptions{options, std::move(wall_clock)});
  INFO((store ? std::string("opened") : store.error().to_string()));
  REQUIRE(store.has_value());
  return std::move(*store);
}

// The leaf hashes a hash tree rebuilt from `replica`'s records would hold, read in one snapshot through
// the replication face (what the incrementally maintained tree must equal).
inline std::vector<std::uint64_t> tree_leaves_from_records(store::Replica& replica) {
  auto leaves = store::read_raw_result(replica, [](const store::Txn& txn, const store::Databases& databases) {
    return store::tree::leaves_from_records(txn, databases);
  });
  INFO((leaves ? std::string("read") : leaves.error().to_string()));
  REQUIRE(leaves.has_value());
  return *leaves;
}

// Drains a cursor into a vector, failing the test on an error.
inline std::vector<std::string> drain(Cursor& cursor) {
  std::vector<std::string> items;
  for (;;) {
    auto item = cursor.next();
    INFO((item ? std::string("ok") : item.error().to_string()));
    REQUIRE(item.has_value());
    if (!item->has_value()) return items;
    items.push_back(std::move(**item));
  }
}

// Ships every delta `from` has logged after `after` to `to`; returns the last sequence shipped.
inline std::uint64_t ship_deltas(store::Replica& from, store::Replica& to, std::uint64_t after = 0) {
  auto deltas = from.deltas_since(after, 1'000'000);
  REQUIRE(deltas.has_value());
  for (const LoggedDelta& delta : *deltas) {
    auto merged = to.merge_delta(delta.bytes, from.replica_id());
    INFO((merged ? std::string("merged") : merged.error().to_string()));
    REQUIRE(merged.has_value());
    after = delta.sequence;
  }
  return after;
}

}  // namespace cairn::test
