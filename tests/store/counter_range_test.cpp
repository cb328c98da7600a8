// Counters at the edges of the int64 range on real LMDB stores: a local incr/decr that would leave
// the range is refused and writes nothing; a total merged from several stores past it fails to read
// (never wraps), inspect flags it, and a decrement brings it back.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "tests/store/store_test_support.h"

namespace cairn::test {
namespace {

constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

bool says_would_overflow(const Error& error) {
  return error.code() == ErrorCode::kOutOfRange &&
         error.message().starts_with("increment or decrement would overflow: counter 'n'");
}

TEST_CASE("store: an incr past INT64_MAX or a decr past INT64_MIN is refused as out_of_range and writes nothing") {
  TempDir dir;
  auto store = open_store(dir.str());
  REQUIRE(store->incr("n", kMax).has_value());
  const std::size_t logged = store->deltas_since(0, 1000)->size();

  const Status refused = store->incr("n", 1);
  REQUIRE_FALSE(refused.has_value());
  INFO(refused.error().to_string());
  CHECK(says_would_overflow(refused.error()));
  CHECK(refused.error().message().find("9223372036854775808") != std::string::npos);  // What it would become.
  CHECK(store->counter("n").value() == std::numeric_limits<std::int64_t>::max());
  CHECK(store->deltas_since(0, 1000)->size() == logged);  // Nothing written, nothing logged.

  REQUIRE(store->decr("n", kMax).has_value());
  REQUIRE(store->decr("n", kMax).has_value());
  REQUIRE(store->decr("n", 1).has_value());
  CHECK(store->counter("n").value() == std::numeric_limits<std::int64_t>::min());
  const Status below = store->decr("n", 1);
  REQUIRE_FALSE(below.has_value());
  CHECK(says_would_overflow(below.error()));
  CHECK(store->counter("n").value() == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("store: a counter merged past INT64_MAX fails to read as out_of_range, never wrapped, until decremented") {
  TempDir dir_a, dir_b;
  auto a = open_store(dir_a.str());
  auto b = open_store(dir_b.str());
  REQUIRE(a->incr("n", kMax).has_value());
  REQUIRE(b->incr("n", kMax).has_value());
  ship_deltas(*a, *b);
  ship_deltas(*b, *a);

  for (Store* store : {a.get(), b.get()}) {
    const auto read = store->counter("n");
    REQUIRE_FALSE(read.has_value());  // Not the wrapped -2.
    INFO(read.error().to_string());
    CHECK(read.error().code() == ErrorCode::kOutOfRange);
    CHECK(read.error().message().find("18446744073709551614") != std::string::npos);  // The exact total.
    const auto inspection = store->inspect("n");
    REQUIRE(inspection.has_value());
    CHECK(inspection->counter_out_of_range);
    CHECK(inspection->counter_value == std::numeric_limits<std::int64_t>::max());
  }

  // Away from the range is refused; back toward it is accepted, and the value reads again.
  const Status further = a->incr("n", 1);
  REQUIRE_FALSE(further.has_value());
  CHECK(further.error().code() == ErrorCode::kOutOfRange);
  REQUIRE(a->decr("n", 1).has_value());
  CHECK_FALSE(a->counter("n").has_value());
  REQUIRE(a->decr("n", kMax - 1).has_value());
  CHECK(a->counter("n").value() == std::numeric_limits<std::int64_t>::max());
  CHECK_FALSE(a->inspect("n")->counter_out_of_range);
}

}  // namespace
}  // namespace cairn::test
