// Replica identities and dots: the unique names of events.
//
// Every peer has a ReplicaId (random 64-bit, persisted). Each local mutation mints a Dot (replica, n)
// from the peer's own store-wide counter, so a dot names exactly one event in the whole cluster.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace cairn::crdt {

struct ReplicaId {
  std::uint64_t value = 0;

  friend auto operator<=>(const ReplicaId&, const ReplicaId&) = default;
  friend std::ostream& operator<<(std::ostream& out, ReplicaId id) { return out << "r" << id.value; }
};

struct Dot {
  ReplicaId replica;
  std::uint64_t counter = 0;  // 1-based: the n-th event of `replica`; 0 never names an event.

  friend auto operator<=>(const Dot&, const Dot&) = default;
  friend std::ostream& operator<<(std::ostream& out, const Dot& dot) {
    return out << "(" << dot.replica << "," << dot.counter << ")";
  }
};

}  // namespace cairn::crdt

template <>
struct std::hash<cairn::crdt::ReplicaId> {
  std::size_t operator()(cairn::crdt::ReplicaId id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};
