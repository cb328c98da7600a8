// A causal context: the set of every dot a replica has seen, kept compact.
//
// Stored as a version vector (the contiguous prefix per replica) plus a cloud of dots that arrived out
// of order. As gaps fill, cloud dots fold into the vector, so a context that has seen everything up to
// some point is exactly a version vector again.
#pragma once

#include <cstdint>
#include <ostream>
#include <set>
#include <utility>

#include "crdt/dot.h"
#include "crdt/version_vector.h"

namespace cairn::crdt {

class DotContext {
 public:
  // The context holding exactly the dots of `vector` and `cloud` (zero-counter dots are ignored), in
  // canonical form: cloud dots the vector covers are dropped and those that extend it fold in. This is
  // how a decoder rebuilds a context: a vector entry may be far too large to insert dot by dot.
  static DotContext from_parts(VersionVector vector, const std::set<Dot>& cloud) {
    DotContext context;
    context.vector_ = std::move(vector);
    for (const Dot& dot : cloud) {
      if (dot.counter != 0) context.cloud_.insert(dot);
    }
    context.compact();
    return context;
  }

  bool contains(const Dot& dot) const { return vector_.contains(dot) || cloud_.contains(dot); }

  // The next dot `replica` would mint: one past the highest it has seen of its own.
  // A replica's own dots are always contiguous in its context, so this never collides.
  Dot next_dot(ReplicaId replica) const {
    std::uint64_t highest = vector_.get(replica);
    // A replica's own dots normally sit in the vector; a cloud dot above it can exist only if the
    // context was assembled from fragments (a delta), so look there too.
    auto it = cloud_.upper_bound(Dot{replica, UINT64_MAX});
    if (it != cloud_.begin()) {
      --it;
      if (it->replica == replica) highest = std::max(highest, it->counter);
    }
    return Dot{replica, highest + 1};
  }

  void insert(const Dot& dot) {
    if (dot.counter == 0 || contains(dot)) return;
    if (dot.counter == vector_.get(dot.replica) + 1) {
      vector_.raise(dot.replica, dot.counter);
      compact_replica(dot.replica);
    } else {
      cloud_.insert(dot);
    }
  }

  void join(const DotContext& other) {
    vector_.join(other.vector_);
    for (const Dot& dot : other.cloud_) {
      if (!vector_.contains(dot)) cloud_.insert(dot);
    }
    compact();
  }

  // Folds every cloud dot that extends the vector's prefix into the vector, and drops cloud dots the
  // vector already covers.
  void compact() {
    for (auto it = cloud_.begin(); it != cloud_.end();) {
      const std::uint64_t covered = vector_.get(it->replica);
      if (it->counter <= covered) {
        it = cloud_.erase(it);
      } else if (it->counter == covered + 1) {
        vector_.raise(it->replica, it->counter);
        it = cloud_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const VersionVector& vector() const { return vector_; }
  const std::set<Dot>& cloud() const { return cloud_; }
  bool empty() const { return vector_.empty() && cloud_.empty(); }

  friend bool operator==(const DotContext&, const DotContext&) = default;
  friend std::ostream& operator<<(std::ostream& out, const DotContext& context) {
    out << context.vector_ << "+cloud{";
    const char* separator = "";
    for (const Dot& dot : context.cloud_) {
      out << separator << dot;
      separator = ", ";
    }
    return out << "}";
  }

 private:
  // Moves the cloud dots of `replica` that now extend its prefix into the vector.
  void compact_replica(ReplicaId replica) {
    auto it = cloud_.lower_bound(Dot{replica, 0});
    while (it != cloud_.end() && it->replica == replica && it->counter <= vector_.get(replica) + 1) {
      vector_.raise(replica, it->counter);
      it = cloud_.erase(it);
    }
  }

  VersionVector vector_;
  std::set<Dot> cloud_;  // Invariant: no dot here is covered by vector_, none extends it by one.
};

}  // namespace cairn::crdt
