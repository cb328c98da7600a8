// Runs a property over many seeded random histories and makes every failure replayable.
//
// Each history gets its own seed, derived from the run's base seed; when a history fails, Catch2
// prints that seed and the command to replay exactly that history (CAIRN_REPLAY_SEED=<seed>).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "src/util/rng.h"
#include "tests/support/test_env.h"

namespace cairn::test {

// A stable hash of a name, so each property draws its own seeds from the same base seed.
constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

// Calls `history(rng)` for iterations(full_count) histories, each with a fresh seeded Rng.
template <typename History>
void for_each_history(std::string_view property_name, std::uint64_t full_count, History&& history) {
  if (auto replay = replay_seed()) {
    std::printf("%.*s: replaying the single history CAIRN_REPLAY_SEED=%llu\n",
                static_cast<int>(property_name.size()), property_name.data(),
                static_cast<unsigned long long>(*replay));
    Rng rng(*replay);
    INFO("history seed " << *replay);
    history(rng);
    return;
  }
  const std::uint64_t count = iterations(full_count);
  std::uint64_t seed_state = base_seed() ^ fnv1a(property_name);
  std::printf("%.*s: %llu histories from CAIRN_TEST_SEED=%llu\n", static_cast<int>(property_name.size()),
              property_name.data(), static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(base_seed()));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t seed = splitmix64(seed_state);
    INFO(property_name << ": history " << i << " failed; replay it alone with CAIRN_REPLAY_SEED=" << seed
                       << " and a test filter");
    Rng rng(seed);
    history(rng);
  }
}

}  // namespace cairn::test
