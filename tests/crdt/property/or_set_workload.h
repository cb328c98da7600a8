// The OR-set workload of the property tests. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/hosts.h"

namespace cairn::test {

// OR-set adds, removes and clears. Model: a member's surviving dots are its adds that no later add or
// remove of that member, and no clear of its set, observed.
template <typename Host>
class OrSetWorkload {
 public:
  using Crdt = typename Host::Crdt;
  using Store = crdt::OrSet::Store;
  using Read = std::map<std::string, std::set<std::string>>;  // Key -> members.

  OrSetWorkload(Rng& rng, const std::vector<crdt::ReplicaId>& ids)
      : ids_(ids), keys_(random_keys(rng, Host::kKeyed)), members_({"x", "y", "", "z"}) {
    members_.resize(1 + rng.below(members_.size()));
  }

  Crdt mutate(Rng& rng, std::size_t replica, Crdt& state, OpSet past) {
    const auto roll = rng.below(10);
    Op op{roll < 5   ? Kind::kAdd
          : roll < 9 ? Kind::kRemove
                     : Kind::kClear,
          pick_from(keys_, rng), pick_from(members_, rng)};
    const crdt::ReplicaId id = ids_[replica];
    Crdt delta;
    if constexpr (Host::kKeyed) {
      if (op.kind == Kind::kClear) {
        delta = state.erase(op.key, id);
      } else {
        delta = state.update(op.key, [&](const Store& current, const crdt::DotContext& context) {
          return op.kind == Kind::kAdd ? crdt::OrSet::add_delta(current, context, id, op.member)
                                       : crdt::OrSet::remove_delta(current, context, id, op.member);
        });
      }
    } else {
      delta = op.kind == Kind::kAdd      ? state.add(id, op.member)
              : op.kind == Kind::kRemove ? state.remove(id, op.member)
                                         : state.clear(id);
    }
    OpSet covers = 0;
    for (std::size_t earlier = 0; earlier < ops_.size(); ++earlier) {
      const Op& other = ops_[earlier];
      if (other.kind == Kind::kAdd && other.key == op.key &&
          (op.kind == Kind::kClear || other.member == op.member))
        covers |= op_bit(earlier);
    }
    model_.add(op.kind == Kind::kAdd ? std::optional(only_dot(delta)) : std::nullopt, covers, past);
    ops_.push_back(std::move(op));
    return delta;
  }

  Read read(const Crdt& state) const {
    Read result;
    if constexpr (Host::kKeyed) {
      for (const std::string& key : state.value()) {
        // value() and find() must agree on which keys are present; a marker member shows when not.
        const Store* store = state.find(key);
        const auto members =
            store != nullptr ? crdt::OrSet::members(*store) : std::vector<std::string>{"<find() is null>"};
        result[key] = std::set<std::string>(members.begin(), members.end());
      }
    } else if (!state.value().empty()) {
      result[""] = state.value();
    }
    return result;
  }

  void check_model(const Crdt& state, OpSet received, bool causally_closed, Verdict& verdict,
                   std::string_view where) const {
    const OpSet live = model_.live_in(received);
    check_causal_formulation(model_, received, causally_closed, live, verdict, where);
    std::map<std::string, std::map<std::string, std::set<crdt::Dot>>> dots;
    Read expected_read;
    for_each_op(live, [&](std::size_t op) {
      dots[ops_[op].key][ops_[op].member].insert(model_.dot(op));
      expected_read[ops_[op].key].insert(ops_[op].member);
    });
    std::map<std::string, Store> expected;
    for (const auto& [key, members] : dots) {
      Store::Entries entries;
      for (const auto& [member, member_dots] : members) entries.emplace(member, crdt::DotSet(member_dots));
      expected.emplace(key, Store(std::move(entries)));
    }

    verdict.expect(Host::store_is(state, expected), [&](std::ostream& out) {
      out << where << ": the set is " << show_crdt(state) << " but the model keeps the adds "
          << show_ops(live);
    });
    verdict.expect(read(state) == expected_read, [&](std::ostream& out) {
      out << where << ": reads " << show_read(read(state)) << ", the model reads "
          << show_read(expected_read);
    });
    const crdt::DotContext expected_context = model_.context_of(received);
    verdict.expect(state.state().context == expected_context, [&](std::ostream& out) {
      out << where << ": context " << state.state().context << ", the model's " << expected_context;
    });
    check_found_keys<Host>(state, keys_, expected, verdict, where);
  }

  std::string describe(std::size_t op) const {
    const Op& o = ops_[op];
    std::ostringstream out;
    switch (o.kind) {
      case Kind::kAdd:
        out << "add \"" << o.member << "\" as " << model_.dot(op);
        break;
      case Kind::kRemove:
        out << "remove \"" << o.member << "\"";
        break;
      case Kind::kClear:
        out << "clear";
        break;
    }
    if (Host::kKeyed) out << " key \"" << o.key << "\"";
    out << "; observed " << show_ops(model_.observed(op));
    return out.str();
  }

 private:
  enum class Kind { kAdd, kRemove, kClear };
  struct Op {
    Kind kind;
    std::string key;
    std::string member;
  };

  std::vector<crdt::ReplicaId> ids_;
  std::vector<std::string> keys_;
  std::vector<std::string> members_;
  std::vector<Op> ops_;
  ObservedRemoveModel model_;
};

}  // namespace cairn::test
