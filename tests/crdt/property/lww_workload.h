// The LWW-register workload of the property tests. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/hosts.h"

namespace cairn::test {

// LWW-register writes and clears. Model: the surviving entries are the writes no later write or
// clear of the same key observed; the read value is the entry with the largest (HLC, replica id).
template <typename Host>
class LwwWorkload {
 public:
  using Crdt = typename Host::Crdt;
  using Store = crdt::LwwRegister::Store;
  using Read = std::map<std::string, std::string>;  // Key -> winning value.

  LwwWorkload(Rng& rng, const std::vector<crdt::ReplicaId>& ids)
      : ids_(ids), keys_(random_keys(rng, Host::kKeyed)), timestamps_(rng, ids.size()) {}

  Crdt mutate(Rng& rng, std::size_t replica, Crdt& state, OpSet past) {
    Op op{replica, pick_from(keys_, rng), !rng.chance(1, 5), {}};
    const crdt::ReplicaId id = ids_[replica];
    Crdt delta;
    if (!op.write) {
      if constexpr (Host::kKeyed) {
        delta = state.erase(op.key, id);
      } else {
        delta = state.clear(id);
      }
    } else {
      static const std::vector<std::string> kValues = {"", "x", "y", "w"};
      // Repeated values, so that equal values written as different dots stay distinct entries.
      op.entry.value = pick_from(kValues, rng);
      if (rng.chance(1, 2)) op.entry.value.append(std::to_string(ops_.size()));
      op.entry.timestamp = timestamps_.next(rng, replica, newest_timestamp(state));
      if constexpr (Host::kKeyed) {
        delta = state.update(op.key, [&](const Store& current, const crdt::DotContext& context) {
          return crdt::LwwRegister::write_delta(current, context, id, op.entry.value, op.entry.timestamp);
        });
      } else {
        delta = state.write(id, op.entry.value, op.entry.timestamp);
      }
    }
    OpSet covers = 0;
    for (std::size_t earlier = 0; earlier < ops_.size(); ++earlier) {
      if (ops_[earlier].write && ops_[earlier].key == op.key) covers |= op_bit(earlier);
    }
    model_.add(op.write ? std::optional(only_dot(delta)) : std::nullopt, covers, past);
    ops_.push_back(std::move(op));
    return delta;
  }

  Read read(const Crdt& state) const {
    Read result;
    if constexpr (Host::kKeyed) {
      for (const std::string& key : state.value()) {
        // value() and find() must agree on which keys are present; a marker value shows when not.
        const Store* store = state.find(key);
        const auto winner = store != nullptr ? crdt::LwwRegister::winner(*store) : std::nullopt;
        result[key] = winner ? winner->entry->value : "<listed by value() but find() has no winner>";
      }
    } else if (auto value = state.value()) {
      result[""] = *value;
    }
    return result;
  }

  void check_model(const Crdt& state, OpSet received, bool causally_closed, Verdict& verdict,
                   std::string_view where) const {
    const OpSet live = model_.live_in(received);
    check_causal_formulation(model_, received, causally_closed, live, verdict, where);
    std::map<std::string, Store> expected;
    std::map<std::string, std::size_t> newest;  // Key -> the live write that must win.
    for_each_op(live, [&](std::size_t op) {
      const Op& write = ops_[op];
      expected[write.key].insert(model_.dot(op), write.entry);
      auto [it, first] = newest.try_emplace(write.key, op);
      if (!first && order_key(op) > order_key(it->second)) it->second = op;
    });
    Read expected_read;
    for (const auto& [key, op] : newest) expected_read[key] = ops_[op].entry.value;

    verdict.expect(Host::store_is(state, expected), [&](std::ostream& out) {
      out << where << ": the entries are " << show_crdt(state) << " but the model keeps the writes "
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
    for (const std::string& key : keys_) {
      const Store* store = Host::find(state, key);
      if (store == nullptr) continue;
      const auto versions = crdt::LwwRegister::versions(*store);
      bool sorted = versions.size() == store->size();
      for (std::size_t i = 1; i < versions.size(); ++i) {
        const auto& newer = versions[i - 1];
        const auto& older = versions[i];
        sorted = sorted && std::tuple(newer.entry->timestamp, newer.dot.replica, newer.dot.counter) >
                               std::tuple(older.entry->timestamp, older.dot.replica, older.dot.counter);
      }
      verdict.expect(sorted, [&](std::ostream& out) {
        out << where << ": versions() of key \"" << key << "\" are not every entry, newest first";
      });
    }
  }

  std::string describe(std::size_t op) const {
    const Op& o = ops_[op];
    std::ostringstream out;
    if (o.write) {
      out << "write \"" << o.entry.value << "\"@" << o.entry.timestamp << " as " << model_.dot(op);
    } else {
      out << "clear";
    }
    if (Host::kKeyed) out << " key \"" << o.key << "\"";
    out << "; observed " << show_ops(model_.observed(op));
    return out.str();
  }

 private:
  struct Op {
    std::size_t replica;
    std::string key;
    bool write;
    crdt::LwwEntry entry;
  };

  // The order concurrent writes are resolved in: timestamp, then the writer's replica id, then (for
  // two writes of one replica that both survive in a replica that has not yet received the clear
  // that removed the first) the dot's counter.
  std::tuple<crdt::HlcTimestamp, std::uint64_t, std::uint64_t> order_key(std::size_t op) const {
    return {ops_[op].entry.timestamp, ids_[ops_[op].replica].value, model_.dot(op).counter};
  }

  static crdt::HlcTimestamp newest_timestamp(const Crdt& state) {
    crdt::HlcTimestamp newest;
    auto visit = [&](const Store& store) {
      for (const auto& entry : store.entries()) newest = std::max(newest, entry.second.timestamp);
    };
    if constexpr (Host::kKeyed) {
      for (const auto& entry : state.state().store.entries()) visit(entry.second);
    } else {
      visit(state.state().store);
    }
    return newest;
  }

  std::vector<crdt::ReplicaId> ids_;
  std::vector<std::string> keys_;
  TimestampSource timestamps_;
  std::vector<Op> ops_;
  ObservedRemoveModel model_;
};

}  // namespace cairn::test
