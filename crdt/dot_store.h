// Dot stores: the containers of causal CRDTs (Almeida, Shoker, Baquero, "Delta State Replicated Data
// Types", section 6).
//
// A causal CRDT is a pair (dot store, causal context). The join of two such pairs keeps a dot when both
// sides hold it, or when one side holds it and the other has never seen it; a dot one side has seen
// (its context contains it) but no longer holds was removed there, and stays removed. That rule is how
// deletes work without tombstones. Every dot store provides that join, given both contexts.
#pragma once

#include <concepts>
#include <set>

#include "crdt/dot.h"
#include "crdt/dot_context.h"

namespace cairn::crdt {

template <typename S>
concept DotStore = std::equality_comparable<S> && std::default_initializable<S> &&
    requires(const S& store, const DotContext& context, std::set<Dot>& dots) {
  { store.empty() } -> std::same_as<bool>;
  { S::join(store, context, store, context) } -> std::same_as<S>;
  { store.collect_dots(dots) } -> std::same_as<void>;
};

// Whether a dot held on one side survives a join with the other side, which does not hold it.
inline bool survives_join(const Dot& dot, const DotContext& other_context) {
  return !other_context.contains(dot);
}

}  // namespace cairn::crdt
