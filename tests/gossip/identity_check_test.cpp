// The gossip side of a replica's identity (docs/store.md "Identity"): a restarted peer ships none of
// its unconfirmed own dots (no delta push reaches past them, anti-entropy is declined), asks its
// members for their reports at once, confirms once every member it heard from has reported, reports
// its own entry without the unconfirmed dots, moves to a new id on a report showing another copy of
// it, and lets an abandoned predecessor id be retired.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gossip/dissemination.h"
#include "gossip/sim/store_pair.h"
#include "gossip/stability.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

constexpr std::uint64_t kCluster = 7;
const PeerId kMember{0xa1};
const Endpoint kMemberEndpoint{"10.0.0.2", 7400};

std::unique_ptr<store::Replica> fast_store(const std::string& path) {
  StoreOptions options;
  options.durability = Durability::kNoSync;
  return test::open_store(path, options);
}

// A store that was written to, closed and opened again (its id is no longer fresh), with its identity
// check started: the dots it mints from now on are unconfirmed.
std::unique_ptr<store::Replica> restarted_store(const std::string& path) {
  {
    auto store = fast_store(path);
    REQUIRE(store->put("old", "o"));
  }
  auto store = fast_store(path);
  REQUIRE(store->start_identity_check());
  REQUIRE(store->identity().unconfirmed_from == 2);
  return store;
}

std::vector<std::uint64_t> pushed_sequences(const Outbox& out) {
  std::vector<std::uint64_t> sequences;
  for (const Outgoing& message : out) {
    if (const auto* push = std::get_if<DeltaPush>(&message.envelope.body)) {
      for (const auto& entry : push->entries) sequences.push_back(entry.sequence);
    }
  }
  return sequences;
}

TEST_CASE("identity check: no delta push reaches the log entries of unconfirmed dots until they are confirmed") {
  test::TempDir dir;
  auto store = restarted_store(dir.str() + "/peer");
  const std::uint64_t held = store->identity().held_from_sequence;
  REQUIRE(held == 2);  // The put before the restart is entry 1.
  REQUIRE(store->put("new", "n"));
  Dissemination gossip(PeerId{store->replica_id()}, Endpoint{"10.0.0.1", 7400}, kCluster, *store);
  gossip.set_neighbours({{kMember, kMemberEndpoint}});
  CHECK(pushed_sequences(gossip.tick(1'000)) == std::vector<std::uint64_t>{1});
  gossip.on_message(Envelope{kCluster, kMember, kMemberEndpoint, DeltaAck{1}}, 1'001);
  CHECK(pushed_sequences(gossip.tick(2'000)).empty());  // Held, however often it ticks.
  CHECK(pushed_sequences(gossip.tick(10'000)).empty());
  REQUIRE(store->confirm_identity());
  CHECK(store->identity().held_from_sequence == 0);
  CHECK(pushed_sequences(gossip.tick(11'000)) == std::vector<std::uint64_t>{2});
}

TEST_CASE("identity check: a peer with unconfirmed dots declines anti-entropy rounds and starts none") {
  test::TempDir dir;
  auto fresh = fast_store(dir.str() + "/fresh");
  auto restarted = restarted_store(dir.str() + "/restarted");
  REQUIRE(restarted->put("unconfirmed", "u"));
  REQUIRE(fresh->put("theirs", "t"));
  {
    sim::StorePair pair(*fresh, *restarted);  // The fresh peer asks; the restarted one declines.
    const auto declined = pair.reconcile();
    CHECK_FALSE(declined.completed);
    CHECK(pair.a().stats().rounds_declined == 1);
    CHECK(pair.b().stats().records_sent == 0);
    CHECK_FALSE(fresh->get("unconfirmed"));
  }
  {
    sim::StorePair pair(*restarted, *fresh);  // The restarted peer starts no round at all.
    const auto none = pair.reconcile();
    CHECK_FALSE(none.completed);
    CHECK(none.frames == 0);
  }
  REQUIRE(restarted->confirm_identity());
  sim::StorePair pair(*fresh, *restarted);
  CHECK(pair.reconcile().in_sync);
  CHECK(fresh->get("unconfirmed")->value == "u");
  CHECK(restarted->get("theirs")->value == "t");
}

// A Stability machine over a restarted store, with a membership that heard from one member.
struct Fixture {
  test::TempDir dir;
  std::unique_ptr<store::Replica> store = restarted_store(dir.str());
  PeerId self{store->replica_id()};
  Membership membership{self, Endpoint{"10.0.0.1", 7400}, kCluster, MembershipOptions{}, 1};
  Stability stability{self, Endpoint{"10.0.0.1", 7400}, kCluster, *store, options()};

  static StabilityOptions options() {
    StabilityOptions options;
    options.retire_after_ms = 0;
    return options;
  }

  Fixture() {
    membership.on_message(Envelope{kCluster, kMember, kMemberEndpoint, Ping{1, {}}}, 10);
    stability.start(membership);
  }

  Outbox report_from(ContextReport report, std::uint64_t now_ms) {
    return stability.on_message(Envelope{kCluster, kMember, kMemberEndpoint, std::move(report)}, now_ms, membership);
  }
};

std::vector<const ContextReport*> reports_in(const Outbox& out) {
  std::vector<const ContextReport*> reports;
  for (const Outgoing& message : out) {
    if (const auto* report = std::get_if<ContextReport>(&message.envelope.body)) reports.push_back(report);
  }
  return reports;
}

std::uint64_t entry_for(const ContextReport& report, PeerId replica) {
  for (const VectorEntry& entry : report.vector) {
    if (entry.replica == replica) return entry.counter;
  }
  return 0;
}

TEST_CASE("identity check: a restarted peer asks for reports at once, reports none of its unconfirmed dots, and confirms once its members reported") {
  Fixture f;
  REQUIRE(f.store->put("unconfirmed", "u"));  // Own dot 2: unconfirmed.
  const Outbox out = f.stability.tick(100, f.membership);
  const auto asked = reports_in(out);
  // One request to the member (reply wanted), and the periodic report; neither names dot 2.
  REQUIRE_FALSE(asked.empty());
  CHECK(std::any_of(asked.begin(), asked.end(), [](const ContextReport* report) { return report->reply_wanted; }));
  for (const ContextReport* report : asked) CHECK(entry_for(*report, f.self) == 1);
  CHECK(f.stability.stats().report_requests_sent == 1);
  // Asked again only after confirm_request_interval_ms.
  f.stability.tick(150, f.membership);
  CHECK(f.stability.stats().report_requests_sent == 1);
  f.stability.tick(400, f.membership);
  CHECK(f.stability.stats().report_requests_sent == 2);
  CHECK(f.store->identity().unconfirmed_from == 2);

  // The member's report, which never saw dot 2: confirmed at the next tick.
  f.report_from(ContextReport{{{f.self, 1}}, {}, {}}, 420);
  f.stability.tick(450, f.membership);
  CHECK(f.store->identity().unconfirmed_from == 0);
  CHECK(f.stability.stats().identity_confirmations == 1);
  CHECK(f.store->replica_id() == f.self.value);
}

TEST_CASE("identity check: a member asking for a report gets one at once, at most every reply_interval_ms") {
  Fixture f;
  ContextReport asking{{{f.self, 1}}, {}, {}};
  asking.reply_wanted = true;
  const Outbox answer = f.report_from(asking, 1'000);
  const auto first = reports_in(answer);
  REQUIRE(first.size() == 1);
  CHECK_FALSE(first[0]->reply_wanted);
  CHECK(reports_in(f.report_from(asking, 1'050)).empty());
  CHECK(reports_in(f.report_from(asking, 1'100)).size() == 1);
  CHECK(reports_in(f.report_from(ContextReport{{{f.self, 1}}, {}, {}}, 2'000)).empty());
}

TEST_CASE("identity check: a report holding a dot the restarted peer never shipped moves its store to a new id") {
  Fixture f;
  REQUIRE(f.store->put("unconfirmed", "u"));  // Dot 2 here; another copy minted its own dot 2.
  f.report_from(ContextReport{{{f.self, 2}}, {}, {}}, 100);
  CHECK(f.stability.stats().identity_conflicts == 1);
  CHECK(f.store->replica_id() != f.self.value);
  REQUIRE(f.store->identity().last_change.has_value());
  CHECK(f.store->identity().last_change->emptied);
  CHECK(f.store->identity().predecessors == std::vector<std::uint64_t>{f.self.value});
}

TEST_CASE("identity check: a gap past the unconfirmed dots shows another copy too") {
  Fixture f;
  f.report_from(ContextReport{{}, {}, {{f.self, 5}}}, 100);
  CHECK(f.stability.stats().identity_conflicts == 1);
  CHECK(f.store->replica_id() != f.self.value);
  CHECK_FALSE(f.store->identity().last_change->emptied);  // It had minted nothing unconfirmed.
}

TEST_CASE("identity check: an abandoned predecessor id can be retired although no member ever ran as it") {
  test::TempDir dir;
  auto store = fast_store(dir.str());
  REQUIRE(store->put("k", "v"));
  const PeerId predecessor{store->replica_id()};
  REQUIRE(store->adopt_new_identity());
  const PeerId self{store->replica_id()};
  Membership membership{self, Endpoint{"10.0.0.1", 7400}, kCluster, MembershipOptions{}, 1};
  membership.on_message(Envelope{kCluster, kMember, kMemberEndpoint, Ping{1, {}}}, 10);
  StabilityOptions options;
  options.retire_after_ms = 1'000;
  Stability stability{self, Endpoint{"10.0.0.1", 7400}, kCluster, *store, options};
  stability.start(membership);

  // An operator may name it; an id nobody knows is still refused.
  REQUIRE(stability.propose_retirement(predecessor, 20, membership));
  CHECK(stability.propose_retirement(PeerId{0x5555}, 20, membership).error().code() == ErrorCode::kNotFound);
  stability.tick(30, membership);
  CHECK(stability.retired().empty());  // The member has not reported on it yet.
  stability.on_message(Envelope{kCluster, kMember, kMemberEndpoint, ContextReport{{{predecessor, 1}}, {}, {}}}, 40,
                       membership);
  stability.tick(50, membership);
  REQUIRE(stability.retired().contains(predecessor));
  CHECK(stability.retired().at(predecessor) == 1);

  // With no operator, the horizon proposes it once it has been unreachable that long.
  test::TempDir other_dir;
  auto other = fast_store(other_dir.str());
  REQUIRE(other->put("k", "v"));
  const PeerId old_id{other->replica_id()};
  REQUIRE(other->adopt_new_identity());
  Membership other_membership{PeerId{other->replica_id()}, Endpoint{"10.0.0.3", 7400}, kCluster, MembershipOptions{}, 1};
  // A member that has not reported yet keeps the proposal pending, so it can be seen.
  other_membership.on_message(Envelope{kCluster, kMember, kMemberEndpoint, Ping{1, {}}}, 10);
  Stability horizon{PeerId{other->replica_id()}, Endpoint{"10.0.0.3", 7400}, kCluster, *other, options};
  horizon.start(other_membership);
  horizon.tick(100, other_membership);
  CHECK(horizon.pending(other_membership).empty());
  horizon.tick(1'200, other_membership);
  const auto pending = horizon.pending(other_membership);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].replica == old_id);
  CHECK_FALSE(pending[0].by_operator);
}

}  // namespace
}  // namespace cairn::gossip
