#include "src/util/rng.h"

#include <catch2/catch.hpp>

#include <array>

#include "tests/support/property.h"

namespace cairn {
namespace {

TEST_CASE("the same seed gives the same sequence, another seed another") {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    differs = differs || x != c.next();
  }
  CHECK(differs);
}

TEST_CASE("the sequence is fixed across builds: known first outputs for seed 0") {
  // Pinned so that a seed printed by one build replays the same history in another.
  Rng rng(0);
  const std::uint64_t first = rng.next();
  const std::uint64_t second = rng.next();
  Rng again(0);
  CHECK(again.next() == first);
  CHECK(again.next() == second);
  CHECK(first == 0x99EC5F36CB75F2B4ULL);
}

TEST_CASE("below() stays in range and covers it evenly") {
  test::for_each_history("rng below covers range", 20, [](Rng& rng) {
    const std::uint64_t bound = 1 + rng.below(10);
    std::array<int, 10> counts{};
    for (int i = 0; i < 10000; ++i) {
      const auto x = rng.below(bound);
      REQUIRE(x < bound);
      ++counts[x];
    }
    for (std::uint64_t v = 0; v < bound; ++v) {
      // Each bucket expects 10000/bound; allow a generous 40% band (far outside any real bias).
      const double expected = 10000.0 / static_cast<double>(bound);
      CHECK(counts[v] > expected * 0.6);
      CHECK(counts[v] < expected * 1.4);
    }
  });
}

TEST_CASE("between() is inclusive at both ends") {
  Rng rng(7);
  bool saw_low = false, saw_high = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = rng.between(-2, 2);
    REQUIRE(x >= -2);
    REQUIRE(x <= 2);
    saw_low = saw_low || x == -2;
    saw_high = saw_high || x == 2;
  }
  CHECK(saw_low);
  CHECK(saw_high);
}

}  // namespace
}  // namespace cairn
