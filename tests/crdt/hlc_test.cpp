#include "crdt/hlc.h"

#include <catch2/catch.hpp>

namespace cairn::crdt {
namespace {

// A wall clock the test sets by hand.
class FakeWallClock final : public WallClock {
 public:
  explicit FakeWallClock(std::uint64_t start_ms) : now_(start_ms) {}
  std::uint64_t now_ms() override { return now_; }
  void set(std::uint64_t ms) { now_ = ms; }

 private:
  std::uint64_t now_;
};

TEST_CASE("hlc: follows the wall clock while it moves forward") {
  FakeWallClock wall(1000);
  HybridClock clock(wall);
  CHECK(clock.now() == HlcTimestamp{1000, 0});
  wall.set(1005);
  CHECK(clock.now() == HlcTimestamp{1005, 0});
  CHECK(clock.last() == HlcTimestamp{1005, 0});
}

TEST_CASE("hlc: the logical counter orders events within one wall millisecond") {
  FakeWallClock wall(1000);
  HybridClock clock(wall);
  const HlcTimestamp first = clock.now();
  const HlcTimestamp second = clock.now();
  const HlcTimestamp third = clock.now();
  CHECK(first == HlcTimestamp{1000, 0});
  CHECK(second == HlcTimestamp{1000, 1});
  CHECK(third == HlcTimestamp{1000, 2});
  // The counter resets once the wall clock moves on.
  wall.set(1001);
  CHECK(clock.now() == HlcTimestamp{1001, 0});
}

TEST_CASE("hlc: stays monotonic when the wall clock goes backwards") {
  FakeWallClock wall(5000);
  HybridClock clock(wall);
  const HlcTimestamp before = clock.now();
  wall.set(1000);  // NTP step back by four seconds.
  const HlcTimestamp after_step = clock.now();
  const HlcTimestamp next = clock.now();
  CHECK(after_step > before);
  CHECK(next > after_step);
  CHECK(after_step == HlcTimestamp{5000, 1});
  CHECK(next == HlcTimestamp{5000, 2});
  // Once the wall clock passes the old high-water mark again, the HLC follows it.
  wall.set(5001);
  CHECK(clock.now() == HlcTimestamp{5001, 0});
}

TEST_CASE("hlc: observing a remote timestamp ahead moves later local events past it") {
  FakeWallClock wall(1000);
  HybridClock clock(wall);
  CHECK(clock.now() == HlcTimestamp{1000, 0});
  const HlcTimestamp remote{90'000, 7};  // A peer whose wall clock runs 89 s fast.
  clock.observe(remote);
  CHECK(clock.last() == remote);
  const HlcTimestamp local = clock.now();
  CHECK(local > remote);
  CHECK(local == HlcTimestamp{90'000, 8});
  // The local wall clock catching up releases the logical counter.
  wall.set(90'001);
  CHECK(clock.now() == HlcTimestamp{90'001, 0});
}

TEST_CASE("hlc: observing a remote timestamp with the same wall time takes the larger logical counter") {
  FakeWallClock wall(1000);
  HybridClock clock(wall);
  clock.now();  // 1000.0
  clock.observe(HlcTimestamp{1000, 4});
  CHECK(clock.last() == HlcTimestamp{1000, 4});
  CHECK(clock.now() == HlcTimestamp{1000, 5});
}

TEST_CASE("hlc: observing a remote timestamp behind changes nothing") {
  FakeWallClock wall(1000);
  HybridClock clock(wall);
  const HlcTimestamp local = clock.now();
  clock.observe(HlcTimestamp{10, 99});
  clock.observe(HlcTimestamp{1000, 0});
  CHECK(clock.last() == local);
  CHECK(clock.now() == HlcTimestamp{1000, 1});
}

TEST_CASE("hlc: timestamps order by wall time first, then by the logical counter") {
  CHECK(HlcTimestamp{2, 0} > HlcTimestamp{1, 100});
  CHECK(HlcTimestamp{1, 1} > HlcTimestamp{1, 0});
  CHECK(HlcTimestamp{1, 1} == HlcTimestamp{1, 1});
}

}  // namespace
}  // namespace cairn::crdt
