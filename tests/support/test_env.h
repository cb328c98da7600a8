// What the test environment tells a test: how many iterations to run and which seed to use.
//
// CAIRN_TEST_SCALE (default 1.0) multiplies every property test's iteration count; the sanitizer pass
// in .ci/run sets it below 1 to fit its budget. CAIRN_TEST_SEED fixes the base seed of every seeded
// test; CAIRN_REPLAY_SEED replays one single history of a property test (its failure message says so).
#pragma once

#include <cstdint>
#include <optional>

namespace cairn::test {

// Reads and validates the environment; called once by the test main before any test runs.
// Returns false (after printing why) when a variable is malformed.
bool load_test_env();

// `full_count` scaled by CAIRN_TEST_SCALE, never below 1.
std::uint64_t iterations(std::uint64_t full_count);

// A simulated cluster's size: `full_size` scaled by CAIRN_TEST_SCALE, never below `floor`. The
// sanitizer pass runs large simulations this way (a 200-peer run under ASan alone would take most of its
// budget); the Release pass runs them at full size. A test using it states its bound for the size it ran.
int scaled_size(int full_size, int floor);

// The base seed: CAIRN_TEST_SEED if set, otherwise drawn once per process from the OS.
std::uint64_t base_seed();

// CAIRN_REPLAY_SEED, when set.
std::optional<std::uint64_t> replay_seed();

}  // namespace cairn::test
