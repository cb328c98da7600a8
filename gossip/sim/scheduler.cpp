#include "gossip/sim/scheduler.h"

#include <algorithm>
#include <utility>

namespace cairn::sim {

void Scheduler::schedule_after(SimTimeMs delay_ms, Event event) {
  heap_.push_back(Entry{now_ms_ + delay_ms, next_sequence_++, std::move(event)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

bool Scheduler::run_next() {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  Entry entry = std::move(heap_.back());
  heap_.pop_back();
  now_ms_ = entry.due_ms;
  ++events_run_;
  entry.event();
  return true;
}

std::uint64_t Scheduler::run_until(SimTimeMs deadline_ms) {
  std::uint64_t ran = 0;
  while (!heap_.empty() && heap_.front().due_ms <= deadline_ms) {
    run_next();
    ++ran;
  }
  if (deadline_ms > now_ms_) now_ms_ = deadline_ms;
  return ran;
}

std::uint64_t Scheduler::run_all(std::uint64_t max_events) {
  std::uint64_t ran = 0;
  while (ran < max_events && run_next()) ++ran;
  return ran;
}

}  // namespace cairn::sim
