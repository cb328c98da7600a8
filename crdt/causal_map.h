// CausalMap<Key, Type>: the store-level map from keys to CRDT values sharing ONE causal context.
//
// This is the causal map of the delta-CRDT paper (ORMap): every dot any value holds is minted from,
// and summarised by, the single map-wide context. Deleting a key removes the dots of it that the
// deleter observed, and nothing else: an update made concurrently (by a replica that had not seen the
// delete) keeps its dots and so survives, and a key deleted and re-created leaves no tombstone behind.
//
// `Type` is a value type (LwwRegister, OrSet, PnCounter) providing `Store`, `clear_delta(store,
// context, replica)` and `present(store)`.
#pragma once

#include <set>
#include <utility>

#include "crdt/causal.h"
#include "crdt/dot_map.h"

namespace cairn::crdt {

template <typename T>
concept CausalValueType = DotStore<typename T::Store> &&
    requires(const typename T::Store& store, const DotContext& context, ReplicaId replica) {
  { T::clear_delta(store, context, replica) } -> std::same_as<Causal<typename T::Store>>;
  { T::present(store) } -> std::same_as<bool>;
};

template <typename Key, CausalValueType Type>
class CausalMap : public CausalCrdt<CausalMap<Key, Type>, DotMap<Key, typename Type::Store>> {
  using Base = CausalCrdt<CausalMap<Key, Type>, DotMap<Key, typename Type::Store>>;

 public:
  using ValueStore = typename Type::Store;

  // Mutates the value at `key`: `mutate(value_store, map_context)` returns the value's delta (one of
  // Type's *_delta operations); the map's delta, which it returns, carries it under `key`.
  template <typename Mutate>
  CausalMap update(const Key& key, Mutate&& mutate) {
    static const ValueStore kEmpty{};
    const ValueStore* current = this->state_.store.find(key);
    Causal<ValueStore> value_delta =
        std::forward<Mutate>(mutate)(current ? *current : kEmpty, this->state_.context);
    Causal<typename Base::Store> delta;
    delta.store.assign(key, std::move(value_delta.store));
    delta.context = std::move(value_delta.context);
    return this->apply(std::move(delta));
  }

  // Deletes `key` as `replica`: removes what this replica has seen of it.
  CausalMap erase(const Key& key, ReplicaId replica) {
    return update(key, [&](const ValueStore& current, const DotContext& context) {
      return Type::clear_delta(current, context, replica);
    });
  }

  // The value store at `key`, or nullptr when the key is absent (never written, or deleted).
  const ValueStore* find(const Key& key) const {
    const ValueStore* store = this->state_.store.find(key);
    return store != nullptr && Type::present(*store) ? store : nullptr;
  }

  // The keys present.
  std::set<Key> value() const {
    std::set<Key> keys;
    for (const auto& [key, store] : this->state_.store.entries()) {
      if (Type::present(store)) keys.insert(key);
    }
    return keys;
  }
};

}  // namespace cairn::crdt
