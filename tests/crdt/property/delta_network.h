// The unreliable network between the replicas of one history. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/printing.h"
#include "tests/crdt/property/verdict.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// The network.

// Replicas of one CRDT and the deltas their operations produced, connected by an unreliable network.
template <crdt::Lattice T>
class DeltaNetwork {
 public:
  struct Replica {
    crdt::ReplicaId id;
    T state;
    OpSet received = 0;  // Every delta joined into `state`, its own included.
  };

  explicit DeltaNetwork(const std::vector<crdt::ReplicaId>& ids) {
    for (const crdt::ReplicaId id : ids) replicas_.push_back(Replica{id, T{}, 0});
  }

  std::size_t replica_count() const { return replicas_.size(); }
  Replica& replica(std::size_t index) { return replicas_[index]; }
  const Replica& replica(std::size_t index) const { return replicas_[index]; }
  std::size_t op_count() const { return deltas_.size(); }
  OpSet all_ops() const { return ops_below(deltas_.size()); }
  const T& delta(std::size_t op) const { return deltas_[op]; }
  OpSet past(std::size_t op) const { return pasts_[op]; }
  std::size_t issuer(std::size_t op) const { return issuers_[op]; }

  // Records that replica `from` issued an operation whose delta is `delta` (already joined into its
  // state by the mutator) and sends the delta to most peers.
  void record(Rng& rng, std::size_t from, T delta) {
    if (deltas_.size() >= kMaxOps) throw std::logic_error("a history is limited to 64 operations");
    const std::size_t op = deltas_.size();
    pasts_.push_back(replicas_[from].received);
    issuers_.push_back(from);
    replicas_[from].received |= op_bit(op);
    for (std::size_t to = 0; to < replicas_.size(); ++to) {
      if (to != from && rng.chance(4, 5)) in_flight_.push_back(Message{to, op_bit(op), delta});
    }
    deltas_.push_back(std::move(delta));
  }

  // One random network event: a message arrives (possibly again later), is lost, or a replica
  // (re)sends something it holds: one delta, a delta-group, or its full state.
  void step(Rng& rng) {
    const auto roll = rng.below(100);
    if (!in_flight_.empty() && roll < 70) {
      const std::size_t pick = rng.below(in_flight_.size());
      if (roll < 60) deliver(in_flight_[pick]);
      if (roll < 50 || roll >= 60) drop(pick);  // Delivered once, or lost; 50..59 stays in flight.
      return;
    }
    const std::size_t from = rng.below(replicas_.size());
    std::size_t to = rng.below(replicas_.size() - 1);
    if (to >= from) ++to;
    const OpSet known = replicas_[from].received;
    if (known == 0) return;
    switch (rng.below(3)) {
      case 0: {
        const std::size_t op = random_op(known, rng);
        in_flight_.push_back(Message{to, op_bit(op), deltas_[op]});
        break;
      }
      case 1: {
        const OpSet group = random_subset(known, rng);
        in_flight_.push_back(Message{to, group, join_of(group, rng)});
        break;
      }
      default:
        in_flight_.push_back(Message{to, known, replicas_[from].state});
        break;
    }
  }

  // Delivers every delta to every replica, in random order, some as delta-groups, some again, with
  // stale messages still in flight arriving in between.
  void deliver_everything(Rng& rng) {
    std::vector<std::pair<std::size_t, std::size_t>> deliveries;  // (replica, op)
    for (std::size_t to = 0; to < replicas_.size(); ++to) {
      for (std::size_t op = 0; op < deltas_.size(); ++op) {
        if (!has_op(replicas_[to].received, op) || rng.chance(1, 8)) deliveries.emplace_back(to, op);
      }
    }
    shuffle(deliveries, rng);
    for (const auto& [to, op] : deliveries) {
      if (!in_flight_.empty() && rng.chance(1, 4)) {
        const std::size_t pick = rng.below(in_flight_.size());
        deliver(in_flight_[pick]);
        drop(pick);
      }
      if (rng.chance(1, 5)) {
        const OpSet group = op_bit(op) | random_subset(all_ops(), rng);
        deliver(Message{to, group, join_of(group, rng)});
      } else {
        deliver(Message{to, op_bit(op), deltas_[op]});
      }
    }
    for (const Message& message : in_flight_) {
      if (rng.chance(1, 2)) deliver(message);
    }
    in_flight_.clear();
  }

  // The join of the deltas of `ops`, in a random order, with random duplicates, and sometimes
  // grouped first, so that equal results exercise commutativity, idempotence and associativity.
  T join_of(OpSet ops, Rng& rng) const {
    std::vector<std::size_t> order;
    for_each_op(ops, [&](std::size_t op) {
      order.push_back(op);
      if (rng.chance(1, 4)) order.push_back(op);
    });
    shuffle(order, rng);
    T result{};
    if (rng.chance(1, 2)) {
      for (const std::size_t op : order) result.join(deltas_[op]);
      return result;
    }
    T group{};
    for (const std::size_t op : order) {
      group.join(deltas_[op]);
      if (rng.chance(1, 3)) {
        result.join(group);
        group = T{};
      }
    }
    result.join(group);
    return result;
  }

  // The smallest superset of `ops` that contains the past of each of its operations: what a replica
  // would have received under causal delivery.
  OpSet causal_closure(OpSet ops) const {
    for (std::size_t op = deltas_.size(); op-- > 0;) {
      if (has_op(ops, op)) ops |= pasts_[op];  // Pasts name only earlier operations.
    }
    return ops;
  }

 private:
  struct Message {
    std::size_t to;
    OpSet ops;  // The deltas the payload joins.
    T payload;
  };

  void deliver(const Message& message) {
    replicas_[message.to].state.join(message.payload);
    replicas_[message.to].received |= message.ops;
  }

  // Removes an in-flight message; the order of the others does not matter.
  void drop(std::size_t index) {
    if (index + 1 != in_flight_.size()) in_flight_[index] = std::move(in_flight_.back());
    in_flight_.pop_back();
  }

  std::vector<Replica> replicas_;
  std::vector<T> deltas_;
  std::vector<OpSet> pasts_;
  std::vector<std::size_t> issuers_;
  std::vector<Message> in_flight_;
};

}  // namespace cairn::test
