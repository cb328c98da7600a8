// Property tests of crdt/lww_register.h: random histories of writes and clears on 3 to 5 replicas over
// an unreliable network, checked against the observed-remove model (tests/crdt/property_support.h),
// and the tie-break between concurrent writes with equal timestamps.
#include "crdt/lww_register.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::LwwRegister;

std::string label(std::size_t writer) {
  std::string text = "from ";
  text.append(std::to_string(writer));
  return text;
}

TEST_CASE("lww register: random histories converge to the observed-remove model") {
  for_each_history("lww register histories", 10000,
                   [](Rng& rng) { check_random_history<LwwWorkload<OnItsOwn<LwwRegister>>>(rng); });
}

TEST_CASE("lww register: concurrent writes with one timestamp resolve to the largest replica id everywhere") {
  for_each_history("lww register tie-break", 10000, [](Rng& rng) {
    const auto ids = random_replica_ids(rng, 2 + rng.below(4));
    const crdt::HlcTimestamp timestamp{rng.below(3), static_cast<std::uint32_t>(rng.below(2))};
    // Sometimes every writer first saw a common write with a LARGER timestamp: each concurrent write
    // still replaces it, because it observed it.
    const bool common_past = rng.chance(1, 2);
    LwwRegister origin;
    const LwwRegister common = origin.write(ids[0], "common", crdt::HlcTimestamp{timestamp.wall_ms + 1, 0});

    std::vector<LwwRegister> deltas;
    if (common_past) deltas.push_back(common);
    std::size_t winner = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      LwwRegister writer = common_past ? common : LwwRegister{};
      deltas.push_back(writer.write(ids[i], label(i), timestamp));
      if (ids[i] > ids[winner]) winner = i;
    }
    bool ok = true;
    std::optional<std::string> read;
    for (int replica = 0; replica < 3; ++replica) {
      const LwwRegister joined = join_in_random_order(deltas, rng);
      const auto versions = LwwRegister::versions(joined.state().store);
      read = joined.value();
      ok = ok && read == label(winner) && versions.size() == ids.size() &&
           versions.front().dot.replica == ids[winner];
    }
    CAPTURE(ids.size(), ids[winner], timestamp, common_past, read);
    REQUIRE(ok);
  });
}

}  // namespace
}  // namespace cairn::test
