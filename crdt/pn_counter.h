// PnCounter: a counter of increments and decrements that a delete resets exactly.
//
// Each replica that changes the counter keeps ONE live contribution entry (a dot mapped to its running
// increment and decrement totals), replacing its previous entry on every change, so the metadata is
// one entry per contributing replica, not one per operation.
//
// Deleting the key removes the contributions it observed, but a running total that a replica keeps
// extending concurrently would bring the observed part back (the "observed-reset" anomaly of the
// folded causal counter in the delta-CRDT literature). So a delete also records, per contributor it
// observed, a small reset entry: "of this contributor's chain, the first p increments and q decrements
// were deleted". A contribution counts only what exceeds the largest reset of its own chain; the
// contributor absorbs such resets into its next entry (the offset) and drops them, so resets live only
// until the contributor next writes. The value is therefore exactly the increments and decrements that
// no delete observed, and a fully deleted counter keeps at most one reset per contributor and
// concurrent deleter until that contributor writes again, or until the store's metadata compaction
// drops it once no contribution it must cancel can still arrive (without_settled_resets).
//
// Range. Each contributor's running totals are unsigned 64-bit, so the sum over contributors can leave
// the int64 range even when every local write stayed inside it (two replicas each adding 2^62 * 3
// concurrently). The value is therefore summed exactly in 128 bits (total_of) and value_of reports a
// total outside the int64 range as absent instead of wrapping it. A local add that would take the value
// out of the range, or a running total past 2^64 - 1, is refused before its delta exists (check_add).
#pragma once

#include <algorithm>
#include <cassert>
#include <compare>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "crdt/causal.h"
#include "crdt/dot_fun.h"

namespace cairn::crdt {

// A counter's exact value. A contribution adds up to 2^64 - 1 increments or decrements, so 128 bits
// hold the sum of any number of contributors a record can carry (far fewer than 2^63).
__extension__ using CounterTotal = __int128;

struct CounterEntry {
  enum class Kind : std::uint8_t { kContribution = 0, kReset = 1 };

  Kind kind = Kind::kContribution;
  // The replica whose totals this entry is about: the writer for a contribution, the observed
  // contributor for a reset.
  ReplicaId contributor;
  // The first dot of the contributor's chain of entries; a contributor starts a new chain when it
  // writes after all of its earlier entries were deleted.
  Dot chain;
  // Running totals along the chain (contribution), or the totals a delete observed (reset).
  std::uint64_t increments = 0;
  std::uint64_t decrements = 0;
  // Contribution: the largest totals of its chain that deletes had observed when it was written.
  // Reset: the dot of the contribution the delete observed.
  std::uint64_t deleted_increments = 0;
  std::uint64_t deleted_decrements = 0;
  Dot observed;

  friend auto operator<=>(const CounterEntry&, const CounterEntry&) = default;
};

class PnCounter : public CausalCrdt<PnCounter, DotFun<CounterEntry>> {
 public:
  using EntryRef = const Store::Entries::value_type*;  // A (dot, entry) pair inside a store.

  // What one contributor currently adds to the counter.
  struct Contribution {
    std::uint64_t increments = 0;
    std::uint64_t decrements = 0;
    bool live = false;  // Some of its operations were not deleted (even if they sum to zero).
  };

  // Whether a local add may go ahead (check_add).
  enum class AddCheck : std::uint8_t {
    kOk,
    kValueOutOfRange,       // The value read afterwards would leave the int64 range.
    kRunningTotalOverflow,  // The replica's running increment or decrement total would pass 2^64 - 1.
  };

  // ---- Operations on a counter's store inside any causal context (shared with CausalMap). ----

  // Whether `replica` may add `increments` and `decrements` to `current`. kOk when the value read
  // afterwards fits an int64, or when the value had already left that range (merged concurrent
  // contributions) and the add moves it back toward it, and the replica's running totals still fit 64
  // bits. add_delta requires kOk: past 2^64 - 1 a running total would wrap.
  static AddCheck check_add(const Store& current, ReplicaId replica, std::uint64_t increments,
                            std::uint64_t decrements) {
    const EntryRef latest = latest_contribution(current, replica);
    CounterEntry next;
    if (latest != nullptr) next = latest->second;
    if (__builtin_add_overflow(next.increments, increments, &next.increments) ||
        __builtin_add_overflow(next.decrements, decrements, &next.decrements)) {
      return AddCheck::kRunningTotalOverflow;
    }
    const CounterTotal before = total_of(current);
    CounterTotal after = before;
    if (latest != nullptr) {
      const auto [deleted_inc, deleted_dec] = deleted_totals(current, latest->second);
      after -= net(contribution_of(current, latest));
      after += net(counted_part(next, deleted_inc, deleted_dec));
    } else {
      after += static_cast<CounterTotal>(increments) - static_cast<CounterTotal>(decrements);
    }
    if (fits_int64(after)) return AddCheck::kOk;
    const bool back_toward_range = after > kInt64Max ? after < before : after > before;
    return back_toward_range ? AddCheck::kOk : AddCheck::kValueOutOfRange;
  }

  // The delta of adding `increments` and `decrements` as `replica`. Requires check_add(...) == kOk.
  static Causal<Store> add_delta(const Store& current, const DotContext& context, ReplicaId replica,
                                 std::uint64_t increments, std::uint64_t decrements) {
    Causal<Store> delta;
    const Dot dot = DotMinter(context, replica).mint();
    CounterEntry next;
    next.contributor = replica;
    next.chain = dot;
    if (EntryRef latest = latest_contribution(current, replica)) {
      const CounterEntry& entry = latest->second;
      const auto [deleted_inc, deleted_dec] = deleted_totals(current, entry);
      next.chain = entry.chain;
      next.increments = entry.increments;
      next.decrements = entry.decrements;
      next.deleted_increments = deleted_inc;
      next.deleted_decrements = deleted_dec;
    }
    // check_add rules a wrap out; a wrapped running total would corrupt the chain, so it is asserted.
    [[maybe_unused]] const bool increments_wrapped =
        __builtin_add_overflow(next.increments, increments, &next.increments);
    [[maybe_unused]] const bool decrements_wrapped =
        __builtin_add_overflow(next.decrements, decrements, &next.decrements);
    assert(!increments_wrapped && !decrements_wrapped && "PnCounter::add_delta called without check_add");
    // Observe (replace) every entry about this replica: its older contributions and the resets it has
    // now absorbed into `deleted_*`.
    for (const auto& [existing_dot, entry] : current.entries()) {
      if (entry.contributor == replica) delta.context.insert(existing_dot);
    }
    delta.store.insert(dot, next);
    delta.context.insert(dot);
    return delta;
  }

  // The delta of deleting the counter: removes every contribution it observed and records a reset
  // for each contributor whose latest entry still counted.
  static Causal<Store> clear_delta(const Store& current, const DotContext& context, ReplicaId replica) {
    Causal<Store> delta;
    DotMinter minter(context, replica);
    for (const auto& [contributor, latest] : latest_contributions(current)) {
      if (!contribution_of(current, latest).live) continue;
      const CounterEntry& entry = latest->second;
      const Dot dot = minter.mint();
      CounterEntry reset;
      reset.kind = CounterEntry::Kind::kReset;
      reset.contributor = contributor;
      reset.chain = entry.chain;
      reset.increments = entry.increments;
      reset.decrements = entry.decrements;
      reset.observed = latest->first;
      delta.store.insert(dot, reset);
      delta.context.insert(dot);
      // The new reset supersedes every reset of this chain the deleter holds: the latest entry is
      // live, so each of them observed an earlier entry of the chain, whose totals this one's include.
      // Without this, a deleter that keeps clearing a contributor that has not yet seen its resets
      // would keep one reset per clear.
      for (const auto& [existing_dot, existing] : current.entries()) {
        if (is_reset_of_chain(existing, entry)) delta.context.insert(existing_dot);
      }
    }
    for (const auto& [dot, entry] : current.entries()) {
      if (entry.kind == CounterEntry::Kind::kContribution) delta.context.insert(dot);
    }
    return delta;
  }

  // The counter's exact value: increments minus decrements that no delete observed.
  static CounterTotal total_of(const Store& store) {
    CounterTotal total = 0;
    for (const auto& [contributor, latest] : latest_contributions(store)) total += net(contribution_of(store, latest));
    return total;
  }

  // The counter's value, or nothing when the exact total does not fit an int64 (it is never wrapped).
  static std::optional<std::int64_t> value_of(const Store& store) {
    const CounterTotal total = total_of(store);
    if (!fits_int64(total)) return std::nullopt;
    return static_cast<std::int64_t>(total);
  }

  static bool fits_int64(CounterTotal total) { return total >= kInt64Min && total <= kInt64Max; }

  // True when some operation on the counter was not deleted.
  static bool present(const Store& store) {
    for (const auto& [contributor, latest] : latest_contributions(store)) {
      if (contribution_of(store, latest).live) return true;
    }
    return false;
  }

  // ---- A counter on its own, with its own context. ----

  // Each requires check_add(state().store, replica, ...) == kOk (see add_delta).
  PnCounter increment(ReplicaId replica, std::uint64_t amount = 1) {
    return apply(add_delta(state_.store, state_.context, replica, amount, 0));
  }
  PnCounter decrement(ReplicaId replica, std::uint64_t amount = 1) {
    return apply(add_delta(state_.store, state_.context, replica, 0, amount));
  }
  PnCounter clear(ReplicaId replica) { return apply(clear_delta(state_.store, state_.context, replica)); }

  std::optional<std::int64_t> value() const { return value_of(state_.store); }

  // ---- Metadata compaction of reset entries (docs/metadata-gc.md). ----

  // True when `store` holds at least one reset entry (the store keeps an index of such records).
  static bool holds_resets(const Store& store) {
    return std::any_of(store.entries().begin(), store.entries().end(),
                       [](const auto& item) { return item.second.kind == CounterEntry::Kind::kReset; });
  }

  // The reset entries of `store` whose chain has no contribution in `store`, in dot order. Only these
  // may ever be dropped: a reset of a chain that still has a contribution here subtracts from it (it
  // goes when the contributor next writes and absorbs it). Dropping any of them changes neither
  // value_of() nor present(), which look only at the resets of the chains of live contributions.
  static std::vector<EntryRef> orphaned_resets(const Store& store) {
    std::vector<EntryRef> orphaned;
    for (const auto& item : store.entries()) {
      if (item.second.kind != CounterEntry::Kind::kReset) continue;
      const bool chain_alive =
          std::any_of(store.entries().begin(), store.entries().end(), [&](const auto& other) {
            return other.second.kind == CounterEntry::Kind::kContribution &&
                   other.second.contributor == item.second.contributor &&
                   other.second.chain == item.second.chain;
          });
      if (!chain_alive) orphaned.push_back(&item);
    }
    return orphaned;
  }

  // `store` without the orphaned resets (see orphaned_resets) for which `settled(dot, entry)` is true:
  // the caller decides, from what other replicas reported, that no contribution of the reset's chain
  // can still arrive. The caller's causal context must keep the dropped dots (it does: they were
  // seen), so a join never brings them back; the drop is an observed-remove of those dots.
  template <typename Settled>
  static Store without_settled_resets(const Store& store, Settled&& settled) {
    std::vector<Dot> doomed;
    for (EntryRef reset : orphaned_resets(store)) {
      if (settled(reset->first, reset->second)) doomed.push_back(reset->first);
    }
    if (doomed.empty()) return store;
    Store::Entries kept = store.entries();
    for (const Dot& dot : doomed) kept.erase(dot);
    return Store(std::move(kept));
  }

 private:
  static constexpr CounterTotal kInt64Min = std::numeric_limits<std::int64_t>::min();
  static constexpr CounterTotal kInt64Max = std::numeric_limits<std::int64_t>::max();

  static CounterTotal net(const Contribution& part) {
    return static_cast<CounterTotal>(part.increments) - static_cast<CounterTotal>(part.decrements);
  }

  // The newest contribution of `replica`, or nullptr: its others are older links of a chain
  // (superseded) or of a chain that a delete ended, and count for nothing.
  static EntryRef latest_contribution(const Store& store, ReplicaId replica) {
    EntryRef latest = nullptr;
    for (const auto& item : store.entries()) {
      // Entries are ordered by dot, so the last match is the newest.
      if (item.second.kind == CounterEntry::Kind::kContribution && item.second.contributor == replica)
        latest = &item;
    }
    return latest;
  }

  static std::map<ReplicaId, EntryRef> latest_contributions(const Store& store) {
    std::map<ReplicaId, EntryRef> latest;
    for (const auto& item : store.entries()) {
      if (item.second.kind == CounterEntry::Kind::kContribution) latest[item.second.contributor] = &item;
    }
    return latest;
  }

  static bool is_reset_of_chain(const CounterEntry& reset, const CounterEntry& contribution) {
    return reset.kind == CounterEntry::Kind::kReset && reset.contributor == contribution.contributor &&
           reset.chain == contribution.chain;
  }

  // The largest totals of `entry`'s chain that deletes observed: its own absorbed offset, or a reset.
  static std::pair<std::uint64_t, std::uint64_t> deleted_totals(const Store& store,
                                                                const CounterEntry& entry) {
    std::uint64_t increments = entry.deleted_increments, decrements = entry.deleted_decrements;
    for (const auto& item : store.entries()) {
      if (is_reset_of_chain(item.second, entry)) {
        increments = std::max(increments, item.second.increments);
        decrements = std::max(decrements, item.second.decrements);
      }
    }
    return {increments, decrements};
  }

  // The totals of `entry` beyond what deletes of its chain observed (`live` left false).
  static Contribution counted_part(const CounterEntry& entry, std::uint64_t deleted_inc, std::uint64_t deleted_dec) {
    Contribution part;
    part.increments = entry.increments > deleted_inc ? entry.increments - deleted_inc : 0;
    part.decrements = entry.decrements > deleted_dec ? entry.decrements - deleted_dec : 0;
    return part;
  }

  // What the contribution `latest` (a dot and its entry) adds once the deletes of its chain are taken off.
  static Contribution contribution_of(const Store& store, EntryRef latest) {
    const Dot& dot = latest->first;
    const CounterEntry& entry = latest->second;
    const auto [deleted_inc, deleted_dec] = deleted_totals(store, entry);
    Contribution part = counted_part(entry, deleted_inc, deleted_dec);
    // Live unless a delete observed this very entry (or a later one of its chain).
    part.live = std::none_of(store.entries().begin(), store.entries().end(), [&](const auto& item) {
      return is_reset_of_chain(item.second, entry) && item.second.observed >= dot;
    });
    return part;
  }
};

}  // namespace cairn::crdt
