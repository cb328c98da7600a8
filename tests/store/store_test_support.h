// Helpers shared by the store tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "tests/support/temp_dir.h"

namespace cairn::test {

// Opens a store or fails the test with the error's text.
inline std::unique_ptr<Store> open_store(const std::string& path, const StoreOptions& options = {}) {
  auto store = Store::open(path, options);
  INFO((store ? std::string("opened") : store.error().to_string()));
  REQUIRE(store.has_value());
  return std::move(*store);
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
inline std::uint64_t ship_deltas(Store& from, Store& to, std::uint64_t after = 0) {
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
