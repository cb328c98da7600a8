// DotMap<K, S>: a dot store mapping keys to nested dot stores that share the outer causal context
// (OR-set members, the store-level causal map). A key whose nested store becomes empty disappears.
#pragma once

#include <map>
#include <utility>

#include "crdt/dot_store.h"

namespace cairn::crdt {

template <typename K, DotStore S>
class DotMap {
 public:
  using Entries = std::map<K, S>;

  DotMap() = default;
  explicit DotMap(Entries entries) : entries_(std::move(entries)) {}

  // Joins key by key; a key present on one side only is joined with an empty store from the other,
  // so dots the other side has seen and dropped are dropped here too.
  static DotMap join(const DotMap& a, const DotContext& a_context, const DotMap& b,
                     const DotContext& b_context) {
    static const S kEmpty{};
    DotMap result;
    auto add_if_nonempty = [&](const K& key, S joined) {
      if (!joined.empty()) result.entries_.emplace(key, std::move(joined));
    };
    for (const auto& [key, store] : a.entries_) {
      auto theirs = b.entries_.find(key);
      add_if_nonempty(
          key, S::join(store, a_context, theirs == b.entries_.end() ? kEmpty : theirs->second, b_context));
    }
    for (const auto& [key, store] : b.entries_) {
      if (!a.entries_.contains(key)) add_if_nonempty(key, S::join(kEmpty, a_context, store, b_context));
    }
    return result;
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  const Entries& entries() const { return entries_; }

  // The nested store of `key`, or nullptr when the key holds nothing.
  const S* find(const K& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Sets the nested store of `key` (used to build delta fragments); an empty store removes the key.
  void assign(const K& key, S store) {
    if (store.empty()) {
      entries_.erase(key);
    } else {
      entries_.insert_or_assign(key, std::move(store));
    }
  }

  void collect_dots(std::set<Dot>& out) const {
    for (const auto& entry : entries_) entry.second.collect_dots(out);
  }

  friend bool operator==(const DotMap&, const DotMap&) = default;

 private:
  Entries entries_;
};

}  // namespace cairn::crdt
