// The history of acknowledged operations of a simulated cluster, and the checker of issue 6 item 4:
// after every peer converged, each one's state must be exactly what those operations imply.
//
// Writes are built so the expected state follows from what each writer could see when it wrote:
// - registers: every value written is unique; a put or del observes the values its peer then read
//   (get: winner and concurrent). Expected: the acknowledged writes no later put or del observed,
//   all of them present, the winner and its concurrent values together.
// - sets: every added member is unique to its add, so a remove or delete observes an add exactly
//   when the member was visible at its peer. Expected: every added member that no remove or delete
//   observed.
// - counters: "count/*" only increments and decrements: expected the sum of all of them. "bits/*"
//   increments by distinct powers of two and is deleted: a delete observes exactly the increments
//   whose bits its peer read, so expected the sum of the powers no delete observed.
//   Of those, the one with the largest (HLC timestamp, writer's replica id) must be the value read:
//   each write's timestamp is read from its record right after it is acknowledged (the HLC is not
//   visible through the public API, so this reads the store's internals).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cairn/store.h"
#include "src/store/delta_apply.h"
#include "src/store/lmdb.h"
#include "src/store/replica.h"
#include "src/util/rng.h"

namespace cairn::test {

class AckedHistory {
 public:
  // One random operation at `store`; recorded only once acknowledged.
  void random_operation(store::Replica& store, Rng& rng) {
    const std::uint64_t tag = next_tag_++;
    const std::string slot = std::to_string(rng.below(4));
    switch (rng.below(9)) {
      case 0:
      case 1:
        put(store, "reg/" + slot, "w" + std::to_string(tag));
        break;
      case 2:
        del_register(store, "reg/" + slot);
        break;
      case 3:
      case 4:
        sadd(store, "set/" + slot, "m" + std::to_string(tag));
        break;
      case 5:
        srem_random(store, "set/" + slot, rng);
        break;
      case 6:
        del_set(store, "set/" + slot);
        break;
      case 7:
        count(store, "count/" + slot, rng);
        break;
      default:
        bits(store, "bits/" + std::to_string(rng.below(2)), rng);
        break;
    }
  }

  // Checks `store` against the history; every mismatch fails the test with the key named.
  void check(store::Replica& store) const {
    for (const auto& [key, writes] : register_writes_) {
      std::set<std::string> expected;
      for (const std::string& value : writes) {
        if (!register_observed_.contains(value)) expected.insert(value);
      }
      auto value = store.get(key);
      INFO("register " << key);
      if (expected.empty()) {
        CHECK((!value && value.error().code() == ErrorCode::kNotFound));
        continue;
      }
      REQUIRE(value.has_value());
      std::set<std::string> present{value->value};
      present.insert(value->concurrent.begin(), value->concurrent.end());
      CHECK(present == expected);
      const auto winner = std::max_element(
          expected.begin(), expected.end(),
          [&](const auto& a, const auto& b) { return register_stamps_.at(a) < register_stamps_.at(b); });
      CHECK(value->value == *winner);
    }
    for (const auto& [key, members] : set_adds_) {
      std::set<std::string> expected;
      for (const std::string& member : members) {
        if (!set_removed_.contains(member)) expected.insert(member);
      }
      std::set<std::string> present;
      auto cursor = store.smembers(key);
      REQUIRE(cursor.has_value());
      for (auto member = (*cursor)->next(); member && member->has_value(); member = (*cursor)->next()) {
        present.insert(**member);
      }
      INFO("set " << key);
      CHECK(present == expected);
    }
    for (const auto& [key, total] : counter_totals_) {
      INFO("counter " << key);
      auto value = store.counter(key);
      REQUIRE(value.has_value());
      CHECK(*value == total);
    }
    for (const auto& [key, added] : bit_adds_) {
      std::uint64_t expected = 0;
      for (int bit : added) {
        if (!bit_deleted_.at(key).contains(bit)) expected += std::uint64_t{1} << bit;
      }
      INFO("bit counter " << key);
      auto value = store.counter(key);
      if (expected == 0) {
        CHECK(((!value && value.error().code() == ErrorCode::kNotFound) || (value && *value == 0)));
      } else {
        REQUIRE(value.has_value());
        CHECK(static_cast<std::uint64_t>(*value) == expected);
      }
    }
  }

  std::uint64_t operations() const { return next_tag_; }

 private:
  static std::vector<std::string> visible_register(store::Replica& store, const std::string& key) {
    auto value = store.get(key);
    if (!value) return {};
    std::vector<std::string> visible{value->value};
    visible.insert(visible.end(), value->concurrent.begin(), value->concurrent.end());
    return visible;
  }

  static void require_acked(const Status& status) {
    INFO((status ? std::string("ok") : status.error().to_string()));
    REQUIRE(status.has_value());
  }

  // The (HLC timestamp, replica id) of the entry holding `value` in register `key` of `store`.
  static std::pair<crdt::HlcTimestamp, std::uint64_t> stamp_of(store::Replica& store, const std::string& key,
                                                               const std::string& value) {
    auto stamp = store::read_raw_result(
        store, [&](const store::Txn& txn, const store::Databases& databases) -> Result<std::pair<crdt::HlcTimestamp, std::uint64_t>> {
          auto record = store::read_record(txn, databases.values,
                                           codec::RecordKey{key, codec::ValueType::kRegister, {}});
          if (!record) return tl::unexpected(record.error());
          for (const auto& [dot, entry] : std::get<crdt::LwwRegister::Store>(*record).entries()) {
            if (entry.value == value) return std::make_pair(entry.timestamp, dot.replica.value);
          }
          return fail(ErrorCode::kNotFound, "the acknowledged write is not in its register");
        });
    INFO((stamp ? std::string("ok") : stamp.error().to_string()));
    REQUIRE(stamp.has_value());
    return *stamp;
  }

  void put(store::Replica& store, const std::string& key, const std::string& value) {
    const auto seen = visible_register(store, key);
    require_acked(store.put(key, value));
    register_stamps_[value] = stamp_of(store, key, value);
    register_observed_.insert(seen.begin(), seen.end());
    register_writes_[key].push_back(value);
  }

  void del_register(store::Replica& store, const std::string& key) {
    const auto seen = visible_register(store, key);
    require_acked(store.del(key));
    register_observed_.insert(seen.begin(), seen.end());
  }

  void sadd(store::Replica& store, const std::string& key, const std::string& member) {
    require_acked(store.sadd(key, {member}));
    set_adds_[key].push_back(member);
  }

  void srem_random(store::Replica& store, const std::string& key, Rng& rng) {
    const auto& added = set_adds_[key];
    if (added.empty()) return;
    const std::string member = added[rng.below(added.size())];
    auto visible = store.sismember(key, member);
    REQUIRE(visible.has_value());
    require_acked(store.srem(key, {member}));
    if (*visible) set_removed_.insert(member);  // A remove observes only what its peer holds.
  }

  void del_set(store::Replica& store, const std::string& key) {
    std::vector<std::string> visible;
    auto cursor = store.smembers(key);
    REQUIRE(cursor.has_value());
    for (auto member = (*cursor)->next(); member && member->has_value(); member = (*cursor)->next()) {
      visible.push_back(**member);
    }
    require_acked(store.del(key));
    set_removed_.insert(visible.begin(), visible.end());
  }

  void count(store::Replica& store, const std::string& key, Rng& rng) {
    const std::int64_t amount = static_cast<std::int64_t>(rng.below(10)) + 1;
    if (rng.below(2) != 0) {
      require_acked(store.incr(key, static_cast<std::uint64_t>(amount)));
      counter_totals_[key] += amount;
    } else {
      require_acked(store.decr(key, static_cast<std::uint64_t>(amount)));
      counter_totals_[key] -= amount;
    }
  }

  void bits(store::Replica& store, const std::string& key, Rng& rng) {
    auto& added = bit_adds_[key];
    auto& deleted = bit_deleted_[key];
    if (rng.below(4) == 0 || added.size() >= 60) {
      auto value = store.counter(key);
      const std::uint64_t seen = value ? static_cast<std::uint64_t>(*value) : 0;
      require_acked(store.del(key));
      for (int bit = 0; bit < 64; ++bit) {
        if ((seen >> bit & 1) != 0) deleted.insert(bit);
      }
      return;
    }
    if (added.size() >= 60) return;
    const int bit = static_cast<int>(added.size());
    require_acked(store.incr(key, std::uint64_t{1} << bit));
    added.push_back(bit);
  }

  std::uint64_t next_tag_ = 0;
  std::map<std::string, std::vector<std::string>> register_writes_;
  std::set<std::string> register_observed_;
  std::map<std::string, std::pair<crdt::HlcTimestamp, std::uint64_t>> register_stamps_;
  std::map<std::string, std::vector<std::string>> set_adds_;
  std::set<std::string> set_removed_;
  std::map<std::string, std::int64_t> counter_totals_;
  std::map<std::string, std::vector<int>> bit_adds_;
  std::map<std::string, std::set<int>> bit_deleted_;
};

}  // namespace cairn::test
