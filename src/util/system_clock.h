// The real wall clock, for production use of crdt::HybridClock, and the same clock shifted by an offset
// for the simulator and tests that model peers whose clocks disagree.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "crdt/hlc.h"

namespace cairn {

class SystemWallClock final : public crdt::WallClock {
 public:
  std::uint64_t now_ms() override {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
  }
};

// The system clock shifted by `skew_ms` (negative: behind), which may change while a store reads it
// (thread-safe): a peer whose clock is minutes ahead of or behind the others.
class SkewedWallClock final : public crdt::WallClock {
 public:
  explicit SkewedWallClock(std::int64_t skew_ms = 0) : skew_ms_(skew_ms) {}
  void set_skew_ms(std::int64_t skew_ms) { skew_ms_.store(skew_ms, std::memory_order_relaxed); }
  std::uint64_t now_ms() override {
    return system_.now_ms() + static_cast<std::uint64_t>(skew_ms_.load(std::memory_order_relaxed));
  }

 private:
  std::atomic<std::int64_t> skew_ms_;
  SystemWallClock system_;
};

}  // namespace cairn
