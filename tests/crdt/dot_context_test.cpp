#include "crdt/dot_context.h"

#include <catch2/catch.hpp>

#include <set>

namespace cairn::crdt {
namespace {

constexpr ReplicaId kA{1};
constexpr ReplicaId kB{2};
constexpr ReplicaId kC{3};

TEST_CASE("dot context: in-order dots extend the version vector and leave the cloud empty") {
  DotContext context;
  CHECK(context.empty());
  for (std::uint64_t n = 1; n <= 3; ++n) context.insert(Dot{kA, n});
  CHECK(context.vector().get(kA) == 3);
  CHECK(context.cloud().empty());
  CHECK(context.contains(Dot{kA, 2}));
  CHECK_FALSE(context.contains(Dot{kA, 4}));
}

TEST_CASE("dot context: a dot that arrives out of order goes to the cloud") {
  DotContext context;
  context.insert(Dot{kA, 1});
  context.insert(Dot{kA, 3});
  context.insert(Dot{kB, 2});
  CHECK(context.vector().get(kA) == 1);
  CHECK(context.vector().get(kB) == 0);
  CHECK(context.cloud() == std::set<Dot>{{kA, 3}, {kB, 2}});
  CHECK(context.contains(Dot{kA, 3}));
  CHECK(context.contains(Dot{kB, 2}));
  CHECK_FALSE(context.contains(Dot{kA, 2}));
  CHECK_FALSE(context.contains(Dot{kB, 1}));
}

TEST_CASE("dot context: filling a gap compacts the cloud into the version vector") {
  DotContext context;
  context.insert(Dot{kA, 4});
  context.insert(Dot{kA, 2});
  context.insert(Dot{kA, 3});
  context.insert(Dot{kA, 6});
  CHECK(context.vector().get(kA) == 0);
  CHECK(context.cloud().size() == 4);

  context.insert(Dot{kA, 1});  // Fills the first gap: 1..4 fold in, 6 still waits for 5.
  CHECK(context.vector().get(kA) == 4);
  CHECK(context.cloud() == std::set<Dot>{{kA, 6}});

  context.insert(Dot{kA, 5});
  CHECK(context.vector().get(kA) == 6);
  CHECK(context.cloud().empty());
}

TEST_CASE("dot context: the representation does not depend on insertion order") {
  DotContext forward, backward;
  for (std::uint64_t n = 1; n <= 5; ++n) {
    forward.insert(Dot{kA, n});
    forward.insert(Dot{kB, n});
  }
  for (std::uint64_t n = 5; n >= 1; --n) {
    backward.insert(Dot{kB, n});
    backward.insert(Dot{kA, n});
  }
  CHECK(forward == backward);
  CHECK(backward.cloud().empty());
}

TEST_CASE("dot context: inserting a dot already seen or the zero dot changes nothing") {
  DotContext context;
  context.insert(Dot{kA, 1});
  context.insert(Dot{kA, 3});
  const DotContext before = context;
  context.insert(Dot{kA, 1});
  context.insert(Dot{kA, 3});
  context.insert(Dot{kA, 0});
  CHECK(context == before);
}

TEST_CASE("dot context: join is the union of the dots, and fills gaps across the two sides") {
  DotContext left, right;
  left.insert(Dot{kA, 1});
  left.insert(Dot{kA, 3});  // cloud: waits for (A,2)
  left.insert(Dot{kC, 2});  // cloud: waits for (C,1)
  right.insert(Dot{kA, 1});
  right.insert(Dot{kA, 2});
  right.insert(Dot{kB, 1});

  DotContext left_right = left;
  left_right.join(right);
  DotContext right_left = right;
  right_left.join(left);
  CHECK(left_right == right_left);
  CHECK(left_right.vector().get(kA) == 3);  // (A,2) from the right filled the left's gap.
  CHECK(left_right.vector().get(kB) == 1);
  CHECK(left_right.cloud() == std::set<Dot>{{kC, 2}});

  // Idempotent.
  DotContext twice = left_right;
  twice.join(left_right);
  CHECK(twice == left_right);

  // The missing dot arriving in a second join empties the cloud.
  DotContext fill;
  fill.insert(Dot{kC, 1});
  left_right.join(fill);
  CHECK(left_right.cloud().empty());
  CHECK(left_right.vector().get(kC) == 2);
}

TEST_CASE("dot context: join drops cloud dots the other side's vector covers") {
  DotContext sparse, dense;
  sparse.insert(Dot{kA, 5});
  for (std::uint64_t n = 1; n <= 7; ++n) dense.insert(Dot{kA, n});
  sparse.join(dense);
  CHECK(sparse.cloud().empty());
  CHECK(sparse.vector().get(kA) == 7);
}

TEST_CASE("dot context: next_dot is one past the highest own dot seen") {
  DotContext context;
  CHECK(context.next_dot(kA) == Dot{kA, 1});
  context.insert(Dot{kA, 1});
  context.insert(Dot{kA, 2});
  CHECK(context.next_dot(kA) == Dot{kA, 3});
  // Other replicas' dots do not affect it.
  context.insert(Dot{kB, 9});
  context.insert(Dot{kC, 1});
  CHECK(context.next_dot(kA) == Dot{kA, 3});
  CHECK(context.next_dot(kB) == Dot{kB, 10});
  CHECK(context.next_dot(kC) == Dot{kC, 2});
}

TEST_CASE("dot context: next_dot looks past the vector into the cloud of a fragment context") {
  // A context assembled from fragments (a delta) can hold a replica's own dots out of order.
  DotContext fragment;
  fragment.insert(Dot{kB, 4});
  fragment.insert(Dot{kB, 7});
  fragment.insert(Dot{kC, 1});
  CHECK(fragment.next_dot(kB) == Dot{kB, 8});
  CHECK(fragment.next_dot(kA) == Dot{kA, 1});
  CHECK(fragment.next_dot(kC) == Dot{kC, 2});
  CHECK(fragment.next_dot(ReplicaId{4}) == Dot{ReplicaId{4}, 1});
}

}  // namespace
}  // namespace cairn::crdt
