// DotSet: a dot store that is just a set of dots (the building block of OR-set members).
#pragma once

#include <set>

#include "crdt/dot_store.h"

namespace cairn::crdt {

class DotSet {
 public:
  DotSet() = default;
  explicit DotSet(std::set<Dot> dots) : dots_(std::move(dots)) {}

  static DotSet join(const DotSet& a, const DotContext& a_context, const DotSet& b,
                     const DotContext& b_context) {
    DotSet result;
    for (const Dot& dot : a.dots_) {
      if (b.dots_.contains(dot) || survives_join(dot, b_context)) result.dots_.insert(dot);
    }
    for (const Dot& dot : b.dots_) {
      if (!a.dots_.contains(dot) && survives_join(dot, a_context)) result.dots_.insert(dot);
    }
    return result;
  }

  bool empty() const { return dots_.empty(); }
  std::size_t size() const { return dots_.size(); }
  bool contains(const Dot& dot) const { return dots_.contains(dot); }
  const std::set<Dot>& dots() const { return dots_; }
  void collect_dots(std::set<Dot>& out) const { out.insert(dots_.begin(), dots_.end()); }

  friend bool operator==(const DotSet&, const DotSet&) = default;

 private:
  std::set<Dot> dots_;
};

}  // namespace cairn::crdt
