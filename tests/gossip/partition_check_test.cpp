// A peer with another partition count is refused at every frame, both sides say why, and the two never
// exchange data (gossip::Peer::open_frame, docs/partitions.md "Checked at every join").
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gossip/peer.h"
#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

PeerOptions fast_insecure_options() {
  PeerOptions options;
  options.security.insecure = true;
  options.gossip_interval_ms = 50;
  return options;
}

struct TestPeer {
  test::TempDir dir;
  std::unique_ptr<store::Replica> store;
  std::unique_ptr<Peer> peer;
  std::vector<FrameDrop> drops;  // What this peer's driver would log.

  TestPeer(std::uint32_t partitions, Endpoint self, std::vector<Endpoint> seeds, std::uint64_t seed) {
    StoreOptions options;
    options.partition_count = partitions;
    options.durability = Durability::kNoSync;
    store = test::open_store(dir.str(), options);
    peer = std::make_unique<Peer>(std::move(self), *store, std::move(seeds), fast_insecure_options(), seed);
  }
};

// Runs two peers for `duration_ms` of virtual time: every frame is delivered at once, in order, as a
// driver would (a dropped frame's replies are sent and its reason kept).
void run_pair(TestPeer& a, TestPeer& b, std::uint64_t duration_ms) {
  std::map<std::string, TestPeer*> at{{a.peer->endpoint().to_string(), &a}, {b.peer->endpoint().to_string(), &b}};
  std::vector<OutgoingFrame> queue = a.peer->start(0);
  for (auto& frame : b.peer->start(0)) queue.push_back(std::move(frame));
  for (std::uint64_t now = 0; now <= duration_ms; now += 10) {
    for (TestPeer* p : {&a, &b}) {
      for (auto& frame : p->peer->tick(now)) queue.push_back(std::move(frame));
    }
    for (std::size_t i = 0; i < queue.size(); ++i) {  // Grows while answers are queued.
      auto to = at.find(queue[i].to.to_string());
      if (to == at.end()) continue;
      TestPeer& receiver = *to->second;
      OpenedFrame opened = receiver.peer->open_frame(queue[i].bytes, Lane::kData);
      std::vector<OutgoingFrame> answer;
      if (!opened.envelope) {
        receiver.drops.push_back(*opened.dropped);
        answer = std::move(opened.replies);
      } else {
        answer = receiver.peer->on_envelope(*opened.envelope, queue[i].bytes.size(), now);
      }
      for (auto& frame : answer) queue.push_back(std::move(frame));
    }
    queue.clear();
  }
}

bool holds(store::Replica& store, const std::string& key) { return store.get(key).has_value(); }

TEST_CASE("partition check: peers with the same count join and exchange data (the driver works)") {
  TestPeer a(64, Endpoint{"10.0.0.1", 7400}, {}, 1);
  TestPeer b(64, Endpoint{"10.0.0.2", 7400}, {Endpoint{"10.0.0.1", 7400}}, 2);
  REQUIRE(a.store->put("from-a", "x"));
  run_pair(a, b, 3000);
  CHECK(a.peer->membership().members().size() == 1);
  CHECK(holds(*b.store, "from-a"));
  CHECK(a.drops.empty());
  CHECK(b.drops.empty());
}

TEST_CASE("partition check: peers with different counts never merge and both say why") {
  TestPeer a(64, Endpoint{"10.0.0.1", 7400}, {}, 1);
  TestPeer b(256, Endpoint{"10.0.0.2", 7400}, {Endpoint{"10.0.0.1", 7400}}, 2);
  REQUIRE(a.store->put("from-a", "x"));
  REQUIRE(b.store->put("from-b", "y"));
  run_pair(a, b, 10'000);
  // Neither learned of the other, and no record crossed.
  CHECK(a.peer->membership().members().empty());
  CHECK(b.peer->membership().members().empty());
  CHECK_FALSE(holds(*b.store, "from-a"));
  CHECK_FALSE(holds(*a.store, "from-b"));
  // Both counted and would log the refusal, naming the other's count and their own.
  CHECK(a.peer->stats().frames_other_partition_count > 0);
  CHECK(b.peer->stats().frames_other_partition_count > 0);
  REQUIRE_FALSE(a.drops.empty());
  REQUIRE_FALSE(b.drops.empty());
  CHECK(a.drops.front().reason == "other_partition_count");
  CHECK(a.drops.front().detail.find("has 256 partitions; this peer has 64: refused, never merged") !=
        std::string::npos);
  CHECK(b.drops.front().reason == "other_partition_count");
  CHECK(b.drops.front().detail.find("has 64 partitions; this peer has 256: refused, never merged") !=
        std::string::npos);
  // The answers are acks, never answered in turn: the refusals stay bounded by the pings sent.
  CHECK(b.peer->stats().frames_other_partition_count <= a.peer->stats().frames_other_partition_count);
}

TEST_CASE("partition check: a frame from a build before partitions (count 0) is still accepted") {
  test::TempDir dir;
  auto store = test::open_store(dir.str());
  Peer peer(Endpoint{"10.0.0.1", 7400}, *store, {}, fast_insecure_options(), 1);
  Envelope ping{cluster_id_of("cairn"), PeerId{99}, Endpoint{"10.0.0.2", 7400}, Ping{1, {}}};
  CHECK_FALSE(peer.on_frame(encode_peer_frame(ping), 0).empty());
  CHECK(peer.membership().members().size() == 1);
  ping.partition_count = 8;
  ping.sender = PeerId{98};
  ping.sender_endpoint = Endpoint{"10.0.0.3", 7400};
  const std::vector<OutgoingFrame> answer = peer.on_frame(encode_peer_frame(ping), 0);
  REQUIRE(answer.size() == 1);  // The PingAck that tells it why.
  CHECK(answer.front().to == Endpoint{"10.0.0.3", 7400});
  CHECK(decode_peer_frame(answer.front().bytes).envelope.partition_count == kDefaultPartitionCount);
  CHECK(std::holds_alternative<PingAck>(decode_peer_frame(answer.front().bytes).envelope.body));
  CHECK(peer.membership().members().size() == 1);
}

}  // namespace
}  // namespace cairn::gossip
