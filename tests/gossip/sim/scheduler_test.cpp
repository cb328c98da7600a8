#include "gossip/sim/scheduler.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace cairn::sim {
namespace {

TEST_CASE("events run in virtual-time order, ties in scheduling order") {
  Scheduler scheduler;
  std::vector<std::string> log;
  scheduler.schedule_after(30, [&] { log.push_back("c@" + std::to_string(scheduler.now_ms())); });
  scheduler.schedule_after(10, [&] { log.push_back("a@" + std::to_string(scheduler.now_ms())); });
  scheduler.schedule_after(10, [&] { log.push_back("b@" + std::to_string(scheduler.now_ms())); });

  CHECK(scheduler.run_all(100) == 3);
  CHECK(log == std::vector<std::string>{"a@10", "b@10", "c@30"});
  CHECK(scheduler.now_ms() == 30);
}

TEST_CASE("run_until stops at the deadline and advances the clock to it") {
  Scheduler scheduler;
  int ran = 0;
  scheduler.schedule_after(5, [&] { ++ran; });
  scheduler.schedule_after(50, [&] { ++ran; });

  CHECK(scheduler.run_until(20) == 1);
  CHECK(ran == 1);
  CHECK(scheduler.now_ms() == 20);
  CHECK(scheduler.pending() == 1);
  CHECK(scheduler.run_until(50) == 1);
  CHECK(ran == 2);
}

TEST_CASE("an event can schedule more events, relative to its own time") {
  Scheduler scheduler;
  std::vector<SimTimeMs> ticks;
  std::function<void()> tick = [&] {
    ticks.push_back(scheduler.now_ms());
    if (ticks.size() < 4) scheduler.schedule_after(100, tick);
  };
  scheduler.schedule_after(0, tick);
  scheduler.run_all(100);
  CHECK(ticks == std::vector<SimTimeMs>{0, 100, 200, 300});
}

TEST_CASE("run_all respects its event budget") {
  Scheduler scheduler;
  std::function<void()> forever = [&] { scheduler.schedule_after(1, forever); };
  scheduler.schedule_after(0, forever);
  CHECK(scheduler.run_all(1000) == 1000);
  CHECK(scheduler.pending() == 1);
}

}  // namespace
}  // namespace cairn::sim
