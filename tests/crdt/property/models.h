// Reference models: what a replica that joined a given set of deltas must hold and read. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/generators.h"
#include "tests/crdt/property/verdict.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Reference models.

// Observed-remove semantics, shared by the register and the set: an operation may add one entry (a
// dot) and removes the entries, among those it `covers`, that its issuer held when it was issued.
// What the issuer held is itself defined by this model over the issuer's `past`, so the model is
// exact for ANY set of received deltas, causally closed or not:
//   live(R)     = the adds in R that no operation in R observed
//   observed(j) = live(past(j)) restricted to what j covers
// A delta's context is its own dot plus the dots it observed.
class ObservedRemoveModel {
 public:
  void add(std::optional<crdt::Dot> dot, OpSet covers, OpSet past) {
    observed_.push_back(live_in(past) & covers);
    covers_.push_back(covers);
    pasts_.push_back(past);
    if (dot) adds_ |= op_bit(dots_.size());
    dots_.push_back(dot);
  }

  OpSet live_in(OpSet received) const {
    OpSet removed = 0;
    for_each_op(received, [&](std::size_t op) { removed |= observed_[op]; });
    return received & adds_ & ~removed;
  }

  // The plain causal-past formulation: an add survives iff no operation that covers it had it in its
  // past. It only holds where `received` is causally closed (an operation's issuer may have seen an
  // add already removed by a delta this replica lacks); there it must equal live_in(), which the
  // workloads assert as a check on the model itself.
  OpSet causally_live_in(OpSet received) const {
    OpSet live = received & adds_;
    for_each_op(received, [&](std::size_t op) { live &= ~(covers_[op] & pasts_[op]); });
    return live;
  }

  OpSet observed(std::size_t op) const { return observed_[op]; }
  const crdt::Dot& dot(std::size_t op) const { return *dots_[op]; }

  crdt::DotContext context_of(OpSet received) const {
    std::set<crdt::Dot> dots;
    for_each_op(received, [&](std::size_t op) {
      if (dots_[op]) dots.insert(*dots_[op]);
      for_each_op(observed_[op], [&](std::size_t seen) { dots.insert(*dots_[seen]); });
    });
    crdt::DotContext context;
    for (const crdt::Dot& dot : dots) context.insert(dot);
    return context;
  }

 private:
  std::vector<std::optional<crdt::Dot>> dots_;
  std::vector<OpSet> observed_;
  std::vector<OpSet> covers_;
  std::vector<OpSet> pasts_;
  OpSet adds_ = 0;
};

// Observed-reset counter semantics, per key: the value is the sum of the updates that no clear
// observed, and a clear observes an update when its issuer's value included it. A replica's value
// includes an update of replica r once it has received that update or any LATER update of r on the
// same key, because r folds its updates into running totals. (A later update that started a new
// running total folds nothing, but r starts one only after a clear deleted all its earlier updates,
// so the rule still holds.) So an update u is deleted iff some clear's past holds u or a later update
// of u's issuer on u's key. Exact for causally closed sets of
// deltas (in particular after full delivery); a replica missing some causal past can legitimately
// differ until the past arrives.
//
// The counter also promises its metadata stays one contribution per contributor: so wherever the
// model is exact, a contributor with surviving updates has exactly one contribution entry and every
// other contributor none.
class CounterModel {
 public:
  struct Expected {
    std::int64_t value = 0;
    bool present = false;                // Some update was not deleted (even if the survivors sum to zero).
    std::set<std::size_t> contributors;  // The replicas (by index) with surviving updates.
  };

  void add_update(std::size_t replica, std::string key, std::uint64_t increments, std::uint64_t decrements) {
    ops_.push_back(Op{false, replica, std::move(key), increments, decrements, 0});
  }
  void add_clear(std::size_t replica, std::string key, OpSet past) {
    ops_.push_back(Op{true, replica, std::move(key), 0, 0, past});
  }

  Expected evaluate(const std::string& key, OpSet received) const {
    OpSet clears = 0;
    for_each_op(received, [&](std::size_t op) {
      if (ops_[op].clear && ops_[op].key == key) clears |= op_bit(op);
    });
    std::uint64_t increments = 0, decrements = 0;
    Expected expected;
    for_each_op(received, [&](std::size_t op) {
      const Op& update = ops_[op];
      if (update.clear || update.key != key) return;
      OpSet same_or_later = 0;
      for (std::size_t later = op; later < ops_.size(); ++later) {
        const Op& other = ops_[later];
        if (!other.clear && other.replica == update.replica && other.key == key)
          same_or_later |= op_bit(later);
      }
      bool deleted = false;
      for_each_op(clears,
                  [&](std::size_t clear) { deleted = deleted || (ops_[clear].past & same_or_later) != 0; });
      if (deleted) return;
      increments += update.increments;
      decrements += update.decrements;
      expected.present = true;
      expected.contributors.insert(update.replica);
    });
    expected.value = static_cast<std::int64_t>(increments - decrements);
    return expected;
  }

 private:
  struct Op {
    bool clear;
    std::size_t replica;
    std::string key;
    std::uint64_t increments, decrements;
    OpSet past;  // Only clears need it.
  };
  std::vector<Op> ops_;
};

}  // namespace cairn::test
