// Bytes on the wire grow with the difference, not with the data set: two 100,000-record stores that
// differ in 100 records reconcile with less than 1% of the data set's bytes (issue 6 asks for this at
// 1,000,000 records; bench/anti_entropy_bench runs that size).
#include <catch2/catch.hpp>

#include <cstdio>

#include "gossip/sim/cluster.h"
#include "gossip/sim/store_pair.h"
#include "tests/store/store_test_support.h"

namespace cairn::test {
namespace {

TEST_CASE("anti-entropy: 100 differing records of 100,000 travel in under 1% of the data set's bytes") {
  TempDir dir;
  StoreOptions options;
  options.durability = Durability::kNoSync;
  auto a = open_store(dir.path() / "a", options);
  auto b = open_store(dir.path() / "b", options);
  // The shared data set, built fast: as if both had gossiped another replica's 100,000 writes.
  const std::uint64_t data_set_bytes =
      sim::load_registers({a.get(), b.get()}, 0xabcdef, "key/", 0, 100'000, 100);
  REQUIRE(data_set_bytes > 0);
  // 50 records overwritten on a, 50 new ones on b.
  for (int i = 0; i < 50; ++i) {
    REQUIRE(a->put("key/" + std::to_string(i * 1999), std::string(100, 'A')));
    REQUIRE(b->put("new/" + std::to_string(i), std::string(100, 'B')));
  }
  sim::StorePair pair(*a, *b);
  const auto round = pair.reconcile();
  REQUIRE(round.in_sync);
  CHECK(sim::digest_of(*a) == sim::digest_of(*b));
  CHECK(b->get("key/1999")->value == std::string(100, 'A'));
  CHECK(a->get("new/7")->value == std::string(100, 'B'));
  const double share = static_cast<double>(round.bytes) / static_cast<double>(data_set_bytes);
  std::printf(
      "anti-entropy: 100 of 100,000 records differ: %llu bytes on the wire in %llu frames, "
      "%.3f%% of the %llu-byte data set\n",
      static_cast<unsigned long long>(round.bytes), static_cast<unsigned long long>(round.frames),
      100 * share, static_cast<unsigned long long>(data_set_bytes));
  CHECK(share < 0.01);
}

}  // namespace
}  // namespace cairn::test
