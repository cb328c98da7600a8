// Generic checks (join laws, minted dots) and check_random_history(), which runs one history. Part of the CRDT property tests' machinery
// (tests/crdt/property_support.h says what a history checks).
#pragma once

#include "tests/crdt/property/delta_network.h"

namespace cairn::test {

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

}  // namespace cairn::test
