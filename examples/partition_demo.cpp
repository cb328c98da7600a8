// Three replicas of a cairn key space, in one process, through a network partition.
//
// Replica A is cut off from B and C. Both sides keep accepting writes: A and B write the same
// register concurrently, C removes a set member that A concurrently re-adds, and A deletes a counter
// while B keeps incrementing it. When the partition heals, the replicas exchange the deltas they
// missed and every replica ends in the same state, with the documented winner for each conflict.
// This uses the CRDT core directly; the daemon (cairnd) will run the same algebra over LMDB and gossip.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "crdt/causal_map.h"
#include "crdt/hlc.h"
#include "crdt/lww_register.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"

namespace {

using namespace cairn::crdt;

// A wall clock the demo sets by hand, so replica clocks can be skewed on purpose.
class ManualClock final : public WallClock {
 public:
  explicit ManualClock(std::uint64_t now_ms) : now_ms_(now_ms) {}
  std::uint64_t now_ms() override { return now_ms_; }

 private:
  std::uint64_t now_ms_;
};

struct Replica {
  Replica(const char* replica_name, std::uint64_t replica_id, std::uint64_t wall_ms)
      : name(replica_name), id{replica_id}, clock_source(wall_ms), clock(clock_source) {}

  std::string name;
  ReplicaId id;
  ManualClock clock_source;
  HybridClock clock;
  CausalMap<std::string, LwwRegister> registers;
  CausalMap<std::string, OrSet> sets;
  CausalMap<std::string, PnCounter> counters;
  // Deltas this replica produced, to ship when it can reach the others.
  std::vector<CausalMap<std::string, LwwRegister>> register_deltas;
  std::vector<CausalMap<std::string, OrSet>> set_deltas;
  std::vector<CausalMap<std::string, PnCounter>> counter_deltas;

  void put(const std::string& key, const std::string& value) {
    const HlcTimestamp now = clock.now();
    register_deltas.push_back(registers.update(key, [&](const auto& store, const auto& context) {
      return LwwRegister::write_delta(store, context, id, value, now);
    }));
  }
  void sadd(const std::string& key, const std::string& member) {
    set_deltas.push_back(sets.update(
        key, [&](const auto& store, const auto& context) { return OrSet::add_delta(store, context, id, member); }));
  }
  void srem(const std::string& key, const std::string& member) {
    set_deltas.push_back(sets.update(
        key, [&](const auto& store, const auto& context) { return OrSet::remove_delta(store, context, id, member); }));
  }
  void incr(const std::string& key, std::uint64_t amount) {
    counter_deltas.push_back(counters.update(key, [&](const auto& store, const auto& context) {
      return PnCounter::add_delta(store, context, id, amount, 0);
    }));
  }
  void del_counter(const std::string& key) { counter_deltas.push_back(counters.erase(key, id)); }

  // Receives every delta `from` has produced so far (duplicates are harmless: join is idempotent).
  void receive_from(const Replica& from) {
    for (const auto& delta : from.register_deltas) {
      registers.join(delta);
      // Observing remote timestamps keeps this replica's later writes ordered after them.
      for (const auto& [key, store] : delta.state().store.entries()) {
        for (const auto& [dot, entry] : store.entries()) clock.observe(entry.timestamp);
      }
    }
    for (const auto& delta : from.set_deltas) sets.join(delta);
    for (const auto& delta : from.counter_deltas) counters.join(delta);
  }

  void print() const {
    std::printf("  %s:", name.c_str());
    if (const auto* store = registers.find("greeting")) {
      const auto versions = LwwRegister::versions(*store);
      std::printf(" greeting=\"%s\"", versions.front().entry->value.c_str());
      for (std::size_t i = 1; i < versions.size(); ++i) {
        std::printf(" (concurrent: \"%s\")", versions[i].entry->value.c_str());
      }
    }
    std::printf(" tags={");
    if (const auto* store = sets.find("tags")) {
      const char* separator = "";
      for (const auto& member : OrSet::members(*store)) {
        std::printf("%s%s", separator, member.c_str());
        separator = ",";
      }
    }
    std::printf("}");
    if (const auto* store = counters.find("visits")) {
      const std::optional<std::int64_t> visits = PnCounter::value_of(*store);
      if (visits) {
        std::printf(" visits=%lld", static_cast<long long>(*visits));
      } else {
        std::printf(" visits=(outside the int64 range)");
      }
    } else {
      std::printf(" visits=(deleted)");
    }
    std::printf("\n");
  }
};

void exchange_all(std::vector<Replica*> replicas) {
  for (Replica* to : replicas) {
    for (const Replica* from : replicas) {
      if (to != from) to->receive_from(*from);
    }
  }
}

}  // namespace

int main() {
  // B's wall clock runs 5 s ahead of A's and C's: the HLC keeps causal order regardless.
  Replica a("A", 1, 1'000'000), b("B", 2, 1'005'000), c("C", 3, 1'000'000);

  std::printf("1. All connected: A writes, everyone syncs.\n");
  a.put("greeting", "hello");
  a.sadd("tags", "edge");
  a.sadd("tags", "offline");
  a.incr("visits", 10);
  exchange_all({&a, &b, &c});
  for (const Replica* r : {&a, &b, &c}) r->print();

  std::printf("2. Partition {A} | {B, C}; both sides keep writing.\n");
  a.put("greeting", "hi from A");
  b.put("greeting", "hi from B");
  c.srem("tags", "offline");
  a.sadd("tags", "offline");  // A re-adds concurrently with C's remove: add wins.
  a.del_counter("visits");    // A deletes the counter that B keeps incrementing.
  b.incr("visits", 3);
  exchange_all({&b, &c});
  for (const Replica* r : {&a, &b, &c}) r->print();

  std::printf("3. Healed: every replica exchanges what it missed.\n");
  exchange_all({&a, &b, &c});
  for (const Replica* r : {&a, &b, &c}) r->print();

  const bool converged = a.registers == b.registers && b.registers == c.registers && a.sets == b.sets &&
                         b.sets == c.sets && a.counters == b.counters && b.counters == c.counters;
  const auto* visits = a.counters.find("visits");
  const bool counter_right = visits != nullptr && PnCounter::value_of(*visits) == 3;
  const bool tag_kept = a.sets.find("tags") != nullptr && OrSet::contains(*a.sets.find("tags"), "offline");
  std::printf("converged: %s; visits counts only the increments the delete did not see: %s; "
              "concurrent re-add of 'offline' kept: %s\n",
              converged ? "yes" : "NO", counter_right ? "yes" : "NO", tag_kept ? "yes" : "NO");
  return converged && counter_right && tag_kept ? 0 : 1;
}
