// Tests of gossip/membership.h: single machines fed hand-made messages, and clusters of machines wired
// together by a tiny in-test network with a virtual clock (seeded loss, a drop filter, crashes).
#include "gossip/membership.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gossip/wire.h"
#include "tests/support/property.h"

namespace cairn::gossip {
namespace {

constexpr std::uint64_t kClusterId = 0xCA1A;
constexpr std::uint64_t kStepMs = 10;  // The network's tick interval and its one-way delivery delay.

MembershipOptions test_options() {
  MembershipOptions options;
  options.protocol_period_ms = 200;
  options.ping_timeout_ms = 60;
  options.indirect_probes = 3;
  options.suspicion_timeout_ms = 1000;
  options.rejoin_seed_interval_ms = 400;
  return options;
}

PeerId peer_id(std::size_t index) { return PeerId{100 + index}; }
Endpoint peer_endpoint(std::size_t index) { return Endpoint{"10.0.0." + std::to_string(index + 1), 7400}; }

std::optional<MemberStatus> status_of(const Membership& observer, PeerId subject) {
  const auto members = observer.members();
  auto it = members.find(subject);
  if (it == members.end()) return std::nullopt;
  return it->second.status;
}

// Routes datagrams between Membership machines. Every step advances the virtual clock by kStepMs,
// delivers what was sent one step earlier (unless lost, dropped by the test's filter, or to or from a
// crashed peer) and ticks every running peer.
class Network {
 public:
  Network(std::size_t size, MembershipOptions options, std::uint64_t seed, std::uint64_t loss_percent = 0)
      : options_(options),
        seed_state_(seed),
        loss_rng_(splitmix64(seed_state_)),
        loss_percent_(loss_percent) {
    for (std::size_t i = 0; i < size; ++i) {
      peers_.push_back(make_peer(i));
      by_endpoint_[peer_endpoint(i)] = i;
    }
  }

  std::size_t size() const { return peers_.size(); }
  std::uint64_t now() const { return now_ms_; }
  Membership& peer(std::size_t index) { return *peers_[index]; }
  bool running(std::size_t index) const { return !crashed_.contains(index); }

  void join(std::size_t index, const std::vector<std::size_t>& seeds) {
    std::vector<Endpoint> endpoints;
    for (std::size_t seed : seeds) endpoints.push_back(peer_endpoint(seed));
    send(index, peers_[index]->join(endpoints, now_ms_));
  }
  void leave(std::size_t index) { send(index, peers_[index]->leave(now_ms_)); }
  void crash(std::size_t index) { crashed_.insert(index); }

  // A fresh machine with the same id and endpoint, restored from what the old one remembered.
  void restart(std::size_t index, const std::vector<std::size_t>& seeds) {
    std::vector<MemberUpdate> remembered;
    for (const auto& [id, member] : peers_[index]->members()) {
      remembered.push_back(MemberUpdate{id, member.endpoint, member.status, member.incarnation});
    }
    peers_[index] = make_peer(index);
    crashed_.erase(index);
    peers_[index]->restore(remembered, now_ms_);
    join(index, seeds);
  }

  void step() {
    now_ms_ += kStepMs;
    while (!in_flight_.empty() && in_flight_.front().deliver_ms <= now_ms_) {
      Flight flight = std::move(in_flight_.front());
      in_flight_.pop_front();
      deliver(flight);
    }
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (running(i)) send(i, peers_[i]->tick(now_ms_));
    }
    if (observer_) observer_();
  }

  void run_for(std::uint64_t duration_ms) {
    const std::uint64_t end = now_ms_ + duration_ms;
    while (now_ms_ < end) step();
  }

  // Steps until `done()` holds; false if it still does not after `limit_ms`.
  bool run_until(const std::function<bool()>& done, std::uint64_t limit_ms) {
    const std::uint64_t end = now_ms_ + limit_ms;
    while (!done()) {
      if (now_ms_ >= end) return false;
      step();
    }
    return true;
  }

  // Every running peer sees exactly the other running peers as reachable.
  bool converged() const {
    std::vector<PeerId> everyone;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (running(i)) everyone.push_back(peer_id(i));
    }
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (!running(i)) continue;
      std::vector<PeerId> expected = everyone;
      std::erase(expected, peer_id(i));
      if (peers_[i]->reachable_members() != expected) return false;
    }
    return true;
  }

  // Every running peer other than `subject` holds it with `status`.
  bool all_see(std::size_t subject, MemberStatus status) const {
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (i != subject && running(i) && status_of(*peers_[i], peer_id(subject)) != status) return false;
    }
    return true;
  }

  // Return true to drop a message (after loss, before delivery). `from` is the sender's index.
  std::function<bool(std::size_t from, const Outgoing&)> drop_if;
  // Called after every step.
  std::function<void()> observer_;
  // Every message sent, in order (for the determinism test).
  bool record = false;
  std::vector<Outgoing> sent;

 private:
  struct Flight {
    std::uint64_t deliver_ms = 0;
    std::size_t from = 0;
    Outgoing message;
  };

  std::unique_ptr<Membership> make_peer(std::size_t index) {
    return std::make_unique<Membership>(peer_id(index), peer_endpoint(index), kClusterId, options_,
                                        splitmix64(seed_state_));
  }

  void send(std::size_t from, Outbox outbox) {
    for (Outgoing& message : outbox) {
      if (record) sent.push_back(message);
      in_flight_.push_back(Flight{now_ms_ + kStepMs, from, std::move(message)});
    }
  }

  void deliver(const Flight& flight) {
    if (!running(flight.from)) return;  // A crashed peer's last datagrams die with it.
    auto to = by_endpoint_.find(flight.message.to);
    if (to == by_endpoint_.end() || !running(to->second)) return;
    if (loss_percent_ > 0 && loss_rng_.chance(loss_percent_, 100)) return;
    if (drop_if && drop_if(flight.from, flight.message)) return;
    send(to->second, peers_[to->second]->on_message(flight.message.envelope, now_ms_));
  }

  MembershipOptions options_;
  std::uint64_t seed_state_;
  Rng loss_rng_;
  std::uint64_t loss_percent_;
  std::uint64_t now_ms_ = 0;
  std::vector<std::unique_ptr<Membership>> peers_;
  std::map<Endpoint, std::size_t> by_endpoint_;
  std::set<std::size_t> crashed_;
  std::deque<Flight> in_flight_;
};

// All peers join through peer 0 at once, then run until they see each other.
void join_all_through_first(Network& net) {
  for (std::size_t i = 1; i < net.size(); ++i) net.join(i, {0});
  const std::uint64_t limit = 30 * test_options().protocol_period_ms;
  REQUIRE(net.run_until([&] { return net.converged(); }, limit));
}

Envelope envelope_from(PeerId sender, const Endpoint& endpoint, Body body) {
  return Envelope{kClusterId, sender, endpoint, std::move(body)};
}

template <typename T>
const T& body_of(const Outgoing& message) {
  const T* body = std::get_if<T>(&message.envelope.body);
  REQUIRE(body != nullptr);
  return *body;
}

bool has_update(const std::vector<MemberUpdate>& updates, const MemberUpdate& wanted) {
  return std::find(updates.begin(), updates.end(), wanted) != updates.end();
}

// ---- One machine, hand-made messages ----

TEST_CASE("membership: join pings each seed once, skipping itself, with its own record") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 1);
  const Outbox out = peer.join({peer_endpoint(1), peer_endpoint(0), peer_endpoint(2), peer_endpoint(1)}, 0);
  REQUIRE(out.size() == 2);
  CHECK(out[0].to == peer_endpoint(1));
  CHECK(out[1].to == peer_endpoint(2));
  for (const Outgoing& message : out) {
    CHECK(message.channel == Channel::kDatagram);
    CHECK(message.envelope.cluster_id == kClusterId);
    CHECK(message.envelope.sender == peer_id(0));
    CHECK(message.envelope.sender_endpoint == peer_endpoint(0));
    CHECK(has_update(body_of<Ping>(message).updates,
                     MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kAlive, 0}));
  }
  CHECK(peer.stats().pings_sent == 2);

  SECTION("while alone it re-pings the seeds every rejoin interval") {
    CHECK(peer.tick(200).empty());
    CHECK(peer.tick(399).empty());
    CHECK(peer.tick(400).size() == 2);
    CHECK(peer.tick(600).empty());
    CHECK(peer.tick(800).size() == 2);
  }
}

TEST_CASE("membership: an unknown sender is added, and a joiner's ack lists the members") {
  Membership seed(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 2);
  std::vector<MemberUpdate> known;
  for (std::size_t i = 10; i < 60; ++i) {
    known.push_back(MemberUpdate{peer_id(i),
                                 Endpoint{"host-with-a-rather-long-name-" + std::to_string(i), 7400},
                                 MemberStatus::kAlive, 3});
  }
  seed.restore(known, 0);
  CHECK(seed.take_changes().empty());  // Restored members are not changes.

  const Outbox out = seed.on_message(
      envelope_from(peer_id(1), peer_endpoint(1),
                    Ping{77, {MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kAlive, 4}}}),
      10);
  REQUIRE(out.size() == 1);
  CHECK(out[0].to == peer_endpoint(1));
  const PingAck& ack = body_of<PingAck>(out[0]);
  CHECK(ack.probe == 77);
  CHECK(has_update(ack.updates, MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kAlive, 0}));
  CHECK(ack.updates.size() > static_cast<std::size_t>(test_options().piggyback_limit));
  CHECK(ack.updates.size() <= Membership::kMaxJoinAckUpdates);
  CHECK(encode_peer_frame(out[0].envelope).size() <= kMaxDatagramBytes);
  std::set<PeerId> ids;
  for (const MemberUpdate& update : ack.updates) ids.insert(update.id);
  CHECK(ids.size() == ack.updates.size());

  const Member joiner = seed.members().at(peer_id(1));
  CHECK(joiner.status == MemberStatus::kAlive);
  CHECK(joiner.incarnation == 4);
  CHECK(joiner.endpoint == peer_endpoint(1));
  CHECK(seed.take_changes() ==
        std::vector<MemberUpdate>{{peer_id(1), peer_endpoint(1), MemberStatus::kAlive, 4}});

  SECTION("a second ping from it gets an ordinary ack") {
    const Outbox again = seed.on_message(envelope_from(peer_id(1), peer_endpoint(1), Ping{78, {}}), 20);
    REQUIRE(again.size() == 1);
    CHECK(body_of<PingAck>(again[0]).updates.size() <=
          static_cast<std::size_t>(test_options().piggyback_limit));
  }
}

TEST_CASE("membership: updates follow incarnation, then alive < suspect < dead < left") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 3);
  const PeerId m = peer_id(5);
  auto hear = [&](MemberStatus status, std::uint64_t incarnation) {
    peer.on_message(envelope_from(peer_id(1), peer_endpoint(1),
                                  Ping{1, {MemberUpdate{m, peer_endpoint(5), status, incarnation}}}),
                    100);
    const Member member = peer.members().at(m);
    return std::pair{member.status, member.incarnation};
  };
  using S = MemberStatus;
  CHECK(hear(S::kAlive, 2) == std::pair{S::kAlive, std::uint64_t{2}});
  CHECK(hear(S::kAlive, 1) == std::pair{S::kAlive, std::uint64_t{2}});    // Older.
  CHECK(hear(S::kSuspect, 1) == std::pair{S::kAlive, std::uint64_t{2}});  // Older.
  CHECK(hear(S::kSuspect, 2) == std::pair{S::kSuspect, std::uint64_t{2}});
  CHECK(hear(S::kAlive, 2) == std::pair{S::kSuspect, std::uint64_t{2}});  // Only a refutation clears it.
  CHECK(hear(S::kAlive, 3) == std::pair{S::kAlive, std::uint64_t{3}});
  CHECK(hear(S::kDead, 3) == std::pair{S::kDead, std::uint64_t{3}});
  CHECK(hear(S::kSuspect, 3) == std::pair{S::kDead, std::uint64_t{3}});
  CHECK(hear(S::kLeft, 3) == std::pair{S::kLeft, std::uint64_t{3}});
  CHECK(hear(S::kDead, 3) == std::pair{S::kLeft, std::uint64_t{3}});
  CHECK(hear(S::kAlive, 4) == std::pair{S::kAlive, std::uint64_t{4}});  // A returning one.
  const std::vector<PeerId> reachable = peer.reachable_members();
  CHECK(std::find(reachable.begin(), reachable.end(), m) != reachable.end());
}

TEST_CASE("membership: a peer suspected at its incarnation refutes with a higher one") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 4);
  peer.on_message(
      envelope_from(peer_id(1), peer_endpoint(1),
                    Ping{1, {MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kSuspect, 5}}}),
      0);
  CHECK(peer.incarnation() == 6);
  CHECK(peer.stats().refutations == 1);
  // An older suspicion changes nothing.
  peer.on_message(
      envelope_from(peer_id(1), peer_endpoint(1),
                    Ping{2, {MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kDead, 5}}}),
      10);
  CHECK(peer.incarnation() == 6);
  // The refutation rides on the next message.
  const Outbox out = peer.tick(20);
  REQUIRE(out.size() == 1);
  CHECK(has_update(body_of<Ping>(out[0]).updates,
                   MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kAlive, 6}));
}

TEST_CASE("membership: a silent member is suspected at the period's end, then dead after the timeout") {
  const MembershipOptions options = test_options();
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, options, 7);
  peer.restore({MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kDead, 2},
                MemberUpdate{peer_id(2), peer_endpoint(2), MemberStatus::kAlive, 0}},
               0);
  CHECK(peer.reachable_members() == std::vector<PeerId>{peer_id(1), peer_id(2)});  // Both as alive.

  // Probe both members in turn; member 2 answers directly, member 1 never does.
  std::map<PeerId, std::uint64_t> probes;
  std::vector<MemberUpdate> changes;
  std::uint64_t suspected_at = 0;
  for (std::uint64_t now = 0; now <= 4000; now += kStepMs) {
    for (const Outgoing& message : peer.tick(now)) {
      if (const auto* ping = std::get_if<Ping>(&message.envelope.body)) {
        if (message.to == peer_endpoint(2)) {
          peer.on_message(envelope_from(peer_id(2), peer_endpoint(2), PingAck{ping->probe, {}}), now);
        } else {
          ++probes[peer_id(1)];
        }
      } else if (const auto* request = std::get_if<PingRequest>(&message.envelope.body)) {
        CHECK(request->target == peer_id(1));
        CHECK(message.to == peer_endpoint(2));  // The only other member helps.
      }
    }
    for (const MemberUpdate& change : peer.take_changes()) {
      if (change.status == MemberStatus::kSuspect) suspected_at = now;
      changes.push_back(change);
    }
  }
  REQUIRE(changes.size() == 2);
  CHECK(changes[0] == MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kSuspect, 2});
  CHECK(changes[1] == MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kDead, 2});
  CHECK(suspected_at % options.protocol_period_ms == 0);  // At a period's end.
  const Member dead = peer.members().at(peer_id(1));
  CHECK(dead.status_since_ms == suspected_at + options.suspicion_timeout_ms);
  CHECK(peer.stats().suspicions == 1);
  CHECK(peer.stats().deaths == 1);
  CHECK(peer.members().at(peer_id(2)).status == MemberStatus::kAlive);
  // Pinged while alive, suspected (the suspicion itself goes to it too), then no more once dead.
  CHECK(probes[peer_id(1)] >= 2);
  const std::uint64_t before = probes[peer_id(1)];
  for (std::uint64_t now = 4010; now <= 6000; now += kStepMs) {
    for (const Outgoing& message : peer.tick(now)) CHECK_FALSE(message.to == peer_endpoint(1));
  }
  CHECK(probes[peer_id(1)] == before);
}

TEST_CASE("membership: an ack corrects a pinger that told older news") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 8);
  peer.restore({MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kAlive, 0},
                MemberUpdate{peer_id(5), peer_endpoint(5), MemberStatus::kAlive, 7}},
               0);
  const Outbox out = peer.on_message(
      envelope_from(peer_id(1), peer_endpoint(1),
                    Ping{9,
                         {MemberUpdate{peer_id(5), peer_endpoint(5), MemberStatus::kSuspect, 6},
                          MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kAlive, 0}}}),
      10);
  REQUIRE(out.size() == 1);
  const PingAck& ack = body_of<PingAck>(out[0]);
  CHECK(has_update(ack.updates, MemberUpdate{peer_id(5), peer_endpoint(5), MemberStatus::kAlive, 7}));
  CHECK(peer.members().at(peer_id(5)).status == MemberStatus::kAlive);
}

TEST_CASE("membership: after leaving, a ping is answered only with the departure") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 9);
  peer.restore({MemberUpdate{peer_id(1), peer_endpoint(1), MemberStatus::kAlive, 0}}, 0);
  const Outbox announced = peer.leave(10);
  REQUIRE(announced.size() == 1);
  const MemberUpdate departure{peer_id(0), peer_endpoint(0), MemberStatus::kLeft, 1};
  CHECK(body_of<Ping>(announced[0]).updates.front() == departure);
  CHECK(peer.tick(20).empty());
  const Outbox out = peer.on_message(envelope_from(peer_id(1), peer_endpoint(1), Ping{3, {}}), 30);
  REQUIRE(out.size() == 1);
  CHECK(body_of<PingAck>(out[0]).probe == 3);
  CHECK(body_of<PingAck>(out[0]).updates == std::vector<MemberUpdate>{departure});
  // Even a suspicion of it no longer makes it refute.
  peer.on_message(
      envelope_from(peer_id(1), peer_endpoint(1),
                    Ping{4, {MemberUpdate{peer_id(0), peer_endpoint(0), MemberStatus::kDead, 5}}}),
      40);
  CHECK(peer.incarnation() == 1);
}

TEST_CASE("membership: a helper pings the target for the requester and relays its ack") {
  Membership helper(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 5);
  const Outbox ping = helper.on_message(
      envelope_from(peer_id(1), peer_endpoint(1), PingRequest{42, peer_id(2), peer_endpoint(2), {}}), 0);
  REQUIRE(ping.size() == 1);
  CHECK(ping[0].to == peer_endpoint(2));
  const std::uint64_t own_probe = body_of<Ping>(ping[0]).probe;

  SECTION("the target's ack is relayed with the original probe number") {
    const Outbox relayed =
        helper.on_message(envelope_from(peer_id(2), peer_endpoint(2), PingAck{own_probe, {}}), 30);
    REQUIRE(relayed.size() == 1);
    CHECK(relayed[0].to == peer_endpoint(1));
    CHECK(body_of<PingAck>(relayed[0]).probe == 42);
  }
  SECTION("an ack from someone else under that number is not relayed") {
    CHECK(helper.on_message(envelope_from(peer_id(3), peer_endpoint(3), PingAck{own_probe, {}}), 30).empty());
  }
}

TEST_CASE("membership: envelopes from another cluster are ignored and counted") {
  Membership peer(peer_id(0), peer_endpoint(0), kClusterId, test_options(), 6);
  Envelope foreign = envelope_from(peer_id(1), peer_endpoint(1), Ping{1, {}});
  foreign.cluster_id = kClusterId + 1;
  CHECK(peer.on_message(foreign, 0).empty());
  CHECK(peer.members().empty());
  CHECK(peer.stats().other_cluster == 1);
  CHECK(peer.take_changes().empty());
}

// ---- Clusters ----

TEST_CASE("membership: three peers joining through one seed all learn each other") {
  Network net(3, test_options(), 11);
  net.join(1, {0});
  net.join(2, {0});
  REQUIRE(net.run_until([&] { return net.converged(); }, 5 * test_options().protocol_period_ms));
  std::vector<PeerId> learned;
  for (const MemberUpdate& change : net.peer(2).take_changes()) learned.push_back(change.id);
  std::sort(learned.begin(), learned.end());
  CHECK(learned == std::vector<PeerId>{peer_id(0), peer_id(1)});
}

TEST_CASE("membership: twenty peers joining through one seed converge within a few periods") {
  cairn::test::for_each_history("membership 20 joiners", 5, [](Rng& rng) {
    Network net(20, test_options(), rng.next());
    net.record = true;
    for (std::size_t i = 1; i < net.size(); ++i) net.join(i, {0});
    // Typically 4 or 5 periods; 10 was the slowest of 10,000 histories.
    REQUIRE(net.run_until([&] { return net.converged(); }, 15 * test_options().protocol_period_ms));
    net.run_for(10 * test_options().protocol_period_ms);
    CHECK(net.converged());
    for (std::size_t i = 0; i < net.size(); ++i) CHECK(net.peer(i).stats().suspicions == 0);
    // Every message, join acks included, fits in one datagram.
    std::size_t largest = 0;
    for (const Outgoing& message : net.sent)
      largest = std::max(largest, encode_peer_frame(message.envelope).size());
    CHECK(largest <= kMaxDatagramBytes);
  });
}

TEST_CASE("membership: a peer whose seeds never answer is isolated from its join until one answers") {
  Network net(3, test_options(), 7);
  net.crash(1);  // The seed: it receives nothing and answers nothing.
  net.join(2, {1});
  CHECK(net.peer(2).isolated_since_ms() == net.now());
  const std::uint64_t joined = net.now();
  net.run_for(3'000);
  CHECK(net.peer(2).isolated_since_ms() == joined);  // Still trying (every rejoin interval), still isolated.
  CHECK(net.peer(2).stats().pings_sent >= 3'000 / test_options().rejoin_seed_interval_ms);
  CHECK(net.peer(2).seeds() == std::vector<Endpoint>{peer_endpoint(1)});
  net.restart(1, {});  // The seed comes up; the next re-ping reaches it.
  REQUIRE(net.run_until([&] { return !net.peer(2).isolated_since_ms().has_value(); }, 2'000));
  CHECK(net.peer(2).reachable_members() == std::vector<PeerId>{peer_id(1)});
}

TEST_CASE("membership: a lone peer without seeds is not isolated, but one whose every member died is") {
  Network net(2, test_options(), 8);
  net.join(0, {});
  net.run_for(500);
  CHECK_FALSE(net.peer(0).isolated_since_ms().has_value());  // An edge peer alone, as it should be.
  net.join(1, {0});
  REQUIRE(net.run_until([&] { return net.converged(); }, 2'000));
  CHECK_FALSE(net.peer(0).isolated_since_ms().has_value());
  net.crash(1);
  REQUIRE(net.run_until([&] { return net.peer(0).isolated_since_ms().has_value(); }, 5'000));
  CHECK(status_of(net.peer(0), peer_id(1)) == MemberStatus::kDead);

  SECTION("but not once every member left on purpose") {
    Network left(2, test_options(), 9);
    left.join(0, {});
    left.join(1, {0});
    REQUIRE(left.run_until([&] { return left.converged(); }, 2'000));
    left.leave(1);
    REQUIRE(left.run_until([&] { return status_of(left.peer(0), peer_id(1)) == MemberStatus::kLeft; }, 2'000));
    left.run_for(500);
    CHECK_FALSE(left.peer(0).isolated_since_ms().has_value());
  }
}

TEST_CASE("membership: a crashed peer becomes suspect, then dead, everywhere") {
  cairn::test::for_each_history("membership crash", 10, [](Rng& rng) {
    const MembershipOptions options = test_options();
    Network net(6, options, rng.next());
    join_all_through_first(net);
    const auto victim = static_cast<std::size_t>(rng.below(net.size()));
    net.crash(victim);
    const std::uint64_t crashed_at = net.now();
    std::map<std::size_t, std::uint64_t> dead_at;
    bool suspected = false;
    net.observer_ = [&] {
      for (std::size_t i = 0; i < net.size(); ++i) {
        if (i == victim) continue;
        const auto status = status_of(net.peer(i), peer_id(victim));
        suspected = suspected || status == MemberStatus::kSuspect;
        if (status == MemberStatus::kDead && !dead_at.contains(i)) dead_at[i] = net.now();
      }
    };
    // Every peer probes the victim within two rounds of its shuffled round-robin; then the suspicion
    // timeout; then a few periods for the news to spread.
    const std::uint64_t first_probe_bound = 2 * (net.size() - 1) * options.protocol_period_ms;
    const std::uint64_t bound =
        first_probe_bound + options.suspicion_timeout_ms + 3 * options.protocol_period_ms;
    REQUIRE(net.run_until([&] { return net.all_see(victim, MemberStatus::kDead); }, bound));
    CHECK(suspected);
    for (const auto& [observer, at] : dead_at) {
      INFO("observer " << observer);
      CHECK(at >= crashed_at + options.ping_timeout_ms + options.suspicion_timeout_ms);
    }
    // The dead are kept, but no longer probed.
    net.record = true;
    net.run_for(5 * options.protocol_period_ms);
    for (const Outgoing& message : net.sent) CHECK_FALSE(message.to == peer_endpoint(victim));
    CHECK(net.converged());
  });
}

TEST_CASE("membership: a falsely suspected peer refutes and ends alive everywhere") {
  cairn::test::for_each_history("membership false suspicion", 10, [](Rng& rng) {
    const MembershipOptions options = test_options();
    Network net(5, options, rng.next());
    join_all_through_first(net);
    const auto victim = static_cast<std::size_t>(rng.below(net.size()));
    // The victim hears everything, but its acks are lost: it cannot answer probes.
    bool drop_acks = true;
    net.drop_if = [&](std::size_t from, const Outgoing& message) {
      return drop_acks && from == victim && std::holds_alternative<PingAck>(message.envelope.body);
    };
    bool ever_dead = false;
    net.observer_ = [&] {
      for (std::size_t i = 0; i < net.size(); ++i) {
        ever_dead = ever_dead || status_of(net.peer(i), peer_id(victim)) == MemberStatus::kDead;
      }
    };
    const auto suspected_somewhere = [&] {
      for (std::size_t i = 0; i < net.size(); ++i) {
        if (status_of(net.peer(i), peer_id(victim)) == MemberStatus::kSuspect) return true;
      }
      return false;
    };
    REQUIRE(net.run_until(suspected_somewhere, 20 * options.protocol_period_ms));
    net.run_for(2 * options.protocol_period_ms);
    drop_acks = false;
    const auto refuted_everywhere = [&] {
      for (std::size_t i = 0; i < net.size(); ++i) {
        if (i == victim) continue;
        const Member member = net.peer(i).members().at(peer_id(victim));
        if (member.status != MemberStatus::kAlive || member.incarnation != net.peer(victim).incarnation()) {
          return false;
        }
      }
      return true;
    };
    REQUIRE(net.run_until(refuted_everywhere, 10 * options.protocol_period_ms));
    CHECK(net.peer(victim).incarnation() > 0);
    CHECK(net.peer(victim).stats().refutations > 0);
    CHECK_FALSE(ever_dead);
    CHECK(net.converged());
  });
}

TEST_CASE("membership: a dead peer that restarts outbids its death and is alive again everywhere") {
  cairn::test::for_each_history("membership restart", 10, [](Rng& rng) {
    const MembershipOptions options = test_options();
    Network net(5, options, rng.next());
    join_all_through_first(net);
    const std::size_t victim = 1 + static_cast<std::size_t>(rng.below(net.size() - 1));
    net.crash(victim);
    REQUIRE(net.run_until([&] { return net.all_see(victim, MemberStatus::kDead); }, 20'000));
    std::uint64_t dead_incarnation = 0;
    for (std::size_t i = 0; i < net.size(); ++i) {
      if (i != victim) {
        dead_incarnation = std::max(dead_incarnation, net.peer(i).members().at(peer_id(victim)).incarnation);
      }
    }
    net.run_for(static_cast<std::uint64_t>(rng.below(10)) * options.protocol_period_ms);
    net.restart(victim, {0});
    CHECK(net.peer(victim).incarnation() == 0);
    REQUIRE(net.run_until([&] { return net.all_see(victim, MemberStatus::kAlive) && net.converged(); },
                          10 * options.protocol_period_ms));
    CHECK(net.peer(victim).incarnation() > dead_incarnation);
    CHECK(net.peer(victim).stats().refutations > 0);
  });
}

TEST_CASE("membership: a graceful leave is seen as left everywhere and never probed after") {
  cairn::test::for_each_history("membership leave", 10, [](Rng& rng) {
    const MembershipOptions options = test_options();
    Network net(6, options, rng.next());
    join_all_through_first(net);
    const auto leaver = static_cast<std::size_t>(rng.below(net.size()));
    const std::uint64_t incarnation_before = net.peer(leaver).incarnation();
    net.leave(leaver);
    CHECK(net.peer(leaver).incarnation() == incarnation_before + 1);
    CHECK(net.peer(leaver).tick(net.now() + 1).empty());
    CHECK(net.peer(leaver).leave(net.now() + 1).empty());
    REQUIRE(net.run_until([&] { return net.all_see(leaver, MemberStatus::kLeft); },
                          5 * options.protocol_period_ms));
    net.record = true;
    net.run_for(10 * options.protocol_period_ms);
    for (const Outgoing& message : net.sent) {
      CHECK_FALSE(message.to == peer_endpoint(leaver));
      CHECK(message.envelope.sender != peer_id(leaver));
      if (const auto* request = std::get_if<PingRequest>(&message.envelope.body)) {
        CHECK(request->target != peer_id(leaver));
      }
    }
    CHECK(net.all_see(leaver, MemberStatus::kLeft));
    for (std::size_t i = 0; i < net.size(); ++i) {
      if (i == leaver) continue;
      CHECK(net.peer(i).members().at(peer_id(leaver)).incarnation == incarnation_before + 1);
      CHECK(net.peer(i).stats().suspicions == 0);
    }
  });
}

TEST_CASE("membership: max_members bounds the table") {
  MembershipOptions options = test_options();
  options.max_members = 3;
  Network net(8, options, 16);
  for (std::size_t i = 1; i < net.size(); ++i) net.join(i, {0});
  for (int step = 0; step < 200; ++step) {
    net.step();
    for (std::size_t i = 0; i < net.size(); ++i) REQUIRE(net.peer(i).members().size() <= 3);
  }
  CHECK(net.peer(0).members().size() == 3);
  CHECK(net.peer(0).stats().ignored_full_table > 0);
}

TEST_CASE("membership: with 10% loss the cluster converges without false deaths") {
  cairn::test::for_each_history("membership under loss", 4, [](Rng& rng) {
    MembershipOptions options = test_options();
    options.suspicion_timeout_ms = 8 * options.protocol_period_ms;
    Network net(10, options, rng.next(), 10);
    for (std::size_t i = 1; i < net.size(); ++i) net.join(i, {0});
    bool ever_dead = false;
    net.observer_ = [&] {
      for (std::size_t i = 0; i < net.size(); ++i) {
        for (const MemberUpdate& change : net.peer(i).take_changes()) {
          ever_dead = ever_dead || change.status == MemberStatus::kDead;
        }
      }
    };
    REQUIRE(net.run_until([&] { return net.converged(); }, 30 * options.protocol_period_ms));
    net.run_for(300 * options.protocol_period_ms);
    CHECK_FALSE(ever_dead);
    for (std::size_t i = 0; i < net.size(); ++i) CHECK(net.peer(i).stats().deaths == 0);
    REQUIRE(net.run_until([&] { return net.converged(); }, 10 * options.protocol_period_ms));
  });
}

TEST_CASE("membership: the same seed gives the same messages") {
  auto run = [](std::uint64_t seed) {
    Network net(8, test_options(), seed, 5);
    net.record = true;
    for (std::size_t i = 1; i < net.size(); ++i) net.join(i, {0});
    net.run_for(10 * test_options().protocol_period_ms);
    net.crash(5);
    net.run_for(20 * test_options().protocol_period_ms);
    return std::move(net.sent);
  };
  const std::vector<Outgoing> first = run(99);
  const std::vector<Outgoing> second = run(99);
  REQUIRE(first.size() == second.size());
  REQUIRE_FALSE(first.empty());
  for (std::size_t i = 0; i < first.size(); ++i) {
    INFO("message " << i);
    REQUIRE(first[i].to == second[i].to);
    REQUIRE(first[i].channel == second[i].channel);
    REQUIRE(first[i].envelope == second[i].envelope);
  }
}

}  // namespace
}  // namespace cairn::gossip
