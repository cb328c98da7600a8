// Property tests of crdt/dot_context.h and crdt/version_vector.h against plain models: a DotContext is
// a set of dots, a VersionVector a map from replica to counter. Joins must be set union and pointwise
// maximum, and obey the lattice laws; and a context must always be in its one compact form (each
// replica's longest contiguous prefix in the vector, only the rest in the cloud), because operator==
// compares representations and every CRDT's equality rests on it.
#include "crdt/dot_context.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crdt/lattice.h"
#include "crdt/version_vector.h"
#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::CausalOrder;
using crdt::Dot;
using crdt::DotContext;
using crdt::ReplicaId;
using crdt::VersionVector;

constexpr std::uint64_t kMaxCounter = 10;

// The replicas a history's dots come from, plus one that never appears in them (lookups of an unknown
// replica must answer "nothing seen"). The id shapes include 0 and the maximum id.
std::vector<ReplicaId> random_universe(Rng& rng) { return random_replica_ids(rng, 2 + rng.below(3)); }

std::string show_dots(const std::set<Dot>& dots) {
  std::ostringstream out;
  out << "{";
  const char* separator = "";
  for (const Dot& dot : dots) {
    out << separator << dot;
    separator = " ";
  }
  out << "}";
  return out.str();
}

// A set of dots shaped like a real context: per replica usually a contiguous prefix (delivered in
// order) plus a few dots beyond it (arrived early); the last replica of the universe never appears.
std::set<Dot> random_dots(Rng& rng, const std::vector<ReplicaId>& universe) {
  std::set<Dot> dots;
  for (std::size_t i = 0; i + 1 < universe.size(); ++i) {
    if (rng.chance(1, 4)) continue;
    const auto prefix = rng.below(6);
    for (std::uint64_t counter = 1; counter <= prefix; ++counter) dots.insert(Dot{universe[i], counter});
    for (auto extra = rng.below(4); extra > 0; --extra)
      dots.insert(Dot{universe[i], 1 + rng.below(kMaxCounter)});
  }
  return dots;
}

// A context holding exactly `dots`, built in one of the ways contexts arise: dots inserted one by one
// in any order (some twice), single-dot contexts joined in, or two overlapping parts built
// independently and joined.
DotContext build_context(const std::set<Dot>& dots, Rng& rng, int depth = 0) {
  std::vector<Dot> order(dots.begin(), dots.end());
  shuffle(order, rng);
  DotContext context;
  switch (rng.below(depth < 2 ? 3 : 2)) {
    case 0:
      for (const Dot& dot : order) {
        context.insert(dot);
        if (rng.chance(1, 5)) context.insert(dot);
      }
      context.insert(Dot{order.empty() ? ReplicaId{} : order.front().replica, 0});  // Names no event.
      break;
    case 1:
      for (const Dot& dot : order) {
        DotContext single;
        single.insert(dot);
        context.join(single);
      }
      break;
    default: {
      std::set<Dot> left, right;
      for (const Dot& dot : order) {
        const auto side = rng.below(3);  // Left, right, or both.
        if (side != 1) left.insert(dot);
        if (side != 0) right.insert(dot);
      }
      context = build_context(left, rng, depth + 1);
      context.join(build_context(right, rng, depth + 1));
      break;
    }
  }
  return context;
}

// Checks `context` against the set of dots it must hold: membership, the next dot of each replica,
// and the compact form.
void check_context(const DotContext& context, const std::set<Dot>& dots,
                   const std::vector<ReplicaId>& universe, Verdict& verdict, const std::string& what) {
  VersionVector::Entries expected_vector;
  std::set<Dot> expected_cloud;
  for (const Dot& dot : dots) {
    auto& prefix = expected_vector[dot.replica];
    if (dot.counter == prefix + 1) {
      prefix = dot.counter;
    } else {
      expected_cloud.insert(dot);
    }
  }
  std::erase_if(expected_vector, [](const auto& entry) { return entry.second == 0; });
  auto describe = [&](std::ostream& out) {
    out << what << " " << context << " should hold " << show_dots(dots);
  };
  verdict.expect(context.vector().entries() == expected_vector && context.cloud() == expected_cloud,
                 [&](std::ostream& out) {
                   describe(out);
                   out << ", so its compact form is vector " <<
                       [&] {
                         VersionVector vector;
                         for (const auto& [replica, counter] : expected_vector)
                           vector.raise(replica, counter);
                         std::ostringstream text;
                         text << vector;
                         return text.str();
                       }()
                       << " + cloud " << show_dots(expected_cloud);
                 });
  verdict.expect(context.empty() == dots.empty(), [&](std::ostream& out) {
    describe(out);
    out << "; empty() says " << context.empty();
  });
  for (const ReplicaId replica : universe) {
    std::uint64_t highest = 0;
    for (std::uint64_t counter = 0; counter <= kMaxCounter + 1; ++counter) {
      const Dot dot{replica, counter};
      if (dots.contains(dot)) highest = counter;
      verdict.expect(context.contains(dot) == dots.contains(dot), [&](std::ostream& out) {
        describe(out);
        out << "; contains" << dot << " says " << context.contains(dot);
      });
    }
    const Dot next = context.next_dot(replica);
    verdict.expect(next == Dot{replica, highest + 1}, [&](std::ostream& out) {
      describe(out);
      out << "; next_dot(" << replica << ") is " << next << ", not " << Dot{replica, highest + 1};
    });
  }
  DotContext compacted = context;
  compacted.compact();
  verdict.expect(compacted == context, [&](std::ostream& out) {
    describe(out);
    out << "; compact() changed it to " << compacted;
  });
}

void report(const Verdict& verdict, const std::vector<ReplicaId>& universe) {
  std::string text;
  if (!verdict.ok()) {
    std::ostringstream out;
    out << "replicas:";
    for (const ReplicaId replica : universe) out << " " << replica;
    out << "\nfailures:\n" << verdict.why();
    text = out.str();
  }
  INFO(text);
  REQUIRE(verdict.ok());
}

TEST_CASE("dot context: however it is built a context holds exactly its dots in compact form") {
  for_each_history("dot context compact form", 10000, [](Rng& rng) {
    const auto universe = random_universe(rng);
    const std::set<Dot> dots = random_dots(rng, universe);
    Verdict verdict;
    const DotContext one_way = build_context(dots, rng);
    const DotContext another_way = build_context(dots, rng);
    check_context(one_way, dots, universe, verdict, "context");
    verdict.expect(one_way == another_way, [&](std::ostream& out) {
      out << "the same dots built two ways compare unequal: " << one_way << " and " << another_way;
    });
    report(verdict, universe);
  });
}

TEST_CASE("dot context: join is set union and obeys the lattice laws") {
  for_each_history("dot context join", 10000, [](Rng& rng) {
    const auto universe = random_universe(rng);
    const std::set<Dot> a_dots = random_dots(rng, universe), b_dots = random_dots(rng, universe),
                        c_dots = random_dots(rng, universe);
    const DotContext a = build_context(a_dots, rng), b = build_context(b_dots, rng),
                     c = build_context(c_dots, rng);
    Verdict verdict;

    std::set<Dot> union_dots = a_dots;
    union_dots.insert(b_dots.begin(), b_dots.end());
    check_context(crdt::joined(a, b), union_dots, universe, verdict, "a+b");

    const DotContext ab = crdt::joined(a, b);
    verdict.expect(ab == crdt::joined(b, a), [&](std::ostream& out) {
      out << "not commutative: a=" << a << " b=" << b << " a+b=" << ab << " b+a=" << crdt::joined(b, a);
    });
    const DotContext ab_c = crdt::joined(ab, c), a_bc = crdt::joined(a, crdt::joined(b, c));
    verdict.expect(ab_c == a_bc, [&](std::ostream& out) {
      out << "not associative: a=" << a << " b=" << b << " c=" << c << " (a+b)+c=" << ab_c
          << " a+(b+c)=" << a_bc;
    });
    verdict.expect(crdt::joined(a, a) == a && crdt::joined(a, DotContext{}) == a, [&](std::ostream& out) {
      out << "a+a or a+{} is not a: a=" << a << " a+a=" << crdt::joined(a, a);
    });
    // Inserting the other side's dots one by one reaches the same context as joining it.
    DotContext inserted = a;
    for (const Dot& dot : b_dots) inserted.insert(dot);
    verdict.expect(inserted == ab, [&](std::ostream& out) {
      out << "inserting b's dots into a gives " << inserted << ", joining b gives " << ab;
    });
    report(verdict, universe);
  });
}

// A random version vector over `universe` (entries raised in random order, some more than once,
// sometimes through joins), and the plain map it must equal.
VersionVector random_vector(Rng& rng, const std::vector<ReplicaId>& universe, VersionVector::Entries& model) {
  model.clear();
  VersionVector vector;
  for (const ReplicaId replica : universe) {
    const auto counter = rng.below(5);  // 0: never raised, or raised to 0, which must add no entry.
    if (counter > 0) model[replica] = counter;
    if (counter == 0 && rng.chance(1, 2)) continue;
    if (rng.chance(1, 3)) {
      VersionVector single;
      single.raise(replica, counter);
      vector.join(single);
    } else {
      vector.raise(replica, counter);
    }
    if (counter > 0 && rng.chance(1, 4)) vector.raise(replica, rng.below(counter + 1));  // Never lowers.
  }
  return vector;
}

CausalOrder expected_order(const VersionVector::Entries& a, const VersionVector::Entries& b,
                           const std::vector<ReplicaId>& universe) {
  bool some_less = false, some_greater = false;
  for (const ReplicaId replica : universe) {
    const std::uint64_t mine = a.contains(replica) ? a.at(replica) : 0;
    const std::uint64_t theirs = b.contains(replica) ? b.at(replica) : 0;
    some_less = some_less || mine < theirs;
    some_greater = some_greater || mine > theirs;
  }
  if (some_less && some_greater) return CausalOrder::kConcurrent;
  if (some_less) return CausalOrder::kBefore;
  if (some_greater) return CausalOrder::kAfter;
  return CausalOrder::kEqual;
}

CausalOrder mirrored(CausalOrder order) {
  if (order == CausalOrder::kBefore) return CausalOrder::kAfter;
  if (order == CausalOrder::kAfter) return CausalOrder::kBefore;
  return order;
}

TEST_CASE("version vector: join is the pointwise maximum and compare the pointwise order") {
  for_each_history("version vector", 10000, [](Rng& rng) {
    const auto universe = random_universe(rng);
    VersionVector::Entries a_model, b_model, c_model;
    const VersionVector a = random_vector(rng, universe, a_model);
    const VersionVector b = random_vector(rng, universe, b_model);
    const VersionVector c = random_vector(rng, universe, c_model);
    Verdict verdict;
    auto operands = [&](std::ostream& out) { out << " (a=" << a << " b=" << b << " c=" << c << ")"; };

    verdict.expect(a.entries() == a_model && a.size() == a_model.size() && a.empty() == a_model.empty(),
                   [&](std::ostream& out) {
                     out << "a built from raises is not its model";
                     operands(out);
                   });
    for (const ReplicaId replica : universe) {
      const std::uint64_t expected = a_model.contains(replica) ? a_model.at(replica) : 0;
      bool contains_ok = a.get(replica) == expected && !a.contains(Dot{replica, 0});
      for (std::uint64_t counter = 1; counter <= 5; ++counter) {
        contains_ok = contains_ok && a.contains(Dot{replica, counter}) == (counter <= expected);
      }
      verdict.expect(contains_ok, [&](std::ostream& out) {
        out << "get/contains of " << replica << " disagree with the counter " << expected;
        operands(out);
      });
    }

    VersionVector::Entries max_model = a_model;
    for (const auto& [replica, counter] : b_model) max_model[replica] = std::max(max_model[replica], counter);
    const VersionVector ab = crdt::joined(a, b);
    verdict.expect(ab.entries() == max_model, [&](std::ostream& out) {
      out << "a+b=" << ab << " is not the pointwise maximum";
      operands(out);
    });
    verdict.expect(ab == crdt::joined(b, a) && crdt::joined(ab, c) == crdt::joined(a, crdt::joined(b, c)) &&
                       crdt::joined(a, a) == a,
                   [&](std::ostream& out) {
                     out << "join is not commutative, associative and idempotent";
                     operands(out);
                   });

    const CausalOrder order = a.compare(b);
    verdict.expect(order == expected_order(a_model, b_model, universe) && b.compare(a) == mirrored(order) &&
                       (order == CausalOrder::kEqual) == (a == b) && a.compare(a) == CausalOrder::kEqual,
                   [&](std::ostream& out) {
                     out << "a.compare(b) is " << static_cast<int>(order) << ", b.compare(a) "
                         << static_cast<int>(b.compare(a)) << ", expected "
                         << static_cast<int>(expected_order(a_model, b_model, universe));
                     operands(out);
                   });
    const bool a_dominates_b = order == CausalOrder::kAfter || order == CausalOrder::kEqual;
    verdict.expect(a.dominates(b) == a_dominates_b && ab.dominates(a) && ab.dominates(b),
                   [&](std::ostream& out) {
                     out << "dominates() disagrees with compare(), or a+b does not dominate a and b";
                     operands(out);
                   });
    // The join is the LEAST upper bound: whatever dominates a and b dominates a+b. c raised above both
    // is such an upper bound.
    const VersionVector upper = crdt::joined(c, ab);
    verdict.expect(upper.dominates(ab) && (!c.dominates(a) || !c.dominates(b) || c.dominates(ab)),
                   [&](std::ostream& out) {
                     out << "an upper bound of a and b does not dominate a+b";
                     operands(out);
                   });
    report(verdict, universe);
  });
}

}  // namespace
}  // namespace cairn::test
