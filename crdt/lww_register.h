// LwwRegister: a last-writer-wins register kept as a dot store of (value, HLC) entries.
//
// A write mints a dot and observes (so removes) every entry the writer holds: a causally later write
// therefore replaces the earlier one whatever the wall clocks say. Writes that did not see each other
// both survive; every replica reads the same winner, the entry with the largest (HLC, replica id),
// and the others stay inspectable until a write that observed them covers them.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crdt/causal.h"
#include "crdt/dot_fun.h"
#include "crdt/hlc.h"

namespace cairn::crdt {

struct LwwEntry {
  std::string value;  // Opaque bytes.
  HlcTimestamp timestamp;

  friend auto operator<=>(const LwwEntry&, const LwwEntry&) = default;
};

// One entry of a register as a reader sees it.
struct LwwVersion {
  Dot dot;
  const LwwEntry* entry;
};

class LwwRegister : public CausalCrdt<LwwRegister, DotFun<LwwEntry>> {
 public:
  // ---- Operations on a register's store inside any causal context (shared with CausalMap). ----

  // The delta of writing `value` at `timestamp` as `replica`, given the register's current store and the
  // context the new dot is minted from.
  static Causal<Store> write_delta(const Store& current, const DotContext& context, ReplicaId replica,
                                   std::string value, HlcTimestamp timestamp) {
    Causal<Store> delta{Store{}, context_of(current)};
    const Dot dot = DotMinter(context, replica).mint();
    delta.store.insert(dot, LwwEntry{std::move(value), timestamp});
    delta.context.insert(dot);
    return delta;
  }

  // The delta of deleting the register: it removes every entry `current` holds and adds nothing.
  static Causal<Store> clear_delta(const Store& current, const DotContext& /*context*/,
                                   ReplicaId /*replica*/) {
    return Causal<Store>{Store{}, context_of(current)};
  }

  static bool present(const Store& store) { return !store.empty(); }

  // Every surviving entry, winner first, then the concurrent losers by descending (HLC, replica id).
  static std::vector<LwwVersion> versions(const Store& store) {
    std::vector<LwwVersion> result;
    result.reserve(store.size());
    for (const auto& [dot, entry] : store.entries()) result.push_back(LwwVersion{dot, &entry});
    std::sort(result.begin(), result.end(),
              [](const LwwVersion& a, const LwwVersion& b) { return wins_over(a, b); });
    return result;
  }

  // The winning entry, or nullopt when the register holds nothing.
  static std::optional<LwwVersion> winner(const Store& store) {
    std::optional<LwwVersion> best;
    for (const auto& [dot, entry] : store.entries()) {
      LwwVersion candidate{dot, &entry};
      if (!best || wins_over(candidate, *best)) best = candidate;
    }
    return best;
  }

  // The tie-break every replica applies identically, whatever order it joined in: larger HLC wins,
  // then larger replica id, then the larger dot. Two entries of one replica usually cannot coexist
  // (each write observes the previous one), but they can for a while at a third replica: A writes, a
  // remote delete removes it, A sees the delete and writes again, and the third replica holds both
  // writes before the delete reaches it. The dot makes the order total in that case too.
  static bool wins_over(const LwwVersion& a, const LwwVersion& b) {
    if (a.entry->timestamp != b.entry->timestamp) return a.entry->timestamp > b.entry->timestamp;
    if (a.dot.replica != b.dot.replica) return a.dot.replica > b.dot.replica;
    return a.dot.counter > b.dot.counter;
  }

  // ---- A register on its own, with its own context. ----

  // Writes and returns the delta to ship to other replicas.
  LwwRegister write(ReplicaId replica, std::string value, HlcTimestamp timestamp) {
    return apply(write_delta(state_.store, state_.context, replica, std::move(value), timestamp));
  }

  LwwRegister clear(ReplicaId replica) { return apply(clear_delta(state_.store, state_.context, replica)); }

  // The winning value, or nullopt when empty.
  std::optional<std::string> value() const {
    auto best = winner(state_.store);
    if (!best) return std::nullopt;
    return best->entry->value;
  }
};

}  // namespace cairn::crdt
