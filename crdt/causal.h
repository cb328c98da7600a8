// Causal<S>: a dot store paired with its causal context; the state (and the delta) of a causal CRDT.
//
// A delta is a Causal<S> too: the fragment of the dot store a mutation produced, plus the context
// fragment of the dots it saw (the dots it removes) and minted. Joining deltas gives a delta-group;
// joining a delta or a group into a state is how the state changes, locally or from a peer.
#pragma once

#include <ostream>
#include <utility>

#include "crdt/dot_context.h"
#include "crdt/dot_store.h"

namespace cairn::crdt {

template <DotStore S>
struct Causal {
  S store;
  DotContext context;

  void join(const Causal& other) {
    store = S::join(store, context, other.store, other.context);
    context.join(other.context);
  }

  friend bool operator==(const Causal&, const Causal&) = default;
};

// The context fragment of a mutation that observed every dot of `store` and minted `minted` dots.
template <DotStore S>
DotContext context_of(const S& store) {
  std::set<Dot> dots;
  store.collect_dots(dots);
  DotContext context;
  for (const Dot& dot : dots) context.insert(dot);
  return context;
}

// Hands out fresh dots for one mutation: a mutation that mints several dots asks for each in turn.
class DotMinter {
 public:
  DotMinter(const DotContext& context, ReplicaId replica) : next_(context.next_dot(replica)) {}
  Dot mint() { return Dot{next_.replica, next_.counter++}; }

 private:
  Dot next_;
};

// The shared shell of a causal CRDT used on its own: it owns a Causal<S> state, and each mutator
// computes a delta from the state, joins it in (join is the only way state changes) and returns it as
// a value of the same type, ready to ship to other replicas or to join into a delta-group.
template <typename Derived, DotStore S>
class CausalCrdt {
 public:
  using Store = S;

  void join(const Derived& other) { state_.join(other.state_); }
  const Causal<S>& state() const { return state_; }

  friend bool operator==(const CausalCrdt&, const CausalCrdt&) = default;

 protected:
  Derived apply(Causal<S> delta) {
    Derived as_delta;
    as_delta.state_ = std::move(delta);
    state_.join(as_delta.state_);
    return as_delta;
  }

  Causal<S> state_;
};

}  // namespace cairn::crdt
