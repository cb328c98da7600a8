// OrSet: an add-wins observed-remove set, kept as member -> dots.
//
// An add mints a dot for the member and observes the member's earlier dots, so each member holds at
// most one dot per replica that added it concurrently. A remove observes (drops) only the dots it saw:
// an add it did not see survives it, which is what "add wins" means.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "crdt/causal.h"
#include "crdt/dot_map.h"
#include "crdt/dot_set.h"

namespace cairn::crdt {

using OrSetMember = std::string;  // Opaque bytes.

class OrSet : public CausalCrdt<OrSet, DotMap<OrSetMember, DotSet>> {
 public:
  using Member = OrSetMember;

  // ---- Operations on a set's store inside any causal context (shared with CausalMap). ----

  static Causal<Store> add_delta(const Store& current, const DotContext& context, ReplicaId replica,
                                 const Member& member) {
    Causal<Store> delta;
    if (const DotSet* existing = current.find(member)) delta.context = context_of(*existing);
    const Dot dot = DotMinter(context, replica).mint();
    delta.store.assign(member, DotSet({dot}));
    delta.context.insert(dot);
    return delta;
  }

  static Causal<Store> remove_delta(const Store& current, const DotContext& /*context*/,
                                    ReplicaId /*replica*/, const Member& member) {
    Causal<Store> delta;
    if (const DotSet* existing = current.find(member)) delta.context = context_of(*existing);
    return delta;
  }

  // Removes every member the caller has seen.
  static Causal<Store> clear_delta(const Store& current, const DotContext& /*context*/,
                                   ReplicaId /*replica*/) {
    return Causal<Store>{Store{}, context_of(current)};
  }

  static bool contains(const Store& store, const Member& member) { return store.find(member) != nullptr; }
  static bool present(const Store& store) { return !store.empty(); }

  static std::vector<Member> members(const Store& store) {
    std::vector<Member> result;
    result.reserve(store.size());
    for (const auto& entry : store.entries()) result.push_back(entry.first);
    return result;
  }

  // ---- A set on its own, with its own context. ----

  OrSet add(ReplicaId replica, const Member& member) {
    return apply(add_delta(state_.store, state_.context, replica, member));
  }
  OrSet remove(ReplicaId replica, const Member& member) {
    return apply(remove_delta(state_.store, state_.context, replica, member));
  }
  OrSet clear(ReplicaId replica) { return apply(clear_delta(state_.store, state_.context, replica)); }

  bool contains(const Member& member) const { return contains(state_.store, member); }
  std::set<Member> value() const {
    std::set<Member> result;
    for (const auto& entry : state_.store.entries()) result.insert(entry.first);
    return result;
  }
};

}  // namespace cairn::crdt
