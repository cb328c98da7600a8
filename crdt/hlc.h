// Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
//
// A timestamp is (wall milliseconds, logical counter). It stays close to the wall clock but never goes
// backwards and always moves past every timestamp the replica has observed, so it orders events
// consistently with causality even when wall clocks are skewed. The wall clock is injected: nothing in
// crdt/ reads the time.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <ostream>

namespace cairn::crdt {

struct HlcTimestamp {
  std::uint64_t wall_ms = 0;
  std::uint32_t logical = 0;

  friend auto operator<=>(const HlcTimestamp&, const HlcTimestamp&) = default;
  friend std::ostream& operator<<(std::ostream& out, const HlcTimestamp& t) {
    return out << t.wall_ms << "." << t.logical;
  }
};

// The source of physical time a HybridClock reads; tests and the simulator provide their own.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual std::uint64_t now_ms() = 0;
};

class HybridClock {
 public:
  // `wall_clock` is borrowed and must outlive the HybridClock.
  explicit HybridClock(WallClock& wall_clock) : wall_clock_(wall_clock) {}

  // A timestamp for a local event: greater than every timestamp issued or observed so far.
  HlcTimestamp now() {
    advance_to(HlcTimestamp{wall_clock_.now_ms(), 0});
    return last_;
  }

  // Folds in a timestamp seen on a remote event, so later local events order after it.
  void observe(const HlcTimestamp& remote) { advance_to(remote, /*bump_if_equal=*/false); }

  HlcTimestamp last() const { return last_; }

 private:
  // Moves last_ to the larger of last_ and `candidate`; when last_ is not smaller (or, for local
  // events, equal) the logical counter breaks the tie so the result is strictly newer.
  void advance_to(const HlcTimestamp& candidate, bool bump_if_equal = true) {
    if (candidate.wall_ms > last_.wall_ms) {
      last_ = candidate;
    } else if (candidate.wall_ms == last_.wall_ms) {
      last_.logical = std::max(last_.logical, candidate.logical);
      if (bump_if_equal) ++last_.logical;
    } else if (bump_if_equal) {
      ++last_.logical;
    }
  }

  WallClock& wall_clock_;
  HlcTimestamp last_;
};

}  // namespace cairn::crdt
