// Metadata stays bounded: the size of a replica's CRDT metadata depends on the number of replicas and
// live elements, never on the number of operations, and the causal context is a plain version vector
// (no cloud) once every delta has been delivered.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "crdt/causal_map.h"
#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "tests/support/property.h"

namespace cairn::crdt {
namespace {

constexpr std::size_t kReplicas = 3;

ReplicaId replica_id(std::size_t index) { return ReplicaId{100 + index}; }

// Replicas that each ship their deltas as one delta-group per exchange period to every other replica.
template <typename T>
class Cluster {
 public:
  Cluster() : states_(kReplicas), groups_(kReplicas) {}

  T& state(std::size_t i) { return states_[i]; }
  const std::vector<T>& states() const { return states_; }

  // Records the delta a mutation on replica `i` returned (it is already joined into that replica).
  void record(std::size_t i, const T& delta) { groups_[i].join(delta); }

  // Every replica receives every other replica's delta-group of this period.
  void exchange() {
    for (std::size_t from = 0; from < kReplicas; ++from) {
      for (std::size_t to = 0; to < kReplicas; ++to) {
        if (to != from) states_[to].join(groups_[from]);
      }
      groups_[from] = T{};
    }
  }

 private:
  std::vector<T> states_;
  std::vector<T> groups_;
};

// The context is a version vector of at most one entry per replica, with an empty cloud.
void check_context_is_version_vector(const DotContext& context) {
  CHECK(context.cloud().empty());
  CHECK(context.vector().size() <= kReplicas);
}

std::size_t dots_in(const OrSet::Store& store) {
  std::size_t dots = 0;
  for (const auto& [member, member_dots] : store.entries()) dots += member_dots.size();
  return dots;
}

// "<prefix><n>", built with a stream: GCC 12 at -O3 warns falsely (-Wrestrict) on a string literal
// concatenated with a temporary string.
std::string numbered(std::string_view prefix, std::uint64_t n) {
  std::ostringstream out;
  out << prefix << n;
  return out.str();
}

std::uint64_t seed_for(std::string_view name) { return test::base_seed() ^ test::fnv1a(name); }

TEST_CASE(
    "metadata bounds: after 100000 add/remove operations of the same few members by 3 replicas an "
    "OR-set's metadata is proportional to replicas and live members not operations") {
  // The full count runs in every build; it takes well under a second in Release.
  constexpr std::uint64_t kOps = 100'000;
  const std::vector<std::string> members = {"alpha", "beta", "gamma", "delta"};
  const std::uint64_t seed = seed_for("or-set 100000 ops");
  INFO("seed " << seed);
  Rng rng(seed);

  Cluster<OrSet> cluster;
  std::vector<std::uint64_t> adds(kReplicas, 0);
  std::uint64_t until_exchange = 1 + rng.below(64);
  std::size_t max_dots = 0;
  for (std::uint64_t op = 0; op < kOps; ++op) {
    const std::size_t i = rng.below(kReplicas);
    const std::string& member = members[rng.below(members.size())];
    OrSet& replica = cluster.state(i);
    if (rng.chance(1, 2)) {
      cluster.record(i, replica.add(replica_id(i), member));
      ++adds[i];
    } else {
      cluster.record(i, replica.remove(replica_id(i), member));
    }
    // At every moment: at most one dot per replica per live member.
    const std::size_t dots = dots_in(replica.state().store);
    max_dots = std::max(max_dots, dots);
    if (dots > kReplicas * replica.value().size()) {
      FAIL("replica " << i << " holds " << dots << " dots for " << replica.value().size()
                      << " live members after " << op << " operations");
    }
    if (--until_exchange == 0) {
      cluster.exchange();
      for (const OrSet& state : cluster.states()) {
        if (!state.state().context.cloud().empty() || state.state().context.vector().size() > kReplicas) {
          FAIL("after the exchange at operation " << op << " the context is " << state.state().context);
        }
      }
      until_exchange = 1 + rng.below(64);
    }
  }
  cluster.exchange();

  const OrSet& first = cluster.states().front();
  for (const OrSet& state : cluster.states()) {
    CHECK(state == first);
    const std::size_t live = state.value().size();
    CHECK(live <= members.size());
    CHECK(dots_in(state.state().store) <= kReplicas * live);
    check_context_is_version_vector(state.state().context);
    // The context is exactly the dots minted: one per add, none per remove.
    for (std::size_t r = 0; r < kReplicas; ++r)
      CHECK(state.state().context.vector().get(replica_id(r)) == adds[r]);
  }
  CHECK(max_dots <= kReplicas * members.size());
}

// ---- A CausalMap key deleted and re-created many times. ----

struct LwwOps {
  using Type = LwwRegister;
  static constexpr const char* kName = "lww";
  static CausalMap<std::string, Type> create(CausalMap<std::string, Type>& map, const std::string& key,
                                             ReplicaId replica, std::uint64_t step, Rng& /*rng*/) {
    return map.update(key, [&](const Type::Store& current, const DotContext& context) {
      return Type::write_delta(current, context, replica, numbered("v", step), HlcTimestamp{step, 0});
    });
  }
  // One entry per replica that wrote concurrently.
  static constexpr std::size_t kMaxEntries = kReplicas;
  static std::size_t entries(const Type::Store& store) { return store.size(); }
};

struct OrSetOps {
  using Type = OrSet;
  static constexpr const char* kName = "or-set";
  static constexpr std::size_t kMembers = 2;
  static CausalMap<std::string, Type> create(CausalMap<std::string, Type>& map, const std::string& key,
                                             ReplicaId replica, std::uint64_t /*step*/, Rng& rng) {
    const std::string member = rng.chance(1, 2) ? "x" : "y";
    return map.update(key, [&](const Type::Store& current, const DotContext& context) {
      return Type::add_delta(current, context, replica, member);
    });
  }
  // One dot per replica per member.
  static constexpr std::size_t kMaxEntries = kReplicas * kMembers;
  static std::size_t entries(const Type::Store& store) { return dots_in(store); }
};

struct CounterOps {
  using Type = PnCounter;
  static constexpr const char* kName = "pn-counter";
  static CausalMap<std::string, Type> create(CausalMap<std::string, Type>& map, const std::string& key,
                                             ReplicaId replica, std::uint64_t /*step*/, Rng& rng) {
    const bool up = rng.chance(1, 2);
    const std::uint64_t amount = 1 + rng.below(5);
    return map.update(key, [&](const Type::Store& current, const DotContext& context) {
      return Type::add_delta(current, context, replica, up ? amount : 0, up ? 0 : amount);
    });
  }
  // One contribution per replica, plus the resets deletes leave for contributors that have not yet
  // written again: per contributor and deleter, one reset whose contributor has not yet seen it and one
  // from the period before that it has seen but not yet absorbed (it absorbs resets on its next write).
  static constexpr std::size_t kMaxEntries = kReplicas + 2 * kReplicas * kReplicas;
  static std::size_t entries(const Type::Store& store) { return store.size(); }
};

template <typename Ops>
void run_delete_recreate(std::uint64_t cycles) {
  using Map = CausalMap<std::string, typename Ops::Type>;
  const std::string key = "key";
  const std::uint64_t seed = seed_for(Ops::kName);
  INFO(Ops::kName << " seed " << seed);
  Rng rng(seed);

  Cluster<Map> cluster;
  std::uint64_t until_exchange = 1 + rng.below(8);
  std::size_t max_entries = 0;
  auto check_bounded = [&](const Map& replica, std::uint64_t step) {
    // Never a tombstone key: the map holds at most the one key.
    if (replica.state().store.size() > 1) FAIL("more than one key after step " << step);
    if (const auto* store = replica.state().store.find(key)) {
      const std::size_t entries = Ops::entries(*store);
      max_entries = std::max(max_entries, entries);
      if (entries > Ops::kMaxEntries) FAIL(entries << " entries under the key after step " << step);
    }
  };
  auto after_op = [&](std::size_t i, std::uint64_t step) {
    check_bounded(cluster.state(i), step);
    if (--until_exchange == 0) {
      cluster.exchange();
      for (const Map& state : cluster.states()) {
        if (!state.state().context.cloud().empty()) FAIL("cloud after the exchange at step " << step);
        check_bounded(state, step);
      }
      until_exchange = 1 + rng.below(8);
    }
  };
  for (std::uint64_t step = 0; step < cycles; ++step) {
    const std::size_t creator = rng.below(kReplicas);
    cluster.record(creator, Ops::create(cluster.state(creator), key, replica_id(creator), step, rng));
    after_op(creator, step);
    const std::size_t deleter = rng.below(kReplicas);
    cluster.record(deleter, cluster.state(deleter).erase(key, replica_id(deleter)));
    after_op(deleter, step);
  }
  cluster.exchange();
  for (const Map& state : cluster.states()) {
    CHECK(state == cluster.states().front());
    check_context_is_version_vector(state.state().context);
  }
  CHECK(max_entries <= Ops::kMaxEntries);

  // Every replica writes once more having seen everything (a counter contributor absorbs every reset
  // about it), then a replica that has seen everything deletes the key: nothing of it is left but, for
  // a counter, one reset per contributor, which lives until that contributor writes again.
  for (std::size_t i = 0; i < kReplicas; ++i) {
    cluster.record(i, Ops::create(cluster.state(i), key, replica_id(i), cycles + i, rng));
  }
  cluster.exchange();
  if constexpr (std::is_same_v<typename Ops::Type, PnCounter>) {
    for (const Map& state : cluster.states()) {
      const auto* store = state.state().store.find(key);
      REQUIRE(store != nullptr);
      CHECK(store->size() == kReplicas);  // One contribution per replica, every reset absorbed.
    }
  }
  cluster.record(0, cluster.state(0).erase(key, replica_id(0)));
  cluster.exchange();
  for (const Map& state : cluster.states()) {
    CHECK(state == cluster.states().front());
    CHECK(state.find(key) == nullptr);
    CHECK(state.value().empty());
    check_context_is_version_vector(state.state().context);
    const auto* store = state.state().store.find(key);
    if constexpr (std::is_same_v<typename Ops::Type, PnCounter>) {
      REQUIRE(store != nullptr);
      CHECK(store->size() == kReplicas);  // One reset per contributor.
      for (const auto& [dot, entry] : store->entries()) CHECK(entry.kind == CounterEntry::Kind::kReset);
    } else {
      CHECK(store == nullptr);
      CHECK(state.state().store.empty());
    }
  }
}

TEST_CASE(
    "metadata bounds: an LWW key deleted and re-created 10000 times by 3 replicas keeps at most one "
    "entry per replica and no tombstone") {
  run_delete_recreate<LwwOps>(10'000);
}

TEST_CASE(
    "metadata bounds: an OR-set key deleted and re-created 10000 times by 3 replicas keeps at most one "
    "dot per replica and member and no tombstone") {
  run_delete_recreate<OrSetOps>(10'000);
}

TEST_CASE(
    "metadata bounds: a PN-counter key deleted and re-created 10000 times by 3 replicas keeps a "
    "bounded number of contributions and resets") {
  run_delete_recreate<CounterOps>(10'000);
}

TEST_CASE(
    "metadata bounds: a PN-counter deleter that keeps clearing a contributor it cannot reach keeps one "
    "reset for it") {
  // A one-way partition: B receives each of A's increments and clears the key every time, but A hears
  // nothing from B. Each clear of B supersedes B's earlier resets of A's chain, so B holds one reset,
  // not one per clear (and would keep it forever if A never wrote again).
  using Map = CausalMap<std::string, PnCounter>;
  const std::string key = "counter";
  Map a, b;
  for (int round = 0; round < 10'000; ++round) {
    b.join(a.update(key, [&](const PnCounter::Store& current, const DotContext& context) {
      return PnCounter::add_delta(current, context, replica_id(0), 1, 0);
    }));
    b.erase(key, replica_id(1));
    const auto* store = b.state().store.find(key);
    if (store == nullptr || store->size() != 1) FAIL("B holds more than one reset after round " << round);
  }
  // The partition heals: every increment of A was observed by some clear of B.
  a.join(b);
  CHECK(a == b);
  CHECK(a.find(key) == nullptr);
  const auto* store = a.state().store.find(key);
  REQUIRE(store != nullptr);
  CHECK(store->size() == 1);
  check_context_is_version_vector(a.state().context);
  // A writes again: it absorbs the reset and counts from zero.
  b.join(a.update(key, [&](const PnCounter::Store& current, const DotContext& context) {
    return PnCounter::add_delta(current, context, replica_id(0), 1, 0);
  }));
  REQUIRE(b.find(key) != nullptr);
  CHECK(PnCounter::value_of(*b.find(key)) == 1);
  CHECK(b.state().store.find(key)->size() == 1);
}

TEST_CASE("metadata bounds: the causal context stays a version vector once gaps fill") {
  const std::uint64_t seed = seed_for("context gaps");
  INFO("seed " << seed);
  Rng rng(seed);

  // Three replicas each produce a run of deltas on a shared causal map.
  using Map = CausalMap<std::string, OrSet>;
  std::vector<Map> writers(kReplicas);
  std::vector<Map> deltas;
  for (int n = 0; n < 300; ++n) {
    const std::size_t i = rng.below(kReplicas);
    const std::string key = numbered("k", rng.below(3));
    const std::string member = numbered("m", rng.below(3));
    const bool add = rng.chance(2, 3);
    deltas.push_back(writers[i].update(key, [&](const OrSet::Store& current, const DotContext& context) {
      return add ? OrSet::add_delta(current, context, replica_id(i), member)
                 : OrSet::remove_delta(current, context, replica_id(i), member);
    }));
  }
  Map everything;
  for (const Map& writer : writers) everything.join(writer);

  // A reader receives the deltas out of order: the second half first, then the first half backwards.
  Map reader;
  const std::size_t half = deltas.size() / 2;
  for (std::size_t n = half; n < deltas.size(); ++n) reader.join(deltas[n]);
  CHECK_FALSE(reader.state().context.cloud().empty());  // Gaps: the first half's dots are missing.
  for (std::size_t n = half; n-- > 0;) reader.join(deltas[n]);
  CHECK(reader.state().context.cloud().empty());
  CHECK(reader.state().context.vector().size() <= kReplicas);
  CHECK(reader == everything);

  // The same for an OR-set on its own, one dot at a time: the cloud empties exactly when the last gap
  // fills. (Distinct members, so no delta's context covers an earlier delta's dot.)
  OrSet source;
  std::vector<OrSet> set_deltas;
  for (std::uint64_t n = 0; n < 50; ++n) set_deltas.push_back(source.add(replica_id(0), numbered("m", n)));
  OrSet sink;
  for (std::size_t n = set_deltas.size(); n-- > 1;) {
    sink.join(set_deltas[n]);
    CHECK_FALSE(sink.state().context.cloud().empty());
    CHECK(sink.state().context.vector().get(replica_id(0)) == 0);
  }
  sink.join(set_deltas[0]);
  CHECK(sink.state().context.cloud().empty());
  CHECK(sink.state().context.vector().get(replica_id(0)) == 50);
  CHECK(sink == source);
}

}  // namespace
}  // namespace cairn::crdt
