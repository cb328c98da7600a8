// Shared machinery of the CRDT property tests (tests/crdt/*_property_test.cpp).
//
// A history is 3 to 5 replicas (random ids) issuing random operations. Every delta a mutator returns
// goes through a network that reorders, duplicates, loses and re-sends it, and that also ships
// delta-groups and full states; a last phase delivers everything everywhere. Each operation records
// what its issuer had received when it was issued (its `past`). That is all the reference models need:
// a causal CRDT's meaning is defined by what each operation observed, so the models compute, from the
// pasts alone and without looking at any CRDT internals, what a replica that joined a given set of
// deltas must hold and read.
//
// check_random_history<Workload>() runs one history and checks, once per history (Catch assertions
// are too slow for the inner loops):
//   - every replica equals the join of the deltas it received, re-joined in another order, grouping
//     and with duplicates, and reads the same;
//   - the join of all deltas equals the join of all replicas' full states;
//   - join is commutative, associative and idempotent on states, deltas and delta-groups;
//   - each mutation mints the issuer's next dots, and nothing else;
//   - after full delivery all replicas are equal, read the same, and their context is exactly the
//     dots minted;
//   - every replica state matches the workload's model.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "crdt/causal.h"
#include "crdt/causal_map.h"
#include "crdt/dot.h"
#include "crdt/dot_context.h"
#include "crdt/dot_fun.h"
#include "crdt/dot_map.h"
#include "crdt/dot_set.h"
#include "crdt/hlc.h"
#include "crdt/lattice.h"
#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "src/util/rng.h"
#include "tests/support/property.h"

namespace cairn::test {

// ---------------------------------------------------------------------------------------------------
// Sets of operations.

// A set of operations of one history, by index in issue order. Histories stay under 64 operations so
// that a set is one word and the models' set algebra costs a few instructions.
using OpSet = std::uint64_t;
inline constexpr std::size_t kMaxOps = 64;

constexpr OpSet op_bit(std::size_t op) { return OpSet{1} << op; }
constexpr OpSet ops_below(std::size_t count) { return count >= kMaxOps ? ~OpSet{0} : op_bit(count) - 1; }
constexpr bool has_op(OpSet ops, std::size_t op) { return (ops & op_bit(op)) != 0; }

template <typename Visit>
void for_each_op(OpSet ops, Visit&& visit) {
  while (ops != 0) {
    visit(static_cast<std::size_t>(std::countr_zero(ops)));
    ops &= ops - 1;
  }
}

// A uniformly chosen member of a non-empty set.
inline std::size_t random_op(OpSet ops, Rng& rng) {
  for (auto skip = rng.below(static_cast<std::uint64_t>(std::popcount(ops))); skip > 0; --skip)
    ops &= ops - 1;
  return static_cast<std::size_t>(std::countr_zero(ops));
}

// Each member kept with probability 1/2, but never empty when `ops` is not.
inline OpSet random_subset(OpSet ops, Rng& rng) {
  if (ops == 0) return 0;
  const OpSet subset = ops & rng.next();
  return subset != 0 ? subset : op_bit(random_op(ops, rng));
}

inline std::string show_ops(OpSet ops) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for_each_op(ops, [&](std::size_t op) {
    out << separator << op;
    separator = ",";
  });
  out << "}";
  return out.str();
}

// Fisher-Yates with the project Rng: std::shuffle's draws differ between standard libraries, and a
// printed seed must replay the same history everywhere.
template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

// ---------------------------------------------------------------------------------------------------
// Replica ids and timestamps.

// `count` distinct replica ids in one of three shapes: small ids (so their order against the replica
// index varies), ids at both ends of the range (0 and the maximum, where an off-by-one in a dot
// search would show), or arbitrary 64-bit ids.
inline std::vector<crdt::ReplicaId> random_replica_ids(Rng& rng, std::size_t count) {
  const auto shape = rng.below(3);
  std::set<std::uint64_t> chosen;
  std::vector<crdt::ReplicaId> ids;
  while (ids.size() < count) {
    std::uint64_t id = 0;
    switch (shape) {
      case 0:
        id = rng.below(8);
        break;
      case 1:
        id = rng.chance(1, 2) ? rng.below(3) : UINT64_MAX - rng.below(3);
        break;
      default:
        id = rng.next();
        break;
    }
    if (chosen.insert(id).second) ids.push_back(crdt::ReplicaId{id});
  }
  return ids;
}

// Timestamps for register writes, drawn so that equal timestamps on different replicas are common:
// the tie-break by replica id is what most needs exercising. Per history, either every replica runs a
// HybridClock over coarse, skewed wall clocks (realistic; ties when the clocks agree), or timestamps
// come from a tiny domain with no causal order at all (the register must not rely on one).
class TimestampSource {
 public:
  TimestampSource(Rng& rng, std::size_t replicas) : tiny_domain_(rng.chance(1, 3)) {
    for (std::size_t i = 0; i < replicas; ++i) {
      clocks_.push_back(std::make_unique<ReplicaClock>());
      skews_ms_.push_back(rng.below(3));
    }
  }

  // The timestamp of a write by `replica`, which has seen timestamps up to `seen`.
  crdt::HlcTimestamp next(Rng& rng, std::size_t replica, const crdt::HlcTimestamp& seen) {
    if (tiny_domain_) return crdt::HlcTimestamp{rng.below(3), static_cast<std::uint32_t>(rng.below(2))};
    sim_time_ms_ += rng.below(2);
    ReplicaClock& clock = *clocks_[replica];
    clock.wall.ms = sim_time_ms_ + skews_ms_[replica];
    if (clock.wall.ms > 0 && rng.chance(1, 8)) --clock.wall.ms;  // A wall clock stepping back.
    clock.hlc.observe(seen);
    return clock.hlc.now();
  }

 private:
  class ScriptedWallClock : public crdt::WallClock {
   public:
    std::uint64_t now_ms() override { return ms; }
    std::uint64_t ms = 0;
  };
  struct ReplicaClock {
    ScriptedWallClock wall;
    crdt::HybridClock hlc{wall};
  };

  bool tiny_domain_;
  std::uint64_t sim_time_ms_ = 0;
  std::vector<std::uint64_t> skews_ms_;
  std::vector<std::unique_ptr<ReplicaClock>> clocks_;  // HybridClock borrows its wall clock: no moves.
};

// ---------------------------------------------------------------------------------------------------
// Printing states for failure reports.

inline void print_entry(std::ostream& out, const crdt::LwwEntry& entry) {
  out << '"' << entry.value << "\"@" << entry.timestamp;
}

inline void print_entry(std::ostream& out, const crdt::CounterEntry& entry) {
  if (entry.kind == crdt::CounterEntry::Kind::kReset) {
    out << "reset{of " << entry.contributor << " chain " << entry.chain << " +" << entry.increments << " -"
        << entry.decrements << " observed " << entry.observed << "}";
  } else {
    out << "contribution{" << entry.contributor << " chain " << entry.chain << " +" << entry.increments
        << " -" << entry.decrements << " deleted +" << entry.deleted_increments << " -"
        << entry.deleted_decrements << "}";
  }
}

inline void print_store(std::ostream& out, const crdt::DotSet& store) {
  out << "{";
  const char* separator = "";
  for (const crdt::Dot& dot : store.dots()) {
    out << separator << dot;
    separator = " ";
  }
  out << "}";
}

template <typename V>
void print_store(std::ostream& out, const crdt::DotFun<V>& store) {
  out << "{";
  const char* separator = "";
  for (const auto& [dot, entry] : store.entries()) {
    out << separator << dot << "=";
    print_entry(out, entry);
    separator = " ";
  }
  out << "}";
}

template <typename K, typename S>
void print_store(std::ostream& out, const crdt::DotMap<K, S>& store) {
  out << "{";
  const char* separator = "";
  for (const auto& [key, nested] : store.entries()) {
    out << separator << '"' << key << "\": ";
    print_store(out, nested);
    separator = ", ";
  }
  out << "}";
}

template <typename S>
std::string show(const crdt::Causal<S>& state) {
  std::ostringstream out;
  print_store(out, state.store);
  out << " context " << state.context;
  return out.str();
}

inline void print_read_value(std::ostream& out, const std::string& value) { out << '"' << value << '"'; }
inline void print_read_value(std::ostream& out, const std::set<std::string>& members) {
  out << "{";
  const char* separator = "";
  for (const auto& member : members) {
    out << separator << '"' << member << '"';
    separator = " ";
  }
  out << "}";
}
inline void print_read_value(std::ostream& out, const std::pair<bool, std::int64_t>& counter) {
  out << counter.second << (counter.first ? "" : " (absent)");
}

// What a reader sees, per key (a value type on its own reads as the single key "").
template <typename V>
std::string show_read(const std::map<std::string, V>& read) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for (const auto& [key, value] : read) {
    out << separator << '"' << key << "\": ";
    print_read_value(out, value);
    separator = ", ";
  }
  out << "}";
  return out.str();
}

// ---------------------------------------------------------------------------------------------------
// Collecting failures.

// Gathers every failed expectation of one history, so the history asserts once (Catch assertions in
// the inner loops would dominate the run time). Descriptions are built only on failure.
class Verdict {
 public:
  template <typename Describe>
  void expect(bool holds, Describe&& describe) {
    if (holds) return;
    ok_ = false;
    if (++failures_ <= kMaxReported) {
      why_ << "- ";
      describe(why_);
      why_ << "\n";
    }
  }

  bool ok() const { return ok_; }
  std::string why() const {
    std::ostringstream text;
    text << why_.str();
    if (failures_ > kMaxReported) text << "(" << failures_ - kMaxReported << " more)\n";
    return text.str();
  }

 private:
  static constexpr int kMaxReported = 6;
  bool ok_ = true;
  int failures_ = 0;
  std::ostringstream why_;
};

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

// ---------------------------------------------------------------------------------------------------
// Generic checks.

template <typename T>
std::string show_crdt(const T& crdt) {
  return show(crdt.state());
}

// What a fresh replica holds after receiving `deltas` in a random order, some of them twice.
template <crdt::Lattice T>
T join_in_random_order(const std::vector<T>& deltas, Rng& rng) {
  std::vector<const T*> order;
  for (const T& delta : deltas) {
    order.push_back(&delta);
    if (rng.chance(1, 4)) order.push_back(&delta);
  }
  shuffle(order, rng);
  T result{};
  for (const T* delta : order) result.join(*delta);
  return result;
}

// Commutativity, associativity and idempotence of join on three values; also that a join absorbs
// its operands (it is an upper bound).
template <crdt::Lattice T>
void check_join_laws(const T& a, const T& b, const T& c, Verdict& verdict, std::string_view what) {
  const T ab = crdt::joined(a, b);
  const T bc = crdt::joined(b, c);
  auto operands = [&](std::ostream& out) {
    out << "\n  a: " << show_crdt(a) << "\n  b: " << show_crdt(b) << "\n  c: " << show_crdt(c);
  };
  verdict.expect(ab == crdt::joined(b, a), [&](std::ostream& out) {
    out << "join is not commutative on " << what << ": a+b=" << show_crdt(ab)
        << " b+a=" << show_crdt(crdt::joined(b, a));
    operands(out);
  });
  verdict.expect(crdt::joined(ab, c) == crdt::joined(a, bc), [&](std::ostream& out) {
    out << "join is not associative on " << what << ": (a+b)+c=" << show_crdt(crdt::joined(ab, c))
        << " a+(b+c)=" << show_crdt(crdt::joined(a, bc));
    operands(out);
  });
  verdict.expect(crdt::joined(a, a) == a, [&](std::ostream& out) {
    out << "join is not idempotent on " << what << ": a+a=" << show_crdt(crdt::joined(a, a));
    operands(out);
  });
  verdict.expect(crdt::joined(ab, a) == ab && crdt::joined(ab, b) == ab, [&](std::ostream& out) {
    out << "a+b does not absorb its operands on " << what;
    operands(out);
  });
}

// The context a replica holds once it has joined every dot the history minted: exactly those dots,
// which are contiguous per replica, so all in the version vector and none in the cloud.
inline crdt::DotContext minted_context(const std::vector<crdt::ReplicaId>& ids,
                                       const std::vector<std::uint64_t>& minted) {
  crdt::DotContext context;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    for (std::uint64_t counter = 1; counter <= minted[i]; ++counter)
      context.insert(crdt::Dot{ids[i], counter});
  }
  return context;
}

// A mutation mints the issuer's next dots (as many as it adds entries) and puts them in its delta;
// its delta's store holds those new entries and nothing else.
template <typename T>
void check_minted_dots(const T& delta, crdt::ReplicaId issuer, std::uint64_t& minted, std::size_t op,
                       Verdict& verdict) {
  std::set<crdt::Dot> dots;
  delta.state().store.collect_dots(dots);
  std::uint64_t expected = minted;
  bool ok = true;
  for (const crdt::Dot& dot : dots) {
    ok = ok && dot == crdt::Dot{issuer, ++expected} && delta.state().context.contains(dot);
  }
  verdict.expect(ok, [&](std::ostream& out) {
    out << "op " << op << " by " << issuer << " (which had minted " << minted
        << " dots) returned a delta that does not hold exactly its next dots: " << show_crdt(delta);
  });
  minted += dots.size();
}

// The workload interface check_random_history() drives:
//   using Crdt; using Read (equality-comparable, printable with show_read);
//   Workload(Rng&, const std::vector<ReplicaId>&);
//   Crdt mutate(Rng&, std::size_t replica, Crdt& state, OpSet past)  -- a random operation; returns
//       its delta and records the operation (with the `past` its issuer had received) in the model;
//   Read read(const Crdt&) const;
//   void check_model(const Crdt& state, OpSet received, bool causally_closed, Verdict&,
//                    std::string_view where) const  -- `state` joined exactly the deltas of `received`;
//   std::string describe(std::size_t op) const.
template <typename Workload>
void check_random_history(Rng& rng) {
  using Crdt = typename Workload::Crdt;
  const std::size_t replica_count = 3 + rng.below(3);
  const std::size_t op_count = 5 + rng.below(26);
  const std::vector<crdt::ReplicaId> ids = random_replica_ids(rng, replica_count);
  Workload workload(rng, ids);
  DeltaNetwork<Crdt> network(ids);
  Verdict verdict;
  std::vector<std::uint64_t> minted(replica_count, 0);

  // Operations interleaved with network events.
  while (network.op_count() < op_count) {
    if (rng.chance(2, 5)) {
      const std::size_t issuer = rng.below(replica_count);
      auto& replica = network.replica(issuer);
      Crdt delta = workload.mutate(rng, issuer, replica.state, replica.received);
      check_minted_dots(delta, ids[issuer], minted[issuer], network.op_count(), verdict);
      network.record(rng, issuer, std::move(delta));
    } else {
      network.step(rng);
    }
  }

  // Mid-history: replicas have received arbitrary, usually not causally closed, subsets.
  std::vector<Crdt> mid_states;
  Crdt full_states{};
  OpSet all_received = 0;
  for (std::size_t i = 0; i < replica_count; ++i) {
    const auto& replica = network.replica(i);
    std::ostringstream where_text;
    where_text << "replica " << i << " mid-history";
    const std::string where = where_text.str();
    const Crdt rejoined = network.join_of(replica.received, rng);
    verdict.expect(rejoined == replica.state, [&](std::ostream& out) {
      out << where << " differs from its received deltas " << show_ops(replica.received)
          << " joined in another order:\n  state:    " << show_crdt(replica.state)
          << "\n  rejoined: " << show_crdt(rejoined);
    });
    verdict.expect(workload.read(rejoined) == workload.read(replica.state), [&](std::ostream& out) {
      out << where << " reads " << show_read(workload.read(replica.state))
          << " but the same deltas joined in another order read " << show_read(workload.read(rejoined));
    });
    workload.check_model(replica.state, replica.received,
                         network.causal_closure(replica.received) == replica.received, verdict, where);
    mid_states.push_back(replica.state);
    all_received |= replica.received;
  }
  std::vector<std::size_t> order(replica_count);
  for (std::size_t i = 0; i < replica_count; ++i) order[i] = i;
  shuffle(order, rng);
  for (const std::size_t i : order) full_states.join(mid_states[i]);

  {
    // What one replica would hold under causal delivery: the model must hold there exactly.
    const OpSet closure = network.causal_closure(network.replica(rng.below(replica_count)).received);
    workload.check_model(network.join_of(closure, rng), closure, true, verdict, "a causal closure");
  }

  const Crdt from_deltas = network.join_of(all_received, rng);
  verdict.expect(from_deltas == full_states, [&](std::ostream& out) {
    out << "joining all deltas differs from joining all full states:\n  deltas: " << show_crdt(from_deltas)
        << "\n  states: " << show_crdt(full_states);
  });

  const Crdt group_a = network.join_of(random_subset(network.all_ops(), rng), rng);
  const Crdt group_b = network.join_of(random_subset(network.all_ops(), rng), rng);
  std::vector<const Crdt*> pool = {&group_a, &group_b, &full_states};
  for (const Crdt& state : mid_states) pool.push_back(&state);
  for (std::size_t op = 0; op < network.op_count(); ++op) pool.push_back(&network.delta(op));
  auto pick = [&]() -> const Crdt& { return *pool[rng.below(pool.size())]; };
  for (int sample = 0; sample < 3; ++sample) {
    check_join_laws(pick(), pick(), pick(), verdict, "states, deltas and delta-groups");
  }
  // Deltas among themselves: the delta-groups a replica ships.
  for (int sample = 0; sample < 2; ++sample) {
    auto delta = [&]() -> const Crdt& { return network.delta(rng.below(network.op_count())); };
    check_join_laws(delta(), delta(), delta(), verdict, "deltas");
  }

  // Full delivery: every replica has every delta, in its own order.
  network.deliver_everything(rng);
  const OpSet all = network.all_ops();
  const Crdt& converged = network.replica(0).state;
  for (std::size_t i = 0; i < replica_count; ++i) {
    const auto& replica = network.replica(i);
    verdict.expect(replica.received == all, [&](std::ostream& out) {
      out << "replica " << i << " misses deltas after full delivery: " << show_ops(all & ~replica.received);
    });
    verdict.expect(replica.state == converged, [&](std::ostream& out) {
      out << "replica " << i << " did not converge with replica 0:\n  " << show_crdt(replica.state) << "\n  "
          << show_crdt(converged);
    });
    verdict.expect(workload.read(replica.state) == workload.read(converged), [&](std::ostream& out) {
      out << "replica " << i << " reads " << show_read(workload.read(replica.state)) << ", replica 0 reads "
          << show_read(workload.read(converged));
    });
  }
  verdict.expect(converged == full_states, [&](std::ostream& out) {
    out << "a replica that received every delta differs from the join of the full states:\n  "
        << show_crdt(converged) << "\n  " << show_crdt(full_states);
  });
  const crdt::DotContext expected_context = minted_context(ids, minted);
  verdict.expect(converged.state().context == expected_context, [&](std::ostream& out) {
    out << "after full delivery the context is " << converged.state().context << ", not the minted dots "
        << expected_context;
  });
  workload.check_model(converged, all, true, verdict, "after full delivery");
  check_join_laws(converged, pick(), pick(), verdict, "the converged state");

  std::string report;
  if (!verdict.ok()) {
    std::ostringstream out;
    out << replica_count << " replicas:";
    for (std::size_t i = 0; i < replica_count; ++i) out << " [" << i << "]=" << ids[i];
    out << "\n";
    for (std::size_t op = 0; op < network.op_count(); ++op) {
      out << "op " << op << " by [" << network.issuer(op) << "] having received "
          << show_ops(network.past(op)) << ": " << workload.describe(op) << "\n";
    }
    out << "failures:\n" << verdict.why();
    report = out.str();
  }
  INFO(report);
  REQUIRE(verdict.ok());
}

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
