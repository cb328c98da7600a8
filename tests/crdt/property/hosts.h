// Workload hosts (a value type on its own, or under the keys of a CausalMap) and the helpers the
// workloads share. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/checkers.h"
#include "tests/crdt/property/models.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Workloads: random operations on each value type, either on its own or under the keys of a
// CausalMap (where every value shares the map's one causal context).

template <typename Value>
struct OnItsOwn {
  using Crdt = Value;
  using Store = typename Value::Store;
  static constexpr bool kKeyed = false;

  static const Store* find(const Crdt& crdt, const std::string& /*key*/) { return &crdt.state().store; }
  // `expected` maps keys to non-empty stores; a value on its own has the one key "".
  static bool store_is(const Crdt& crdt, const std::map<std::string, Store>& expected) {
    auto it = expected.find("");
    return crdt.state().store == (it == expected.end() ? Store{} : it->second);
  }
};

template <typename Value>
struct InCausalMap {
  using Crdt = crdt::CausalMap<std::string, Value>;
  using Store = typename Value::Store;
  static constexpr bool kKeyed = true;

  static const Store* find(const Crdt& crdt, const std::string& key) { return crdt.state().store.find(key); }
  static bool store_is(const Crdt& crdt, const std::map<std::string, Store>& expected) {
    return crdt.state().store == crdt::DotMap<std::string, Store>(expected);
  }
};

// A few keys (or the single key "" of a value on its own); "" is also a legal map key.
inline std::vector<std::string> random_keys(Rng& rng, bool keyed) {
  if (!keyed) return {""};
  std::vector<std::string> keys = {"a", "b", ""};
  keys.resize(1 + rng.below(3));
  return keys;
}

template <typename T>
const T& pick_from(const std::vector<T>& items, Rng& rng) {
  return items[rng.below(items.size())];
}

// The single dot a delta adds, or a null dot when it adds none or several (check_minted_dots()
// reports that).
template <typename T>
crdt::Dot only_dot(const T& delta) {
  std::set<crdt::Dot> dots;
  delta.state().store.collect_dots(dots);
  return dots.size() == 1 ? *dots.begin() : crdt::Dot{};
}

// Where the causal-past formulation applies, it must agree with the observed-remove model.
inline void check_causal_formulation(const ObservedRemoveModel& model, OpSet received, bool causally_closed,
                                     OpSet live, Verdict& verdict, std::string_view where) {
  if (!causally_closed) return;
  verdict.expect(model.causally_live_in(received) == live, [&](std::ostream& out) {
    out << where << ": the model is inconsistent: observed-remove keeps " << show_ops(live)
        << ", causal pasts keep " << show_ops(model.causally_live_in(received));
  });
}

// A map's find() must return a key's value exactly when the model has something under the key.
template <typename Host, typename Expected>
void check_found_keys(const typename Host::Crdt& state, const std::vector<std::string>& keys,
                      const Expected& expected, Verdict& verdict, std::string_view where) {
  if constexpr (Host::kKeyed) {
    for (const std::string& key : keys) {
      verdict.expect((state.find(key) != nullptr) == expected.contains(key), [&](std::ostream& out) {
        out << where << ": find(\"" << key << "\") disagrees with the model";
      });
    }
  }
}

}  // namespace cairn::test
