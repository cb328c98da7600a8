#include "gossip/dissemination.h"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

constexpr std::uint64_t kCluster = 7;

// A few peers, each a real store plus its Dissemination, wired by a router that delivers every message
// at once unless the test drops it.
struct Harness {
  struct Node {
    test::TempDir dir;
    std::unique_ptr<store::Replica> store;
    std::unique_ptr<Dissemination> gossip;
    Endpoint endpoint;
    PeerId id;
  };
  std::vector<std::unique_ptr<Node>> nodes;
  std::uint64_t now_ms = 0;
  int drop_next_pushes = 0;
  int drop_next_acks = 0;

  explicit Harness(int count, DisseminationOptions options = {}) {
    for (int i = 0; i < count; ++i) {
      auto node = std::make_unique<Node>();
      StoreOptions fast;
      fast.durability = Durability::kNoSync;
      node->store = test::open_store(node->dir.str(), fast);
      node->id = PeerId{node->store->replica_id()};
      node->endpoint = Endpoint{"10.0.0." + std::to_string(i + 1), 7400};
      node->gossip = std::make_unique<Dissemination>(node->id, node->endpoint, kCluster, *node->store, options);
      nodes.push_back(std::move(node));
    }
  }

  Node& at(int i) { return *nodes[static_cast<std::size_t>(i)]; }

  void link(int from, const std::vector<int>& to) {
    std::vector<Dissemination::Neighbour> neighbours;
    for (int i : to) neighbours.push_back({at(i).id, at(i).endpoint});
    at(from).gossip->set_neighbours(neighbours);
  }

  void deliver(Outbox out) {
    while (!out.empty()) {
      Outbox next;
      for (Outgoing& message : out) {
        const bool is_push = std::holds_alternative<DeltaPush>(message.envelope.body);
        int& drops = is_push ? drop_next_pushes : drop_next_acks;
        if (drops > 0) {
          --drops;
          continue;
        }
        for (auto& node : nodes) {
          if (node->endpoint == message.to) {
            Outbox replies = node->gossip->on_message(message.envelope, now_ms);
            next.insert(next.end(), replies.begin(), replies.end());
          }
        }
      }
      out = std::move(next);
    }
  }

  // One gossip round: every node ticks, and everything it sends (and the replies) is delivered.
  void round(std::uint64_t advance_ms = 100) {
    now_ms += advance_ms;
    for (auto& node : nodes) deliver(node->gossip->tick(now_ms));
  }
};

TEST_CASE("dissemination: a write reaches the neighbour, is acknowledged, and the log is trimmed") {
  Harness h(2);
  h.link(0, {1});
  h.link(1, {0});
  REQUIRE(h.at(0).store->put("k", "v"));
  h.round();
  CHECK(h.at(1).store->get("k")->value == "v");
  CHECK(h.at(0).gossip->acknowledged().at(h.at(1).id) == 1);
  h.round();  // The trim happens on the tick after the ack arrived.
  CHECK(h.at(0).store->deltas_since(0, 10)->empty());
  CHECK(h.at(0).gossip->stats().pushes_sent == 1);
}

TEST_CASE("limits: a push carries at most max_entries_per_push entries and max_bytes_per_push bytes") {
  for (const bool by_bytes : {false, true}) {
    INFO((by_bytes ? "bytes" : "entries"));
    DisseminationOptions options;
    options.max_entries_per_push = by_bytes ? 64 : 3;
    options.max_bytes_per_push = by_bytes ? 1 : std::size_t{4} << 20;  // 1 byte: one entry per push.
    const std::size_t cap = by_bytes ? 1 : 3;
    Harness h(2, options);
    h.link(0, {1});
    h.link(1, {0});
    for (int i = 0; i < 10; ++i) REQUIRE(h.at(0).store->put("k" + std::to_string(i), "v"));
    for (int round = 0; round < 40 && !h.at(1).store->get("k9"); ++round) {
      h.now_ms += 100;
      Outbox out = h.at(0).gossip->tick(h.now_ms);
      for (const Outgoing& message : out) {
        if (const auto* push = std::get_if<DeltaPush>(&message.envelope.body)) {
          CHECK(push->entries.size() <= cap);
          CHECK_FALSE(push->entries.empty());
        }
      }
      h.deliver(std::move(out));
      h.deliver(h.at(1).gossip->tick(h.now_ms));
    }
    for (int i = 0; i < 10; ++i) CHECK(h.at(1).store->get("k" + std::to_string(i)).has_value());
    CHECK(h.at(0).gossip->stats().pushes_sent >= 10 / cap);
  }
}

TEST_CASE("dissemination: a merged delta is forwarded onward but never back to its sender") {
  Harness h(3);  // A line: 0 - 1 - 2.
  h.link(0, {1});
  h.link(1, {0, 2});
  h.link(2, {1});
  REQUIRE(h.at(0).store->put("k", "from 0"));
  h.round();
  CHECK(h.at(2).store->get("k")->value == "from 0");  // 1 merged it mid-round, then pushed to 2.
  h.round();
  // Node 1 sent node 0's delta only to node 2, never back to node 0.
  CHECK(h.at(1).gossip->stats().entries_sent == 1);
  CHECK(h.at(0).gossip->stats().pushes_received == 0);
  // Node 1 still counts node 0 as having everything, so its log trims.
  CHECK(h.at(1).store->deltas_since(0, 10)->empty());
}

TEST_CASE("dissemination: a lost push is sent again after the resend delay") {
  DisseminationOptions options;
  options.resend_after_ms = 500;
  Harness h(2, options);
  h.link(0, {1});
  h.link(1, {0});
  REQUIRE(h.at(0).store->put("k", "v"));
  h.drop_next_pushes = 1;
  h.round(100);
  CHECK(h.at(1).store->get("k").error().code() == ErrorCode::kNotFound);
  h.round(100);  // Still within the resend delay: nothing sent.
  CHECK(h.at(0).gossip->stats().pushes_sent == 1);
  h.round(500);
  CHECK(h.at(1).store->get("k")->value == "v");
  CHECK(h.at(0).gossip->stats().resends == 1);
}

TEST_CASE("dissemination: after a lost ack the resend is acknowledged without merging again") {
  DisseminationOptions options;
  options.resend_after_ms = 500;
  Harness h(2, options);
  h.link(0, {1});
  h.link(1, {0});
  REQUIRE(h.at(0).store->put("k", "v"));
  h.drop_next_acks = 1;
  h.round(100);
  CHECK(h.at(1).store->get("k")->value == "v");
  CHECK(h.at(0).gossip->acknowledged().at(h.at(1).id) == 0);
  h.round(600);
  CHECK(h.at(0).gossip->acknowledged().at(h.at(1).id) == 1);
  CHECK(h.at(1).gossip->stats().entries_received == 2);
  CHECK(h.at(1).gossip->stats().entries_new == 1);
}

TEST_CASE("dissemination: the log is trimmed only once every neighbour has acknowledged") {
  Harness h(3);
  h.link(0, {1, 2});
  h.link(1, {0});
  h.link(2, {0});
  REQUIRE(h.at(0).store->put("k", "v"));
  h.drop_next_pushes = 1;  // Node 0's push to one of its two neighbours is lost.
  h.round();
  h.round();
  CHECK(h.at(0).store->deltas_since(0, 10)->size() == 1);
}

TEST_CASE("dissemination: a new neighbour behind the trimmed log is left to anti-entropy") {
  Harness h(3);
  h.link(0, {1});
  h.link(1, {0});
  REQUIRE(h.at(0).store->put("k", "v"));
  h.round();
  h.round();
  REQUIRE(h.at(0).store->deltas_since(0, 10)->empty());
  h.link(0, {1, 2});
  REQUIRE(h.at(0).store->put("k2", "v2"));
  h.round();
  CHECK(h.at(0).gossip->neighbours_needing_anti_entropy() == std::vector<PeerId>{h.at(2).id});
  CHECK(h.at(2).store->get("k2").error().code() == ErrorCode::kNotFound);
}

TEST_CASE("dissemination: an undecodable entry is counted, acknowledged and skipped") {
  Harness h(2);
  h.link(0, {1});
  h.link(1, {0});
  DeltaPush push;
  push.entries.push_back(DeltaPush::Entry{1, "garbage"});
  Outbox replies =
      h.at(1).gossip->on_message(Envelope{kCluster, h.at(0).id, h.at(0).endpoint, push}, h.now_ms);
  REQUIRE(replies.size() == 1);
  CHECK(std::get<DeltaAck>(replies.front().envelope.body).sequence == 1);
  CHECK(h.at(1).gossip->stats().entries_rejected == 1);
}

TEST_CASE("dissemination: a received push of many entries costs the receiver one commit") {
  Harness h(2);
  h.link(0, {1});
  h.link(1, {0});
  for (int i = 0; i < 30; ++i) REQUIRE(h.at(0).store->put("k" + std::to_string(i), "v"));
  const auto before = h.at(1).store->usage();
  REQUIRE(before);
  h.now_ms += 100;
  h.deliver(h.at(0).gossip->tick(h.now_ms));  // One push of the 30 entries, and its ack.
  const auto after = h.at(1).store->usage();
  REQUIRE(after);
  CHECK(h.at(0).gossip->stats().pushes_sent == 1);
  CHECK(h.at(1).gossip->stats().entries_new == 30);
  CHECK(after->commits - before->commits == 1);
  CHECK(h.at(0).gossip->acknowledged().at(h.at(1).id) == 30);
  for (int i = 0; i < 30; ++i) CHECK(h.at(1).store->get("k" + std::to_string(i))->value == "v");
}

TEST_CASE("dissemination: a garbage entry amid good ones is rejected alone and the push acknowledged") {
  Harness h(2);
  h.link(0, {1});
  h.link(1, {0});
  REQUIRE(h.at(0).store->put("a", "1"));
  REQUIRE(h.at(0).store->put("b", "2"));
  auto logged = h.at(0).store->deltas_since(0, 10);
  REQUIRE(logged->size() == 2);
  DeltaPush push;
  push.entries.push_back(DeltaPush::Entry{1, logged->at(0).bytes});
  push.entries.push_back(DeltaPush::Entry{2, "garbage"});
  push.entries.push_back(DeltaPush::Entry{3, logged->at(1).bytes});
  Outbox replies =
      h.at(1).gossip->on_message(Envelope{kCluster, h.at(0).id, h.at(0).endpoint, push}, h.now_ms);
  REQUIRE(replies.size() == 1);
  CHECK(std::get<DeltaAck>(replies.front().envelope.body).sequence == 3);
  CHECK(h.at(1).gossip->stats().entries_rejected == 1);
  CHECK(h.at(1).gossip->stats().entries_new == 2);
  CHECK(h.at(1).store->get("a")->value == "1");
  CHECK(h.at(1).store->get("b")->value == "2");
}

}  // namespace
}  // namespace cairn::gossip
