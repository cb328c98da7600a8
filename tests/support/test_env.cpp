#include "tests/support/test_env.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace cairn::test {
namespace {

double g_scale = 1.0;
std::uint64_t g_base_seed = 0;
std::optional<std::uint64_t> g_replay_seed;

std::optional<std::uint64_t> parse_u64(const char* text) {
  std::uint64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

bool load_test_env() {
  if (const char* scale = std::getenv("CAIRN_TEST_SCALE"); scale != nullptr && *scale != '\0') {
    char* end = nullptr;
    g_scale = std::strtod(scale, &end);
    if (end == scale || *end != '\0' || !std::isfinite(g_scale) || g_scale <= 0) {
      std::fprintf(stderr, "CAIRN_TEST_SCALE must be a positive number, got '%s'\n", scale);
      return false;
    }
  }
  if (const char* seed = std::getenv("CAIRN_TEST_SEED"); seed != nullptr && *seed != '\0') {
    auto parsed = parse_u64(seed);
    if (!parsed) {
      std::fprintf(stderr, "CAIRN_TEST_SEED must be an unsigned 64-bit integer, got '%s'\n", seed);
      return false;
    }
    g_base_seed = *parsed;
  } else {
    std::random_device device;
    g_base_seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }
  if (const char* replay = std::getenv("CAIRN_REPLAY_SEED"); replay != nullptr && *replay != '\0') {
    g_replay_seed = parse_u64(replay);
    if (!g_replay_seed) {
      std::fprintf(stderr, "CAIRN_REPLAY_SEED must be an unsigned 64-bit integer, got '%s'\n", replay);
      return false;
    }
  }
  return true;
}

std::uint64_t iterations(std::uint64_t full_count) {
  const double scaled = std::ceil(static_cast<double>(full_count) * g_scale);
  return scaled < 1 ? 1 : static_cast<std::uint64_t>(scaled);
}

int scaled_size(int full_size, int floor) {
  const auto scaled = static_cast<int>(std::ceil(static_cast<double>(full_size) * g_scale));
  return scaled < floor ? floor : scaled;
}

std::uint64_t base_seed() { return g_base_seed; }

std::optional<std::uint64_t> replay_seed() { return g_replay_seed; }

}  // namespace cairn::test
