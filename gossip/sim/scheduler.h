// The simulator's clock: a queue of events in virtual time.
//
// Time moves only when the test runs the scheduler, straight to the next event, so a simulated hour
// costs what its events cost. Events due at the same instant run in the order they were scheduled,
// which keeps a seeded run exactly reproducible.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace cairn::sim {

// Virtual milliseconds since the simulation started.
using SimTimeMs = std::uint64_t;

class Scheduler {
 public:
  using Event = std::function<void()>;

  SimTimeMs now_ms() const noexcept { return now_ms_; }

  // Runs `event` at now_ms() + delay_ms. An event may schedule further events.
  void schedule_after(SimTimeMs delay_ms, Event event);

  // Runs every event due at or before `deadline_ms`, then sets the clock to `deadline_ms`.
  // Returns the number of events run.
  std::uint64_t run_until(SimTimeMs deadline_ms);

  // Runs events until none is left or `max_events` have run; returns the number run.
  std::uint64_t run_all(std::uint64_t max_events);

  std::size_t pending() const noexcept { return heap_.size(); }
  // Events run since construction (the simulator's speed: events per wall second, in bench/).
  std::uint64_t events_run() const noexcept { return events_run_; }

 private:
  struct Entry {
    SimTimeMs due_ms;
    std::uint64_t sequence;  // Breaks ties between events due at the same instant: first scheduled runs first.
    Event event;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.sequence > b.sequence;
    }
  };

  bool run_next();

  SimTimeMs now_ms_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t events_run_ = 0;
  std::vector<Entry> heap_;  // A binary heap ordered by Later: the front is the next event.
};

}  // namespace cairn::sim
