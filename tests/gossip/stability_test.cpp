#include "gossip/stability.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "gossip/wire.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

constexpr std::uint64_t kCluster = 7;
const PeerId kAlive{0xa1};
const PeerId kOther{0xa2};
const PeerId kDead{0xdead};

// One Stability machine over a real store, with a membership that knows one alive member (kAlive)
// and one dead one (kDead), as told by kAlive's ping.
struct Fixture {
  test::TempDir dir;
  std::unique_ptr<store::Replica> store = test::open_store(dir.str());
  PeerId self{store->replica_id()};
  Membership membership{self, Endpoint{"10.0.0.1", 7400}, kCluster, MembershipOptions{}, 1};
  Stability stability{self, Endpoint{"10.0.0.1", 7400}, kCluster, *store, options()};

  static StabilityOptions options() {
    StabilityOptions options;
    options.retire_after_ms = 0;
    return options;
  }

  Fixture() {
    membership.on_message(
        Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400},
                 Ping{1, {MemberUpdate{kDead, Endpoint{"10.0.0.9", 7400}, MemberStatus::kDead, 3}}}},
        0);
    stability.start(membership);
  }

  void report_from(PeerId sender, ContextReport report, std::uint64_t now_ms) {
    stability.on_message(Envelope{kCluster, sender, Endpoint{"10.0.0.2", 7400}, std::move(report)}, now_ms,
                         membership);
  }
};

TEST_CASE("stability: who may be retired, and the errors that say why not") {
  Fixture f;
  REQUIRE(f.membership.members().at(kAlive).status == MemberStatus::kAlive);
  REQUIRE(f.membership.members().at(kDead).status == MemberStatus::kDead);

  auto self = f.stability.propose_retirement(f.self, 10, f.membership);
  REQUIRE_FALSE(self);
  CHECK(self.error().code() == ErrorCode::kInvalidArgument);
  auto alive = f.stability.propose_retirement(kAlive, 10, f.membership);
  REQUIRE_FALSE(alive);
  CHECK(alive.error().code() == ErrorCode::kInvalidArgument);
  CHECK(alive.error().message().find("reachable") != std::string::npos);
  auto unknown = f.stability.propose_retirement(PeerId{0x5555}, 10, f.membership);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == ErrorCode::kNotFound);

  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  const auto pending = f.stability.pending(f.membership);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].replica == kDead);
  CHECK(pending[0].by_operator);
  CHECK(pending[0].waiting_for == std::vector<PeerId>{kAlive});
}

TEST_CASE("stability: a retirement is decided only on reports newer than the proposal that agree on its last dot") {
  Fixture f;
  REQUIRE(f.stability.propose_retirement(kDead, 100, f.membership));

  // A report from before the proposal says nothing about dots of kDead that arrived since.
  f.report_from(kAlive, ContextReport{}, 50);
  f.stability.tick(60, f.membership);
  CHECK(f.stability.retired().empty());

  // A newer report that has seen more of kDead than we have: not yet (we would drop those dots).
  f.report_from(kAlive, ContextReport{{{kDead, 4}}, {}, {}}, 150);
  f.stability.tick(160, f.membership);
  CHECK(f.stability.retired().empty());
  CHECK(f.stability.pending(f.membership).at(0).waiting_for == std::vector<PeerId>{kAlive});

  // Once this peer has the same four dots of kDead, everyone reachable agrees: decided at 4.
  test::TempDir source_dir;
  StoreOptions dead_options;
  dead_options.replica_id_for_new_store = kDead.value;
  auto dead_store = test::open_store(source_dir.str(), dead_options);
  for (int i = 0; i < 4; ++i) REQUIRE(dead_store->put("k" + std::to_string(i), "v"));
  test::ship_deltas(*dead_store, *f.store);
  f.stability.tick(170, f.membership);
  REQUIRE(f.stability.retired().contains(kDead));
  CHECK(f.stability.retired().at(kDead) == 4);
  CHECK(f.stability.stats().retirements_decided == 1);
  CHECK_FALSE(f.membership.members().contains(kDead));
  auto stored = f.store->retirements();
  REQUIRE(stored.has_value());
  CHECK(*stored == std::vector<Retirement>{{kDead.value, 4}});

  // Updates about the retired replica no longer bring it back into membership.
  f.membership.on_message(
      Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400},
               Ping{2, {MemberUpdate{kDead, Endpoint{"10.0.0.9", 7400}, MemberStatus::kAlive, 9}}}},
      200);
  CHECK_FALSE(f.membership.members().contains(kDead));
}

// A store whose replica is kDead holding `writes` register writes, the deltas of which other stores merge.
std::unique_ptr<store::Replica> dead_replica_store(const test::TempDir& dir, int writes) {
  StoreOptions options;
  options.replica_id_for_new_store = kDead.value;
  auto store = test::open_store(dir.str(), options);
  for (int i = 0; i < writes; ++i) REQUIRE(store->put("k" + std::to_string(i), "v"));
  return store;
}

TEST_CASE("stability: after a restart a retired member stays forgotten and is never retired again") {
  Fixture f;
  test::TempDir dead_dir;
  auto dead_store = dead_replica_store(dead_dir, 3);
  test::ship_deltas(*dead_store, *f.store);
  StabilityOptions options;
  options.retire_after_ms = 1000;
  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  f.report_from(kAlive, ContextReport{{{kDead, 3}}, {}, {}}, 20);
  f.stability.tick(30, f.membership);
  REQUIRE(f.stability.retired().at(kDead) == 3);

  // A restart: new machines over the same store, the peers table still remembering kDead.
  Membership membership{f.self, Endpoint{"10.0.0.1", 7400}, kCluster, MembershipOptions{}, 2};
  Stability stability{f.self, Endpoint{"10.0.0.1", 7400}, kCluster, *f.store, options};
  stability.start(membership);
  membership.restore({MemberUpdate{kAlive, Endpoint{"10.0.0.2", 7400}, MemberStatus::kAlive, 1},
                      MemberUpdate{kDead, Endpoint{"10.0.0.9", 7400}, MemberStatus::kDead, 3}},
                     100);
  CHECK_FALSE(membership.members().contains(kDead));
  // Long past the horizon, with reports that (rightly) no longer mention it: nothing changes.
  for (std::uint64_t t = 200; t < 60'000; t += 500) {
    // kAlive answers every probe, so only a ghost of kDead could be found dead and proposed.
    for (const Outgoing& message : membership.tick(t)) {
      if (const auto* ping = std::get_if<Ping>(&message.envelope.body)) {
        membership.on_message(Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400}, PingAck{ping->probe, {}}}, t);
      }
    }
    stability.on_message(Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400}, ContextReport{{}, {{kDead, 3}}, {}}},
                         t, membership);
    stability.tick(t + 1, membership);
  }
  CHECK(stability.stats().retirements_decided == 0);
  auto table = f.store->retirements();
  REQUIRE(table.has_value());
  CHECK(*table == std::vector<Retirement>{{kDead.value, 3}});
  CHECK(f.store->get("k0").has_value());  // Its data stays.
}

TEST_CASE("stability: no retirement while a dot of the replica is seen past a gap, here or at a member") {
  Fixture f;
  test::TempDir dead_dir;
  auto dead_store = dead_replica_store(dead_dir, 3);
  auto deltas = dead_store->deltas_since(0, 100);
  REQUIRE(deltas.has_value());
  REQUIRE(deltas->size() == 3);
  // Dots 1 and 3 arrived (say, from an anti-entropy round cut short); dot 2 did not.
  REQUIRE(f.store->merge_delta((*deltas)[0].bytes, kDead.value));
  REQUIRE(f.store->merge_delta((*deltas)[2].bytes, kDead.value));
  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  f.report_from(kAlive, ContextReport{{{kDead, 1}}, {}, {{kDead, 3}}}, 20);
  f.stability.tick(30, f.membership);
  CHECK(f.stability.retired().empty());  // Deciding at 1 would drop dot 3, which live peers hold.
  auto pending = f.stability.pending(f.membership);
  REQUIRE(pending.size() == 1);
  std::vector<PeerId> expected{f.self, kAlive};
  std::sort(expected.begin(), expected.end());
  CHECK(pending[0].waiting_for == expected);
  CHECK(f.store->get("k2").has_value());

  // The gap fills everywhere: decided at 3, nothing lost.
  REQUIRE(f.store->merge_delta((*deltas)[1].bytes, kDead.value));
  f.report_from(kAlive, ContextReport{{{kDead, 3}}, {}, {}}, 40);
  f.stability.tick(50, f.membership);
  REQUIRE(f.stability.retired().contains(kDead));
  CHECK(f.stability.retired().at(kDead) == 3);
  CHECK(f.store->get("k2").has_value());
}

TEST_CASE("stability: a peer that reaches no majority of the members retires no one") {
  Fixture f;
  // Two more members, both dead from here: this peer reaches kAlive only, 2 of the 4 left besides kDead.
  for (std::uint64_t id : {0xb1, 0xb2}) {
    f.membership.on_message(
        Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400},
                 Ping{id, {MemberUpdate{PeerId{id}, Endpoint{"10.0.0.7", 7400}, MemberStatus::kDead, 1}}}},
        0);
  }
  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  f.report_from(kAlive, ContextReport{}, 20);
  f.stability.tick(30, f.membership);
  CHECK(f.stability.retired().empty());
  auto pending = f.stability.pending(f.membership);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].waiting_for == std::vector<PeerId>{PeerId{0xb1}, PeerId{0xb2}});
}

TEST_CASE("stability: a gap reported once stands until the member's vector passes it, whatever order reports arrive in") {
  Fixture f;
  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  f.report_from(kAlive, ContextReport{{}, {}, {{kDead, 3}}}, 20);  // The newer report, arrived first.
  f.report_from(kAlive, ContextReport{}, 30);                      // An older one, arrived last.
  f.stability.tick(40, f.membership);
  CHECK(f.stability.retired().empty());
  CHECK(f.stability.pending(f.membership).at(0).waiting_for == std::vector<PeerId>{kAlive});
}

TEST_CASE("stability: an unreachable member that may hold the replica's dots must report, unless it is retired too or left") {
  Fixture f;
  const PeerId kQuiet{0xb1};
  const PeerId kLeaver{0xb2};
  f.membership.on_message(
      Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400},
               Ping{7, {MemberUpdate{kQuiet, Endpoint{"10.0.0.7", 7400}, MemberStatus::kDead, 1},
                        MemberUpdate{kLeaver, Endpoint{"10.0.0.8", 7400}, MemberStatus::kLeft, 1}}}},
      0);
  REQUIRE(f.stability.propose_retirement(kDead, 10, f.membership));
  f.report_from(kAlive, ContextReport{}, 20);
  f.stability.tick(30, f.membership);
  CHECK(f.stability.retired().empty());  // kQuiet may hold dots of kDead nobody else has.
  CHECK(f.stability.pending(f.membership).at(0).waiting_for == std::vector<PeerId>{kQuiet});
  // Once kQuiet is proposed too, neither waits for the other (nor for kLeaver, which left).
  REQUIRE(f.stability.propose_retirement(kQuiet, 40, f.membership));
  f.report_from(kAlive, ContextReport{}, 50);
  f.stability.tick(60, f.membership);
  CHECK(f.stability.retired().contains(kDead));
  CHECK(f.stability.retired().contains(kQuiet));
}

TEST_CASE("stability: a member that comes back cancels the proposal to retire it") {
  Fixture f;
  REQUIRE(f.stability.propose_retirement(kDead, 100, f.membership));
  // It refutes its death with a higher incarnation, as a restarted peer does.
  f.membership.on_message(
      Envelope{kCluster, kDead, Endpoint{"10.0.0.9", 7400},
               Ping{5, {MemberUpdate{kDead, Endpoint{"10.0.0.9", 7400}, MemberStatus::kAlive, 4}}}},
      150);
  REQUIRE(f.membership.members().at(kDead).status == MemberStatus::kAlive);
  f.report_from(kAlive, ContextReport{}, 160);
  f.stability.tick(170, f.membership);
  CHECK(f.stability.retired().empty());
  CHECK(f.stability.pending(f.membership).empty());
}

TEST_CASE("stability: retirements learned from a report are stored, and a retired sender is told, at most once a second") {
  Fixture f;
  f.report_from(kAlive, ContextReport{{}, {{kDead, 2}}, {}}, 10);
  REQUIRE(f.stability.retired().contains(kDead));
  CHECK(f.stability.stats().retirements_learned == 1);
  CHECK_FALSE(f.membership.members().contains(kDead));

  const Envelope from_retired{kCluster, kDead, Endpoint{"10.0.0.9", 7400}, Ping{1, {}}};
  CHECK(f.stability.is_retired(kDead));
  Outbox first = f.stability.answer_retired(from_retired, 1000);
  REQUIRE(first.size() == 1);
  CHECK(first[0].to == Endpoint{"10.0.0.9", 7400});
  REQUIRE(std::holds_alternative<RetiredNotice>(first[0].envelope.body));
  CHECK(std::get<RetiredNotice>(first[0].envelope.body).through == 2);
  CHECK(std::get<RetiredNotice>(first[0].envelope.body).replica == kDead);
  CHECK(f.stability.answer_retired(from_retired, 1500).empty());
  CHECK(f.stability.answer_retired(from_retired, 2000).size() == 1);
}

TEST_CASE("stability: a peer told it was retired reincarnates its store under a new id") {
  Fixture f;
  const std::uint64_t old_id = f.store->replica_id();
  REQUIRE(f.store->put("mine", "unsynced"));
  // A notice about another replica (an id this peer no longer has, say) changes nothing.
  f.stability.on_message(Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400}, RetiredNotice{PeerId{old_id + 1}, 0}},
                         5, f.membership);
  CHECK_FALSE(f.stability.reincarnated());
  CHECK(f.store->replica_id() == old_id);
  f.stability.on_message(Envelope{kCluster, kAlive, Endpoint{"10.0.0.2", 7400}, RetiredNotice{PeerId{old_id}, 0}},
                         10, f.membership);
  CHECK(f.stability.reincarnated());
  CHECK(f.store->replica_id() != old_id);
  auto pending = f.store->has_retired_writes();
  REQUIRE(pending.has_value());
  CHECK(*pending);
  CHECK(f.stability.tick(20, f.membership).empty());  // Done: gossip::Peer starts over.
}

TEST_CASE("stability: reports go to every reachable member with the vector and the retirements") {
  Fixture f;
  f.membership.on_message(Envelope{kCluster, kOther, Endpoint{"10.0.0.3", 7400}, Ping{1, {}}}, 0);
  REQUIRE(f.store->put("k", "v"));
  f.report_from(kAlive, ContextReport{{}, {{kDead, 1}}, {}}, 0);
  Outbox out = f.stability.tick(10, f.membership);
  std::vector<Endpoint> to;
  for (const Outgoing& message : out) {
    REQUIRE(std::holds_alternative<ContextReport>(message.envelope.body));
    const auto& report = std::get<ContextReport>(message.envelope.body);
    CHECK(report.vector == std::vector<VectorEntry>{{f.self, 1}});
    CHECK(report.retirements == std::vector<RetiredReplica>{{kDead, 1}});
    CHECK(message.channel == Channel::kDatagram);  // Small enough for one.
    to.push_back(message.to);
  }
  std::sort(to.begin(), to.end());
  CHECK(to == std::vector<Endpoint>{{"10.0.0.2", 7400}, {"10.0.0.3", 7400}});
  CHECK(f.stability.tick(20, f.membership).empty());  // Not again before the interval.
}

}  // namespace
}  // namespace cairn::gossip

namespace cairn::gossip {
namespace {

TEST_CASE("stability: a report of kMaxDatagramReportEntries entries fits one sealed datagram") {
  ContextReport report;
  for (std::uint64_t i = 0; i < kMaxDatagramReportEntries; ++i) {
    report.vector.push_back(VectorEntry{PeerId{UINT64_MAX - kMaxDatagramReportEntries + i}, UINT64_MAX});
  }
  const Envelope envelope{UINT64_MAX, PeerId{UINT64_MAX}, Endpoint{std::string(kMaxHostBytes, 'h'), 65535},
                          report};
  REQUIRE(validate_envelope(envelope));
  CHECK(kFrameHeaderBytes + encode_peer_payload(envelope).size() + kSealOverheadBytes <= kMaxDatagramBytes);
}

}  // namespace
}  // namespace cairn::gossip
