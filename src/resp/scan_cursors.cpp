#include "src/resp/scan_cursors.h"

#include <utility>

namespace cairn::resp {

ScanCursors::ScanCursors(std::size_t capacity, std::uint64_t seed)
    : capacity_(capacity == 0 ? 1 : capacity), rng_(seed) {}

std::optional<ScanPosition> ScanCursors::take(std::uint64_t number) {
  std::lock_guard lock(mutex_);
  auto found = saved_.find(number);
  if (found == saved_.end()) return std::nullopt;
  ScanPosition position = std::move(found->second.position);
  oldest_first_.erase(found->second.age);
  saved_.erase(found);
  return position;
}

std::uint64_t ScanCursors::save(ScanPosition position) {
  std::lock_guard lock(mutex_);
  while (saved_.size() >= capacity_) {
    saved_.erase(oldest_first_.front());
    oldest_first_.pop_front();
  }
  constexpr std::uint64_t kBelow = std::uint64_t{1} << 53;
  std::uint64_t number = 0;
  while (number == 0 || saved_.contains(number)) number = rng_.next() % kBelow;
  oldest_first_.push_back(number);
  saved_.emplace(number, Saved{std::move(position), std::prev(oldest_first_.end())});
  return number;
}

std::size_t ScanCursors::size() const {
  std::lock_guard lock(mutex_);
  return saved_.size();
}

}  // namespace cairn::resp
