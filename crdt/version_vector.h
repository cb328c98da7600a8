// A version vector: for each replica, how many of its events are included (a contiguous prefix).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>

#include "crdt/dot.h"

namespace cairn::crdt {

enum class CausalOrder { kEqual, kBefore, kAfter, kConcurrent };

class VersionVector {
 public:
  using Entries = std::map<ReplicaId, std::uint64_t>;

  // Events of `replica` included: 1..get(replica). 0 when none.
  std::uint64_t get(ReplicaId replica) const {
    auto it = entries_.find(replica);
    return it == entries_.end() ? 0 : it->second;
  }

  bool contains(const Dot& dot) const { return dot.counter != 0 && dot.counter <= get(dot.replica); }

  // Raises the entry of `replica` to at least `counter`.
  void raise(ReplicaId replica, std::uint64_t counter) {
    if (counter == 0) return;
    auto& entry = entries_[replica];
    entry = std::max(entry, counter);
  }

  void join(const VersionVector& other) {
    for (const auto& [replica, counter] : other.entries_) raise(replica, counter);
  }

  // How this vector relates to `other` in the causal order.
  CausalOrder compare(const VersionVector& other) const {
    bool some_less = false, some_greater = false;
    auto visit = [&](std::uint64_t mine, std::uint64_t theirs) {
      some_less = some_less || mine < theirs;
      some_greater = some_greater || mine > theirs;
    };
    for (const auto& [replica, counter] : entries_) visit(counter, other.get(replica));
    for (const auto& [replica, counter] : other.entries_) {
      if (!entries_.contains(replica)) visit(0, counter);
    }
    if (some_less && some_greater) return CausalOrder::kConcurrent;
    if (some_less) return CausalOrder::kBefore;
    if (some_greater) return CausalOrder::kAfter;
    return CausalOrder::kEqual;
  }

  // True when every event in `other` is also in this vector.
  bool dominates(const VersionVector& other) const {
    const auto order = compare(other);
    return order == CausalOrder::kAfter || order == CausalOrder::kEqual;
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  const Entries& entries() const { return entries_; }

  friend bool operator==(const VersionVector&, const VersionVector&) = default;
  friend std::ostream& operator<<(std::ostream& out, const VersionVector& vv) {
    out << "{";
    const char* separator = "";
    for (const auto& [replica, counter] : vv.entries_) {
      out << separator << replica << ":" << counter;
      separator = ", ";
    }
    return out << "}";
  }

 private:
  Entries entries_;  // Never holds a zero counter, so equal vectors compare equal.
};

}  // namespace cairn::crdt
