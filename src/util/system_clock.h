// The real wall clock, for production use of crdt::HybridClock. Tests and the simulator use their own.
#pragma once

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

}  // namespace cairn
