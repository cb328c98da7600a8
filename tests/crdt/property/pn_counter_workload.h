// The PN-counter workload of the property tests. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/hosts.h"

namespace cairn::test {

// PN-counter updates and clears. Model: CounterModel, checked wherever the received deltas are
// causally closed (always after full delivery).
template <typename Host>
class PnCounterWorkload {
 public:
  using Crdt = typename Host::Crdt;
  using Store = crdt::PnCounter::Store;
  using Read = std::map<std::string, std::pair<bool, std::int64_t>>;  // Key -> (present, value).

  PnCounterWorkload(Rng& rng, const std::vector<crdt::ReplicaId>& ids)
      : ids_(ids), keys_(random_keys(rng, Host::kKeyed)) {}

  Crdt mutate(Rng& rng, std::size_t replica, Crdt& state, OpSet past) {
    const std::string& key = pick_from(keys_, rng);
    const crdt::ReplicaId id = ids_[replica];
    Crdt delta;
    std::ostringstream description;
    if (rng.chance(1, 5)) {
      if constexpr (Host::kKeyed) {
        delta = state.erase(key, id);
      } else {
        delta = state.clear(id);
      }
      model_.add_clear(replica, key, past);
      description << "clear";
    } else {
      std::uint64_t increments = 0, decrements = 0;
      if constexpr (Host::kKeyed) {
        // The map reaches add_delta directly, so it can change both totals at once.
        increments = rng.chance(2, 3) ? random_amount(rng) : 0;
        decrements = rng.chance(1, 2) ? random_amount(rng) : 0;
        delta = state.update(key, [&](const Store& current, const crdt::DotContext& context) {
          return crdt::PnCounter::add_delta(current, context, id, increments, decrements);
        });
      } else if (rng.chance(1, 2)) {
        increments = random_amount(rng);
        delta = state.increment(id, increments);
      } else {
        decrements = random_amount(rng);
        delta = state.decrement(id, decrements);
      }
      model_.add_update(replica, key, increments, decrements);
      description << "+" << increments << " -" << decrements << " as " << only_dot(delta);
    }
    if (Host::kKeyed) description << " key \"" << key << "\"";
    descriptions_.push_back(description.str());
    return delta;
  }

  Read read(const Crdt& state) const {
    Read result;
    if constexpr (Host::kKeyed) {
      for (const std::string& key : state.value()) {
        // value() and find() must agree on which keys are present; "absent" shows when not.
        const Store* store = state.find(key);
        result[key] = {store != nullptr, store != nullptr ? value_of(*store) : 0};
      }
    } else {
      result[""] = {crdt::PnCounter::present(state.state().store), value_of(state.state().store)};
    }
    return result;
  }

  void check_model(const Crdt& state, OpSet received, bool causally_closed, Verdict& verdict,
                   std::string_view where) const {
    if (!causally_closed) return;
    Read expected_read, actual_read;
    for (const std::string& key : keys_) {
      const CounterModel::Expected expected = model_.evaluate(key, received);
      const Store* store = Host::find(state, key);
      const bool present = store != nullptr && crdt::PnCounter::present(*store);
      const std::int64_t value = store != nullptr ? value_of(*store) : 0;
      if (Host::kKeyed && !expected.present) {
        // An absent key reads as nothing; its leftover resets must not add up to a value either.
        verdict.expect(value == 0, [&](std::ostream& out) {
          out << where << ": absent key \"" << key << "\" has value " << value;
        });
      } else {
        expected_read[key] = {expected.present, expected.value};
      }
      if (!Host::kKeyed || present) actual_read[key] = {present, value};
      if constexpr (Host::kKeyed) {
        verdict.expect((state.find(key) != nullptr) == expected.present, [&](std::ostream& out) {
          out << where << ": find(\"" << key << "\") disagrees with the model's presence "
              << expected.present;
        });
      }

      std::map<std::uint64_t, int> contributions, expected_contributions;  // By contributor id.
      if (store != nullptr) {
        for (const auto& [dot, entry] : store->entries()) {
          if (entry.kind == crdt::CounterEntry::Kind::kContribution) ++contributions[entry.contributor.value];
        }
      }
      for (const std::size_t replica : expected.contributors) expected_contributions[ids_[replica].value] = 1;
      verdict.expect(contributions == expected_contributions, [&](std::ostream& out) {
        out << where << ": key \"" << key << "\" should hold one contribution for each of the replicas ";
        for (const std::size_t replica : expected.contributors) out << ids_[replica] << " ";
        out << "and no other, but holds " << show_crdt(state);
      });
    }
    verdict.expect(actual_read == expected_read && read(state) == expected_read, [&](std::ostream& out) {
      out << where << ": reads " << show_read(read(state)) << " (stores read " << show_read(actual_read)
          << "), the model reads " << show_read(expected_read) << "; state " << show_crdt(state);
    });
  }

  std::string describe(std::size_t op) const { return descriptions_[op]; }

 private:
  // Mostly small amounts, sometimes zero (an update that changes nothing still counts as present),
  // sometimes large.
  // The counter's value. The amounts below keep every total far inside int64; one outside it would
  // read as INT64_MIN, which no model value equals, so the check fails instead of passing on a wrap.
  static std::int64_t value_of(const Store& store) {
    return crdt::PnCounter::value_of(store).value_or(std::numeric_limits<std::int64_t>::min());
  }

  static std::uint64_t random_amount(Rng& rng) {
    if (rng.chance(1, 10)) return 0;
    if (rng.chance(1, 20)) return rng.below(std::uint64_t{1} << 40);
    return 1 + rng.below(5);
  }

  std::vector<crdt::ReplicaId> ids_;
  std::vector<std::string> keys_;
  std::vector<std::string> descriptions_;
  CounterModel model_;
};

}  // namespace cairn::test
