// Property tests of crdt/causal_map.h: the same random histories as the value types' own property
// tests, on a few keys of a CausalMap whose values share the map's one causal context; and erase
// against a concurrent update.
#include "crdt/causal_map.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "crdt/lww_register.h"
#include "tests/crdt/property_support.h"

namespace cairn::test {
namespace {

using crdt::CausalMap;
using crdt::LwwRegister;

TEST_CASE("causal map of lww registers: random histories converge to the model") {
  for_each_history("causal map<lww register> histories", 10000,
                   [](Rng& rng) { check_random_history<LwwWorkload<InCausalMap<LwwRegister>>>(rng); });
}

TEST_CASE("causal map of or-sets: random histories converge to the model") {
  for_each_history("causal map<or-set> histories", 10000,
                   [](Rng& rng) { check_random_history<OrSetWorkload<InCausalMap<crdt::OrSet>>>(rng); });
}

TEST_CASE("causal map of pn-counters: random histories converge to the model") {
  for_each_history("causal map<pn-counter> histories", 10000, [](Rng& rng) {
    check_random_history<PnCounterWorkload<InCausalMap<crdt::PnCounter>>>(rng);
  });
}

TEST_CASE("causal map: an erase removes only what its issuer saw of the key and leaves no entry behind") {
  using Map = CausalMap<std::string, LwwRegister>;
  for_each_history("causal map erase", 10000, [](Rng& rng) {
    const auto ids = random_replica_ids(rng, 3);
    auto write = [&](Map& map, std::size_t replica, const std::string& key, const std::string& value) {
      return map.update(key, [&](const LwwRegister::Store& current, const crdt::DotContext& context) {
        return LwwRegister::write_delta(current, context, ids[replica], value,
                                        crdt::HlcTimestamp{rng.below(3), 0});
      });
    };
    // Replica 0 writes the key (maybe twice) and another key; replica 1 receives the writes of the
    // key and erases it; replica 2, concurrently, writes the key or not.
    Map writer, eraser, concurrent;
    std::vector<Map> deltas = {write(writer, 0, "key", "first"), write(writer, 0, "other", "kept")};
    if (rng.chance(1, 2)) deltas.push_back(write(writer, 0, "key", "second"));
    for (const Map& delta : deltas) {
      if (delta.state().store.find("key") != nullptr) eraser.join(delta);
    }
    deltas.push_back(eraser.erase("key", ids[1]));
    const bool concurrent_write = rng.chance(1, 2);
    if (concurrent_write) deltas.push_back(write(concurrent, 2, "key", "concurrent"));

    bool ok = true;
    std::set<std::string> keys;
    for (int replica = 0; replica < 3; ++replica) {
      const Map joined = join_in_random_order(deltas, rng);
      keys = joined.value();
      const LwwRegister::Store* key = joined.find("key");
      const LwwRegister::Store* other = joined.find("other");
      ok = ok && keys == (concurrent_write ? std::set<std::string>{"key", "other"}
                                           : std::set<std::string>{"other"});
      ok = ok && other != nullptr && LwwRegister::winner(*other)->entry->value == "kept";
      // The erased writes are gone from the store, not hidden: nothing of them is left under the key.
      ok = ok && (concurrent_write ? key != nullptr && key->size() == 1 &&
                                         LwwRegister::winner(*key)->entry->value == "concurrent"
                                   : joined.state().store.find("key") == nullptr);
    }
    CAPTURE(concurrent_write, keys.size());
    REQUIRE(ok);
  });
}

}  // namespace
}  // namespace cairn::test
