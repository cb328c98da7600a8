// The Catch2 main of every cairn test binary: loads CAIRN_TEST_* before any test runs and prints
// the base seed, so any run can be repeated exactly.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tests/support/test_env.h"

int main(int argc, char* argv[]) {
  if (!cairn::test::load_test_env()) return 2;
  std::fprintf(stderr, "cairn tests: CAIRN_TEST_SEED=%llu (set it to repeat this run)\n",
              static_cast<unsigned long long>(cairn::test::base_seed()));
  return Catch::Session().run(argc, argv);
}
