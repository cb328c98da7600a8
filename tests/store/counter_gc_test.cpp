// Replica::compact_counter_resets and Replica::context_vector (docs/metadata-gc.md): a counter's reset
// entries go once no replica can need them, never earlier; the value never changes; the hash tree and
// the reset index stay in step; a store from before the index gets it built on open.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crdt/pn_counter.h"
#include "src/store/delta_apply.h"
#include "src/store/replica.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"

namespace cairn::test {
namespace {

constexpr std::uint64_t kA = 0xA1;
constexpr std::uint64_t kB = 0xB2;
constexpr std::size_t kAll = 1'000'000;

StoreOptions replica_options(std::uint64_t replica) {
  StoreOptions options;
  options.durability = Durability::kNoSync;
  options.replica_id_for_new_store = replica;
  return options;
}


// The error code a call failed with; nullopt when it succeeded.
template <typename R>
std::optional<ErrorCode> failure(const R& result) {
  if (result.has_value()) return std::nullopt;
  return result.error().code();
}

// The counter record at `key` as stored (empty when there is none).
crdt::PnCounter::Store counter_record(store::Replica& store, const std::string& key) {
  auto record = store::read_raw_result(store, [&](const store::Txn& txn, const store::Databases& databases) {
    return store::read_record(txn, databases.values, codec::RecordKey{key, codec::ValueType::kCounter, {}});
  });
  REQUIRE(record.has_value());
  return std::get<crdt::PnCounter::Store>(*record);
}

std::size_t resets_in(store::Replica& store, const std::string& key) {
  const auto record = counter_record(store, key);
  return static_cast<std::size_t>(
      std::count_if(record.entries().begin(), record.entries().end(),
                    [](const auto& item) { return item.second.kind == crdt::CounterEntry::Kind::kReset; }));
}

ReplicaReport report_of(store::Replica& store) {
  auto vector = store.context_vector();
  REQUIRE(vector.has_value());
  return ReplicaReport{store.replica_id(), *vector};
}

CompactionPass compact(store::Replica& store, const std::vector<ReplicaReport>& reports,
                       std::size_t max_records = kAll) {
  auto pass = store.compact_counter_resets(reports, max_records);
  INFO((pass ? std::string("compacted") : pass.error().to_string()));
  REQUIRE(pass.has_value());
  return *pass;
}

std::vector<std::uint64_t> leaves(store::Replica& store) {
  std::vector<std::uint32_t> nodes(kTreeLeafBuckets);
  std::iota(nodes.begin(), nodes.end(), 0u);
  auto hashes = store.tree_hashes(kTreeLeafLevel, nodes, false);
  REQUIRE(hashes.has_value());
  return hashes->hashes;
}

// The maintained hash tree equals one rebuilt from the records.
void check_tree_matches_records(store::Replica& store) {
  const std::vector<std::uint64_t> kept = leaves(store);
  CHECK(test::tree_leaves_from_records(store) == kept);
}

// A counter's value, or nullopt when it is absent (kNotFound).
std::optional<std::int64_t> value_of(store::Replica& store, const std::string& key) {
  auto value = store.counter(key);
  if (value) return *value;
  REQUIRE(value.error().code() == ErrorCode::kNotFound);
  return std::nullopt;
}

std::string shown(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : std::string("absent");
}

// Every encoded delta-group `store` logged after `after` (advanced past them).
std::vector<std::string> logged_after(store::Replica& store, std::uint64_t& after) {
  auto deltas = store.deltas_since(after, kAll);
  REQUIRE(deltas.has_value());
  std::vector<std::string> bytes;
  for (const LoggedDelta& delta : *deltas) {
    bytes.push_back(delta.bytes);
    after = delta.sequence;
  }
  return bytes;
}

void merge_all(store::Replica& to, const std::vector<std::string>& deltas, std::uint64_t origin) {
  for (const std::string& delta : deltas) {
    auto merged = to.merge_delta(delta, origin);
    INFO((merged ? std::string("merged") : merged.error().to_string()));
    REQUIRE(merged.has_value());
  }
}

TEST_CASE("counter gc: context_vector is the committed causal context, ascending") {
  TempDir dir;
  auto a = open_store(dir.str() + "/a", replica_options(kA));
  auto b = open_store(dir.str() + "/b", replica_options(kB));
  auto empty = a->context_vector();
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  REQUIRE(a->incr("k", 1));
  REQUIRE(a->incr("k", 1));
  REQUIRE(b->incr("j", 1));
  ship_deltas(*b, *a);
  CHECK(report_of(*a).vector == std::vector<VersionVectorEntry>{{kA, 2}, {kB, 1}});
}

TEST_CASE("counter gc: a deleter's reset about another replica goes only once that replica reported it") {
  TempDir dir;
  auto a = open_store(dir.str() + "/a", replica_options(kA));
  auto b = open_store(dir.str() + "/b", replica_options(kB));
  std::uint64_t a_shipped = 0, b_shipped = 0;
  REQUIRE(a->incr("k", 5));
  const std::vector<std::string> increment = logged_after(*a, a_shipped);
  merge_all(*b, increment, kA);
  REQUIRE(b->del("k"));
  const std::vector<std::string> deletion = logged_after(*b, b_shipped);
  REQUIRE(resets_in(*b, "k") == 1);
  REQUIRE(counter_record(*b, "k").size() == 1);  // B holds only the reset about A.
  CHECK_FALSE(value_of(*b, "k").has_value());

  // No report of A: nothing goes.
  CompactionPass pass = compact(*b, {});
  CHECK(pass.records_examined == 1);
  CHECK(pass.resets_dropped == 0);
  CHECK(pass.wrapped);
  // A's report from before it saw the delete does not cover the reset.
  const ReplicaReport before_delete = report_of(*a);
  CHECK(compact(*b, {before_delete}).resets_dropped == 0);
  CHECK(resets_in(*b, "k") == 1);

  // A sees the delete and reports it; B has every dot of A the report speaks of.
  merge_all(*a, deletion, kB);
  const ReplicaReport after_delete = report_of(*a);
  const auto log_before = b->delta_log_bounds();
  REQUIRE(log_before.has_value());
  int notified = 0;
  b->subscribe("", [&](const Change&) { ++notified; });
  pass = compact(*b, {before_delete, after_delete});
  CHECK(pass.records_examined == 1);
  CHECK(pass.resets_dropped == 1);
  CHECK(pass.records_removed == 1);
  CHECK(counter_record(*b, "k").empty());
  CHECK(failure(b->kind("k")) == ErrorCode::kNotFound);
  CHECK(failure(b->counter("k")) == ErrorCode::kNotFound);
  check_tree_matches_records(*b);
  // Not logged, not notified.
  const auto log_after = b->delta_log_bounds();
  REQUIRE(log_after.has_value());
  CHECK(log_after->last == log_before->last);
  CHECK(notified == 0);

  // The old deltas holding the reset (or the increment it cancelled) do not bring anything back.
  merge_all(*b, deletion, kB);
  merge_all(*b, increment, kA);
  CHECK(counter_record(*b, "k").empty());
  CHECK(failure(b->kind("k")) == ErrorCode::kNotFound);
  // The index is empty now: a pass examines nothing.
  pass = compact(*b, {after_delete});
  CHECK(pass.records_examined == 0);
  CHECK(pass.wrapped);

  // A holds the same reset, about its own chain: its own resets need no report.
  REQUIRE(resets_in(*a, "k") == 1);
  pass = compact(*a, {});
  CHECK(pass.resets_dropped == 1);
  CHECK(counter_record(*a, "k").empty());
  check_tree_matches_records(*a);
  // A counts again from zero, and B agrees.
  REQUIRE(a->incr("k", 2));
  merge_all(*b, logged_after(*a, a_shipped), kA);
  CHECK(value_of(*a, "k") == std::optional<std::int64_t>(2));
  CHECK(value_of(*b, "k") == std::optional<std::int64_t>(2));
}

TEST_CASE("counter gc: a reset whose chain still has a contribution here stays, whatever the reports say") {
  TempDir dir;
  auto a = open_store(dir.str() + "/a", replica_options(kA));
  auto b = open_store(dir.str() + "/b", replica_options(kB));
  std::uint64_t a_shipped = 0, b_shipped = 0;
  REQUIRE(a->incr("k", 10));
  merge_all(*b, logged_after(*a, a_shipped), kA);
  REQUIRE(b->del("k"));
  REQUIRE(a->incr("k", 1));  // Concurrent with the delete.
  merge_all(*b, logged_after(*a, a_shipped), kA);
  merge_all(*a, logged_after(*b, b_shipped), kB);
  REQUIRE(resets_in(*b, "k") == 1);
  CHECK(compact(*b, {report_of(*a)}).resets_dropped == 0);
  CHECK(compact(*a, {report_of(*b)}).resets_dropped == 0);  // A's own reset, but its chain is live.
  CHECK(value_of(*a, "k") == std::optional<std::int64_t>(1));
  CHECK(value_of(*b, "k") == std::optional<std::int64_t>(1));
}

TEST_CASE("counter gc: a reset is kept while a concurrent contribution of its chain is still in flight") {
  // A increments; B merges it and deletes; meanwhile A increments again (E, extending the running total
  // the delete observed). B holds no contribution of A's chain, but E must still be cancelled in part.
  TempDir dir;
  auto a = open_store(dir.str() + "/a", replica_options(kA));
  auto b = open_store(dir.str() + "/b", replica_options(kB));
  auto ref_a = open_store(dir.str() + "/ref_a", replica_options(kA));  // The same history, never compacted.
  auto ref_b = open_store(dir.str() + "/ref_b", replica_options(kB));
  std::uint64_t a_shipped = 0, b_shipped = 0, ref_a_shipped = 0, ref_b_shipped = 0;
  for (store::Replica* store : {a.get(), ref_a.get()}) REQUIRE(store->incr("k", 10));
  merge_all(*b, logged_after(*a, a_shipped), kA);
  merge_all(*ref_b, logged_after(*ref_a, ref_a_shipped), kA);
  for (store::Replica* store : {b.get(), ref_b.get()}) REQUIRE(store->del("k"));
  for (store::Replica* store : {a.get(), ref_a.get()}) REQUIRE(store->incr("k", 1));  // E, in flight to B.
  const std::vector<std::string> in_flight = logged_after(*a, a_shipped);
  const std::vector<std::string> ref_in_flight = logged_after(*ref_a, ref_a_shipped);
  REQUIRE(crdt::PnCounter::orphaned_resets(counter_record(*b, "k")).size() == 1);

  // A's report from before it saw the reset does not cover it: kept.
  CHECK(compact(*b, {report_of(*a)}).resets_dropped == 0);
  // A's report after seeing the reset covers it, but names dot A:2 (E), which B has not seen: kept.
  merge_all(*a, logged_after(*b, b_shipped), kB);
  merge_all(*ref_a, logged_after(*ref_b, ref_b_shipped), kB);
  const ReplicaReport a_saw_reset = report_of(*a);
  CHECK(compact(*b, {a_saw_reset}).resets_dropped == 0);
  REQUIRE(resets_in(*b, "k") == 1);

  // E arrives: B's value is the reference's (only the +1 the delete did not observe).
  merge_all(*b, in_flight, kA);
  merge_all(*ref_b, ref_in_flight, kA);
  CHECK(value_of(*b, "k") == value_of(*ref_b, "k"));
  CHECK(value_of(*b, "k") == std::optional<std::int64_t>(1));
  // Now B holds E, whose chain the reset subtracts from: still kept, whatever A reports.
  CHECK(compact(*b, {a_saw_reset, report_of(*a)}).resets_dropped == 0);
  CHECK(value_of(*b, "k") == std::optional<std::int64_t>(1));
  CHECK(value_of(*a, "k") == value_of(*ref_a, "k"));
}

TEST_CASE("counter gc: passes examine at most max_records counter records each and wrap around") {
  TempDir dir;
  auto a = open_store(dir.str() + "/a", replica_options(kA));
  auto b = open_store(dir.str() + "/b", replica_options(kB));
  const std::vector<std::string> keys{"c0", "c1", "c2", "c3", "c4"};
  for (const std::string& key : keys) REQUIRE(a->incr(key, 1));
  REQUIRE(a->put("register", "x"));
  ship_deltas(*a, *b);
  for (const std::string& key : keys) REQUIRE(b->del(key));
  // No report: nothing goes, and the passes walk the index two at a time.
  CompactionPass pass = compact(*b, {}, 2);
  CHECK(pass.records_examined == 2);
  CHECK_FALSE(pass.wrapped);
  pass = compact(*b, {}, 2);
  CHECK(pass.records_examined == 2);
  CHECK_FALSE(pass.wrapped);
  pass = compact(*b, {}, 2);  // c4, then wraps to c0.
  CHECK(pass.records_examined == 2);
  CHECK(pass.wrapped);
  pass = compact(*b, {}, 0);
  CHECK(pass.records_examined == 0);
  // With A's report, a large pass takes every record once, from where the last one stopped.
  ship_deltas(*b, *a);
  pass = compact(*b, {report_of(*a)}, 100);
  CHECK(pass.records_examined == keys.size());
  CHECK(pass.resets_dropped == keys.size());
  CHECK(pass.records_removed == keys.size());
  CHECK(pass.wrapped);
  for (const std::string& key : keys) CHECK(failure(b->kind(key)) == ErrorCode::kNotFound);
  auto kept = b->get("register");
  REQUIRE(kept.has_value());
  CHECK(kept->value == "x");
  check_tree_matches_records(*b);
}

TEST_CASE("counter gc: read-only stores refuse compaction and context_vector") {
  TempDir dir;
  { auto a = open_store(dir.str() + "/a", replica_options(kA)); }
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = open_store(dir.str() + "/a", read_only);
  CHECK(failure(reader->context_vector()) == ErrorCode::kUnavailable);
  CHECK(failure(reader->compact_counter_resets({}, 10)) == ErrorCode::kUnavailable);
}

TEST_CASE("counter gc: a store without the reset index gets it built when opened") {
  TempDir dir;
  const std::string a_path = dir.str() + "/a", b_path = dir.str() + "/b";
  {
    auto a = open_store(a_path, replica_options(kA));
    auto b = open_store(b_path, replica_options(kB));
    for (const char* key : {"x", "y", "z"}) REQUIRE(a->incr(key, 3));
    ship_deltas(*a, *b);
    REQUIRE(b->del("x"));
    REQUIRE(b->del("z"));
    ship_deltas(*b, *a);
  }
  {
    // Make B look like a store from before the index: its database emptied, no marker.
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 16);
    REQUIRE(mdb_env_open(env, b_path.c_str(), 0, 0644) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi resets = 0;
    REQUIRE(mdb_dbi_open(txn, "resets", 0, &resets) == 0);
    REQUIRE(mdb_drop(txn, resets, 1) == 0);
    MDB_dbi meta = 0;
    REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    MDB_val key{11, const_cast<char*>("reset_index")};
    REQUIRE(mdb_del(txn, meta, &key, nullptr) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto a = open_store(a_path, replica_options(kA));
  auto b = open_store(b_path, replica_options(kB));
  const CompactionPass pass = compact(*b, {report_of(*a)});
  CHECK(pass.records_examined == 2);
  CHECK(pass.resets_dropped == 2);
  CHECK(failure(b->kind("x")) == ErrorCode::kNotFound);
  CHECK(value_of(*b, "y") == std::optional<std::int64_t>(3));
  check_tree_matches_records(*b);
}

// ---- The property: compaction with truthful (stale) reports never changes any value. ----

// Replicas that run one history; two clusters run the same one, and only one of them compacts.
struct Cluster {
  Cluster(const std::string& root, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      replicas.push_back(open_store(root + "/r" + std::to_string(i), replica_options(0x100 + i)));
      shipped.push_back(0);
      reports.emplace_back();
    }
  }
  // Runs one operation on replica `i` and returns the delta-groups it logged (one message).
  std::vector<std::string> run(std::size_t i, int op, const std::string& key, std::uint64_t amount) {
    store::Replica& store = *replicas[i];
    std::uint64_t before = shipped[i];
    // Merged deltas logged since the last operation are not part of this message.
    logged_after(store, before);
    Status done = op == 0 ? store.incr(key, amount) : op == 1 ? store.decr(key, amount) : store.del(key);
    REQUIRE(done);
    shipped[i] = before;
    return logged_after(store, shipped[i]);
  }
  // Remembers replica `i`'s context as it is now, for a later (stale) report.
  void snapshot(std::size_t i) { reports[i].push_back(report_of(*replicas[i])); }

  std::vector<std::unique_ptr<store::Replica>> replicas;
  std::vector<std::uint64_t> shipped;
  std::vector<std::vector<ReplicaReport>> reports;
};

struct Message {
  std::size_t origin = 0;
  std::vector<std::string> compacted, reference;  // The same operation's deltas in each cluster.
  std::set<std::size_t> after;                    // The messages its origin had when it wrote it.
};

// Who has which message, and delivery that respects causality: a message reaches a replica only once
// that replica has every message its origin had. Concurrent messages still arrive in any order, and
// any message may arrive again.
//
// Why causal: the counter itself does not promise stable intermediate values under delivery out of
// causal order (a contributor's later delta can remove its own reset at a replica that still holds an
// older link of that chain, which then counts again until the links between arrive), and compaction
// changes which of those transient states a replica passes through. Out-of-causal-order delivery is
// what anti-entropy repairs; the property here is about the deltas gossip delivers.
class Network {
 public:
  Network(Cluster& compacted, Cluster& reference, std::size_t size)
      : compacted_(compacted), reference_(reference), has_(size) {}

  void sent(Message message) {
    message.after = has_[message.origin];
    has_[message.origin].insert(messages_.size());
    messages_.push_back(std::move(message));
  }
  bool can_deliver(std::size_t id, std::size_t to) const {
    const auto& after = messages_[id].after;
    return std::includes(has_[to].begin(), has_[to].end(), after.begin(), after.end());
  }
  void deliver(std::size_t id, std::size_t to) {
    REQUIRE(can_deliver(id, to));
    const Message& message = messages_[id];
    merge_all(*compacted_.replicas[to], message.compacted, compacted_.replicas[message.origin]->replica_id());
    merge_all(*reference_.replicas[to], message.reference, reference_.replicas[message.origin]->replica_id());
    has_[to].insert(id);
    compacted_.snapshot(to);
  }
  // The messages `to` may receive now: new ones whose causes it has, and ones it already has.
  std::vector<std::size_t> deliverable(std::size_t to) const {
    std::vector<std::size_t> ids;
    for (std::size_t id = 0; id < messages_.size(); ++id) {
      if (messages_[id].origin != to && can_deliver(id, to)) ids.push_back(id);
    }
    return ids;
  }
  bool has(std::size_t to, std::size_t id) const { return has_[to].contains(id); }
  std::size_t origin(std::size_t id) const { return messages_[id].origin; }
  std::size_t size() const { return messages_.size(); }

 private:
  Cluster& compacted_;
  Cluster& reference_;
  std::vector<Message> messages_;
  std::vector<std::set<std::size_t>> has_;
};

void check_values_equal(Cluster& compacted, Cluster& reference, std::size_t i,
                        const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    INFO("replica " << i << " key " << key);
    CHECK(shown(value_of(*compacted.replicas[i], key)) == shown(value_of(*reference.replicas[i], key)));
  }
}

TEST_CASE(
    "counter gc: compaction with stale truthful reports never changes a value, and clears deleted counters") {
  for_each_history("counter gc keeps values", 40, [](Rng& rng) {
    TempDir dir;
    const std::size_t size = 3 + rng.below(2);
    Cluster compacted(dir.str() + "/gc", size);
    Cluster reference(dir.str() + "/ref", size);
    Network network(compacted, reference, size);
    // Few keys, and links that are slow for a while (toggled at random), make the dangerous
    // interleaving common: a contributor hears of a delete and reports it while its own concurrent
    // increment is still held back on its way to the deleter.
    const std::vector<std::string> keys{"k0", "k1"};
    std::set<std::pair<std::size_t, std::size_t>> slow;  // (from, to)
    const int steps = 60 + static_cast<int>(rng.below(60));
    for (int step = 0; step < steps; ++step) {
      if (rng.below(8) == 0) {
        const std::pair<std::size_t, std::size_t> link{rng.below(size), rng.below(size)};
        if (!slow.erase(link)) slow.insert(link);
      }
      const std::uint64_t roll = rng.below(10);
      if (roll < 4 || network.size() == 0) {
        const std::size_t i = rng.below(size);
        const std::uint64_t kind = rng.below(5);  // incr, incr, decr, del, del.
        const int op = kind < 2 ? 0 : kind == 2 ? 1 : 2;
        const std::string& key = keys[rng.below(keys.size())];
        const std::uint64_t amount = 1 + rng.below(5);
        network.sent(Message{i, compacted.run(i, op, key, amount), reference.run(i, op, key, amount), {}});
        compacted.snapshot(i);
      } else if (roll < 7) {
        // One message reaches one replica: a new one (in any causal order; rarely over a slow link) or,
        // now and then, one it already has.
        const std::size_t to = rng.below(size);
        std::vector<std::size_t> fresh, again;
        for (std::size_t id : network.deliverable(to)) {
          if (network.has(to, id)) {
            again.push_back(id);
          } else if (!slow.contains({network.origin(id), to}) || rng.below(10) == 0) {
            fresh.push_back(id);
          }
        }
        const bool replay = !again.empty() && (fresh.empty() || rng.below(8) == 0);
        if (replay || !fresh.empty()) {
          network.deliver(replay ? again[rng.below(again.size())] : fresh[rng.below(fresh.size())], to);
          // Every moment, not just the end: a reset dropped too early shows as soon as the
          // contribution it had to cancel arrives (a later write of the contributor hides it again).
          check_values_equal(compacted, reference, to, keys);
        }
      } else {
        // A replica compacts with whatever stale reports it has of the others.
        const std::size_t i = rng.below(size);
        std::vector<ReplicaReport> reports;
        for (std::size_t r = 0; r < size; ++r) {
          if (compacted.reports[r].empty() || rng.below(5) == 0) continue;
          const auto& known = compacted.reports[r];
          reports.push_back(rng.below(2) == 0 ? known.back() : known[rng.below(known.size())]);
        }
        compact(*compacted.replicas[i], reports, 1 + rng.below(3));
        check_values_equal(compacted, reference, i, keys);
      }
    }
    // Everything reaches everyone (in a random causal order); then fresh reports, and all compact.
    for (std::size_t to = 0; to < size; ++to) {
      for (;;) {
        std::vector<std::size_t> fresh;
        for (std::size_t id : network.deliverable(to)) {
          if (!network.has(to, id)) fresh.push_back(id);
        }
        if (fresh.empty()) break;
        network.deliver(fresh[rng.below(fresh.size())], to);
      }
    }
    std::vector<ReplicaReport> reports;
    for (std::size_t r = 0; r < size; ++r) reports.push_back(report_of(*compacted.replicas[r]));
    for (std::size_t i = 0; i < size; ++i) {
      compact(*compacted.replicas[i], reports, kAll);
      check_values_equal(compacted, reference, i, keys);
      for (const std::string& key : keys) {
        INFO("replica " << i << " key " << key);
        const auto record = counter_record(*compacted.replicas[i], key);
        // Every contributor reported after seeing everything: no orphaned reset is left anywhere, and a
        // fully deleted counter is gone altogether.
        CHECK(crdt::PnCounter::orphaned_resets(record).empty());
        if (!value_of(*compacted.replicas[i], key)) {
          CHECK(record.empty());
          CHECK(failure(compacted.replicas[i]->kind(key)) == ErrorCode::kNotFound);
        }
      }
    }
    check_tree_matches_records(*compacted.replicas[rng.below(size)]);
  });
}

}  // namespace
}  // namespace cairn::test
