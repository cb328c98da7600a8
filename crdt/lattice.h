// The contracts every CRDT in cairn satisfies.
//
// A Lattice is a value with a join (least upper bound) that is commutative, associative and idempotent,
// and equality; state changes only by join. A Crdt is a Lattice that also has a user-visible value().
// The property tests in tests/crdt/ check the join laws for every type that claims these concepts.
#pragma once

#include <concepts>

namespace cairn::crdt {

template <typename T>
concept Lattice = std::equality_comparable<T> && std::default_initializable<T> && requires(T& a, const T& b) {
  { a.join(b) } -> std::same_as<void>;
};

template <typename T>
concept Crdt = Lattice<T> && requires(const T& t) {
  {t.value()};
};

// The join of two values, leaving both untouched.
template <Lattice T>
T joined(T a, const T& b) {
  a.join(b);
  return a;
}

}  // namespace cairn::crdt
