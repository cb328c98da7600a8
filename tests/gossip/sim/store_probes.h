// Read-only looks inside a simulated peer's store, for checks the public API cannot express.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <variant>

#include "crdt/pn_counter.h"
#include "src/codec/codec.h"
#include "src/store/delta_apply.h"
#include "src/store/lmdb.h"
#include "src/store/replica.h"

namespace cairn::test {

// Reset entries in `store` that are garbage: in a counter record (found through the store's `resets`
// index) with no contribution of their chain left, so they subtract from nothing. Resets of a chain
// whose contribution is still there are needed (they go when its contributor next writes).
inline std::uint64_t orphaned_resets(store::Replica& store) {
  auto count = store::read_raw_result(store, [&](const store::Txn& txn, const store::Databases& databases) -> Result<std::uint64_t> {
    auto cursor = store::LmdbCursor::open(txn, databases.resets);
    if (!cursor) return tl::unexpected(cursor.error());
    std::uint64_t orphaned = 0;
    for (auto entry = cursor->seek(""); entry && *entry; entry = cursor->next()) {
      auto key = codec::decode_record_key((*entry)->key);
      if (!key) return tl::unexpected(key.error());
      auto record = store::read_record(txn, databases.values, *key);
      if (!record) return tl::unexpected(record.error());
      orphaned += crdt::PnCounter::orphaned_resets(std::get<crdt::PnCounter::Store>(*record)).size();
    }
    return orphaned;
  });
  INFO((count ? std::string("read") : count.error().to_string()));
  REQUIRE(count.has_value());
  return *count;
}

}  // namespace cairn::test
