// DotFun<V>: a dot store mapping each dot to an immutable value (LWW-register entries, counter entries).
#pragma once

#include <algorithm>
#include <map>
#include <utility>

#include "crdt/dot_store.h"

namespace cairn::crdt {

template <typename V>
requires std::totally_ordered<V>
class DotFun {
 public:
  using Entries = std::map<Dot, V>;

  DotFun() = default;
  explicit DotFun(Entries entries) : entries_(std::move(entries)) {}

  static DotFun join(const DotFun& a, const DotContext& a_context, const DotFun& b,
                     const DotContext& b_context) {
    DotFun result;
    for (const auto& [dot, value] : a.entries_) {
      auto theirs = b.entries_.find(dot);
      if (theirs != b.entries_.end()) {
        // A dot is minted once, so both sides normally hold the same value. Bytes from a faulty peer
        // could differ; taking the larger keeps the join commutative whatever arrives.
        result.entries_.emplace(dot, std::max(value, theirs->second));
      } else if (survives_join(dot, b_context)) {
        result.entries_.emplace(dot, value);
      }
    }
    for (const auto& [dot, value] : b.entries_) {
      if (!a.entries_.contains(dot) && survives_join(dot, a_context)) result.entries_.emplace(dot, value);
    }
    return result;
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  const Entries& entries() const { return entries_; }
  void insert(const Dot& dot, V value) { entries_.insert_or_assign(dot, std::move(value)); }
  void collect_dots(std::set<Dot>& out) const {
    for (const auto& entry : entries_) out.insert(entry.first);
  }

  friend bool operator==(const DotFun&, const DotFun&) = default;

 private:
  Entries entries_;
};

}  // namespace cairn::crdt
