#include "gossip/sealing.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gossip/peer.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

ClusterKey key_of(std::uint8_t fill) {
  ClusterKey key{};
  key.fill(fill);
  return key;
}

std::size_t index(FrameError error) { return static_cast<std::size_t>(error); }

// ---- The sealing layer alone. ----

TEST_CASE("sealing: a sealed frame opens to its payload, under the send key's id") {
  FrameSealer sender({key_of(1)});
  FrameSealer receiver({key_of(1)});
  const std::string frame = sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "hello peer");
  REQUIRE(frame.size() == kFrameHeaderBytes + 10 + kSealOverheadBytes);
  const HeaderResult header = parse_frame_header(frame);
  REQUIRE(header.ok);
  CHECK(header.header.key_id == key_id_of(key_of(1)));
  CHECK(header.header.key_id != 0);
  CHECK(frame.find("hello peer") == std::string::npos);  // Encrypted, not only signed.
  const OpenResult opened = receiver.open(frame);
  REQUIRE(opened.ok);
  CHECK(opened.payload == "hello peer");
}

TEST_CASE("sealing: nonces never repeat within a sealer or across sealers of one key") {
  FrameSealer a({key_of(1)});
  FrameSealer b({key_of(1)});
  std::set<std::string> nonces;
  for (int i = 0; i < 500; ++i) {
    for (FrameSealer* sealer : {&a, &b}) {
      for (CounterStream stream : {CounterStream::kDatagram, CounterStream::kStream}) {
        const HeaderResult header = parse_frame_header(sealer->seal(FrameType::kPeerMessage, stream, "x"));
        REQUIRE(header.ok);
        CHECK(nonces.insert(std::string(header.header.nonce.begin(), header.header.nonce.end())).second);
      }
    }
  }
}

TEST_CASE("sealing: every single-bit change anywhere in a sealed frame is refused") {
  FrameSealer sender({key_of(7)});
  const std::string frame = sender.seal(FrameType::kPeerMessage, CounterStream::kStream, "a payload of some bytes");
  for (std::size_t i = 0; i < frame.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      FrameSealer receiver({key_of(7)});
      std::string tampered = frame;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      const OpenResult opened = receiver.open(tampered);
      INFO("byte " << i << " bit " << bit);
      CHECK_FALSE(opened.ok);
    }
  }
  // Tampering with the sealed bytes or the nonce is an authentication failure, not a decode error.
  FrameSealer receiver({key_of(7)});
  std::string tampered = frame;
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  CHECK(receiver.open(tampered).error == FrameError::kUnauthenticated);
  tampered = frame;
  tampered[20] = static_cast<char>(tampered[20] ^ 1);  // In the nonce.
  CHECK(receiver.open(tampered).error == FrameError::kUnauthenticated);
  CHECK(receiver.open(frame).ok);  // The original still opens once.
}

TEST_CASE("sealing: a replayed frame is refused, in and out of order within the window") {
  FrameSealer sender({key_of(2)});
  FrameSealer receiver({key_of(2)});
  std::vector<std::string> frames;
  for (int i = 0; i < 10; ++i) frames.push_back(sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "m"));
  // Delivered in reverse (reordering), every frame opens once; every second delivery is a replay.
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) REQUIRE(receiver.open(*it).ok);
  for (const std::string& frame : frames) CHECK(receiver.open(frame).error == FrameError::kReplayed);
  CHECK(receiver.stats().opened == 10);
}

TEST_CASE("sealing: a frame older than the replay window is refused, and the streams have their own windows") {
  FrameSealer sender({key_of(3)});
  FrameSealer receiver({key_of(3)});
  const std::string old_datagram = sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "old");
  const std::string stream_frame = sender.seal(FrameType::kPeerMessage, CounterStream::kStream, "s");
  std::string latest;
  for (std::uint64_t i = 0; i < kReplayWindow; ++i) {
    latest = sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "new");
  }
  REQUIRE(receiver.open(latest).ok);
  CHECK(receiver.open(old_datagram).error == FrameError::kReplayed);
  CHECK(receiver.open(stream_frame).ok);  // The stream counter is far behind, but in its own window.
}

TEST_CASE("sealing: the replay window accepts any order of fresh counters and refuses every repeat (property)") {
  test::for_each_history("sealing replay window", 20, [](Rng& rng) {
    FrameSealer sender({key_of(4)});
    FrameSealer receiver({key_of(4)});
    std::vector<std::string> frames;
    const std::size_t count = 50 + rng.below(200);
    for (std::size_t i = 0; i < count; ++i) {
      frames.push_back(sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "p"));
    }
    std::vector<std::size_t> order(count);
    for (std::size_t i = 0; i < count; ++i) order[i] = i;
    for (std::size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::set<std::size_t> delivered;
    for (std::size_t step = 0; step < 2 * count; ++step) {
      const std::size_t which = rng.below(3) == 0 && !delivered.empty() ? *delivered.begin() : order[step % count];
      const bool fresh = delivered.insert(which).second;
      CHECK(receiver.open(frames[which]).ok == fresh);
    }
  });
}

TEST_CASE("sealing: an unsealed frame, an unknown key and garbage are refused with their reasons") {
  FrameSealer receiver({key_of(5)});
  Envelope envelope{cluster_id_of("cairn"), PeerId{9}, Endpoint{"10.0.0.9", 7400}, Ping{1, {}}};
  CHECK(receiver.open(encode_peer_frame(envelope)).error == FrameError::kUnsealed);
  FrameSealer stranger({key_of(6)});
  CHECK(receiver.open(stranger.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "x")).error ==
        FrameError::kUnknownKey);
  CHECK(receiver.open("").error == FrameError::kTruncated);
  CHECK(receiver.open(std::string(100, 'z')).error == FrameError::kBadMagic);
  FrameSealer sender({key_of(5)});
  std::string frame = sender.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "x");
  CHECK(receiver.open(frame + "trailing").error == FrameError::kUndecodable);
  CHECK(receiver.open(frame.substr(0, frame.size() - 1)).error == FrameError::kTruncated);
  CHECK(receiver.open(frame, FrameType::kClientRequest).error == FrameError::kUnknownType);
  CHECK(receiver.open(frame).ok);
}

TEST_CASE("sealing: rotation: a sealer opens under every key it holds and seals under the first") {
  FrameSealer old_only({key_of(10)});
  FrameSealer rotating({key_of(11), key_of(10)});
  FrameSealer new_only({key_of(11)});
  CHECK(rotating.open(old_only.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "a")).ok);
  CHECK(rotating.open(new_only.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "b")).ok);
  const std::string from_rotating = rotating.seal(FrameType::kPeerMessage, CounterStream::kDatagram, "c");
  CHECK(new_only.open(from_rotating).ok);
  CHECK(old_only.open(from_rotating).error == FrameError::kUnknownKey);
  CHECK(rotating.send_key_id() == key_id_of(key_of(11)));
}

TEST_CASE("sealing: a payload too large to seal within the frame limit is not sealed") {
  FrameSealer sender({key_of(1)});
  CHECK(sender.seal(FrameType::kPeerMessage, CounterStream::kStream, std::string(kMaxFramePayloadBytes, 'x')).empty());
  CHECK(sender.stats().unsendable == 1);
}

TEST_CASE("sealing: cluster keys in text form") {
  const ClusterKey key = random_cluster_key();
  const std::string hex = cluster_key_to_hex(key);
  CHECK(hex.size() == 64);
  auto parsed = parse_cluster_key("  " + hex + "\n");
  REQUIRE(parsed.has_value());
  CHECK(*parsed == key);
  CHECK_FALSE(parse_cluster_key(hex.substr(1)).has_value());
  CHECK_FALSE(parse_cluster_key(hex + "00").has_value());
  CHECK_FALSE(parse_cluster_key(std::string(64, 'g')).has_value());
  CHECK_FALSE(parse_cluster_key("").has_value());
  CHECK(random_cluster_key() != key);
}

// ---- Peers that seal. ----

PeerOptions sealed_with(std::vector<ClusterKey> keys) {
  PeerOptions options;
  options.cluster_name = "sealed";
  options.membership.protocol_period_ms = 100;
  options.gossip_interval_ms = 50;
  options.security.cluster_keys = std::move(keys);
  return options;
}

// Peers wired to each other by hand: every frame sent is delivered (or recorded), in order.
class Net {
 public:
  Peer& add(const std::string& host, std::vector<ClusterKey> keys, std::vector<Endpoint> seeds = {}) {
    auto& slot = nodes_.emplace_back(std::make_unique<Slot>());
    slot->dir = std::make_unique<test::TempDir>();
    slot->store = test::open_store(slot->dir->str());
    slot->peer = std::make_unique<Peer>(Endpoint{host, 7400}, *slot->store, std::move(seeds),
                                        sealed_with(std::move(keys)), nodes_.size());
    return *slot->peer;
  }
  store::Replica& store(std::size_t i) { return *nodes_[i]->store; }

  void start() {
    for (auto& slot : nodes_) post(slot->peer->start(now_));
  }
  void run_for(std::uint64_t ms) {
    for (std::uint64_t t = 0; t < ms; t += 10) {
      now_ += 10;
      for (auto& slot : nodes_) post(slot->peer->tick(now_));
      deliver();
    }
  }
  // Every frame ever sent, to whom.
  const std::vector<OutgoingFrame>& captured() const { return captured_; }

 private:
  struct Slot {
    std::unique_ptr<test::TempDir> dir;
    std::unique_ptr<store::Replica> store;
    std::unique_ptr<Peer> peer;
  };
  void post(std::vector<OutgoingFrame> frames) {
    for (OutgoingFrame& frame : frames) {
      captured_.push_back(frame);
      queue_.push_back(std::move(frame));
    }
  }
  void deliver() {
    while (!queue_.empty()) {
      OutgoingFrame frame = std::move(queue_.front());
      queue_.pop_front();
      for (auto& slot : nodes_) {
        if (slot->peer->endpoint() == frame.to) post(slot->peer->on_frame(frame.bytes, now_));
      }
    }
  }
  std::vector<std::unique_ptr<Slot>> nodes_;
  std::deque<OutgoingFrame> queue_;
  std::vector<OutgoingFrame> captured_;
  std::uint64_t now_ = 1000;
};

TEST_CASE("sealed peers: two peers with the key join and replicate, and every frame on the wire is sealed") {
  Net net;
  Peer& a = net.add("10.0.0.1", {key_of(1)});
  Peer& b = net.add("10.0.0.2", {key_of(1)}, {a.endpoint()});
  REQUIRE(net.store(0).put("k", "v"));
  net.start();
  net.run_for(3000);
  CHECK(a.membership().members().contains(b.id()));
  CHECK(b.membership().members().contains(a.id()));
  auto value = net.store(1).get("k");
  REQUIRE(value.has_value());
  CHECK(value->value == "v");
  REQUIRE_FALSE(net.captured().empty());
  for (const OutgoingFrame& frame : net.captured()) {
    const HeaderResult header = parse_frame_header(frame.bytes);
    REQUIRE(header.ok);
    CHECK(header.header.key_id == key_id_of(key_of(1)));
  }
  CHECK(a.stats().frames_dropped_total() == 0);
  CHECK(b.stats().frames_dropped_total() == 0);
}

TEST_CASE("sealed peers: a peer with the wrong key cannot join, inject or read") {
  Net net;
  Peer& a = net.add("10.0.0.1", {key_of(1)});
  Peer& b = net.add("10.0.0.2", {key_of(1)}, {a.endpoint()});
  Peer& intruder = net.add("10.0.0.66", {key_of(66)}, {a.endpoint(), b.endpoint()});
  REQUIRE(net.store(0).put("secret", "for members only"));
  REQUIRE(net.store(2).put("injected", "by the intruder"));
  net.start();
  net.run_for(3000);
  // a and b form the cluster; neither knows the intruder, and it knows nobody.
  CHECK(a.membership().members().size() == 1);
  CHECK(b.membership().members().size() == 1);
  CHECK_FALSE(a.membership().members().contains(intruder.id()));
  CHECK(intruder.membership().members().empty());
  // Nothing crossed either way.
  CHECK_FALSE(net.store(0).get("injected").has_value());
  CHECK_FALSE(net.store(1).get("injected").has_value());
  CHECK_FALSE(net.store(2).get("secret").has_value());
  CHECK(a.stats().frames_dropped[index(FrameError::kUnknownKey)] > 0);
  CHECK(b.stats().frames_dropped[index(FrameError::kUnknownKey)] > 0);
}

Envelope ping_from(PeerId sender) {
  return Envelope{cluster_id_of("sealed"), sender, Endpoint{"10.0.0.9", 7400}, Ping{1, {}}};
}

TEST_CASE("sealed peers: an unsealed frame is refused and counted, even a well-formed one of our cluster") {
  test::TempDir dir;
  auto store = test::open_store(dir.str());
  Peer peer(Endpoint{"10.0.0.1", 7400}, *store, {}, sealed_with({key_of(1)}), 1);
  CHECK(peer.on_frame(encode_peer_frame(ping_from(PeerId{9})), 0).empty());
  CHECK(peer.stats().frames_dropped[index(FrameError::kUnsealed)] == 1);
  CHECK(peer.membership().members().empty());
}

TEST_CASE("sealed peers: a captured frame replayed is refused, a tampered one too, and the original is answered once") {
  test::TempDir dir;
  auto store = test::open_store(dir.str());
  Peer peer(Endpoint{"10.0.0.1", 7400}, *store, {}, sealed_with({key_of(1)}), 1);
  FrameSealer remote({key_of(1)});
  const std::string captured =
      remote.seal(FrameType::kPeerMessage, CounterStream::kDatagram, encode_peer_payload(ping_from(PeerId{9})));
  std::string tampered = captured;
  tampered[kFrameHeaderBytes + 3] = static_cast<char>(tampered[kFrameHeaderBytes + 3] ^ 0x20);
  CHECK(peer.on_frame(tampered, 0).empty());
  CHECK(peer.stats().frames_dropped[index(FrameError::kUnauthenticated)] == 1);
  CHECK(peer.membership().members().empty());

  const std::vector<OutgoingFrame> answer = peer.on_frame(captured, 0);
  REQUIRE(answer.size() == 1);  // The ping's ack.
  CHECK(peer.membership().members().contains(PeerId{9}));
  for (int i = 0; i < 3; ++i) CHECK(peer.on_frame(captured, 10).empty());
  CHECK(peer.stats().frames_dropped[index(FrameError::kReplayed)] == 3);
  // The answer is sealed and opens at the remote end.
  const OpenResult opened = remote.open(answer[0].bytes);
  REQUIRE(opened.ok);
  const DecodeResult ack = decode_peer_payload(opened.payload);
  REQUIRE(ack.ok);
  CHECK(std::holds_alternative<PingAck>(ack.envelope.body));
}

TEST_CASE("sealed peers: an authentic payload that is garbage is dropped as undecodable") {
  test::TempDir dir;
  auto store = test::open_store(dir.str());
  Peer peer(Endpoint{"10.0.0.1", 7400}, *store, {}, sealed_with({key_of(1)}), 1);
  FrameSealer remote({key_of(1)});
  CHECK(peer.on_frame(remote.seal(FrameType::kPeerMessage, CounterStream::kStream, std::string(64, '\xff')), 0).empty());
  CHECK(peer.stats().frames_dropped[index(FrameError::kUndecodable)] == 1);
}

TEST_CASE("sealed peers: rotation without downtime: old, rotating and new peers keep one cluster") {
  Net net;
  // Mid-rotation: a still has only the old key; b holds both (sending with the new one only after
  // every peer holds it, so here with the old first); c already sends with the new one.
  Peer& a = net.add("10.0.0.1", {key_of(1)});
  Peer& b = net.add("10.0.0.2", {key_of(1), key_of(2)}, {a.endpoint()});
  Peer& c = net.add("10.0.0.3", {key_of(2), key_of(1)}, {b.endpoint()});
  net.start();
  net.run_for(4000);
  CHECK(b.membership().members().contains(a.id()));
  CHECK(b.membership().members().contains(c.id()));
  CHECK(c.membership().members().contains(b.id()));
  // a cannot open c's frames (sealed with the new key): the step the rotation procedure avoids.
  CHECK(a.stats().frames_dropped[index(FrameError::kUnknownKey)] > 0);
  CHECK(c.stats().frames_dropped[index(FrameError::kUnknownKey)] == 0);
}

TEST_CASE("limits: a peer drops sealed frames over its max_frame_payload_bytes before opening them") {
  test::TempDir dir;
  auto store = test::open_store(dir.str());
  PeerOptions options = sealed_with({key_of(1)});
  options.max_frame_payload_bytes = 256;
  Peer peer(Endpoint{"10.0.0.1", 7400}, *store, {}, options, 1);
  FrameSealer remote({key_of(1)});
  for (int i = 0; i < 50; ++i) {
    CHECK(peer.on_frame(remote.seal(FrameType::kPeerMessage, CounterStream::kStream, std::string(300, 'x')), 0).empty());
  }
  CHECK(peer.stats().frames_dropped[index(FrameError::kOversized)] == 50);
  // A legitimate small frame is still answered.
  CHECK(peer.on_frame(remote.seal(FrameType::kPeerMessage, CounterStream::kDatagram,
                                  encode_peer_payload(ping_from(PeerId{9}))),
                      0)
            .size() == 1);
}

}  // namespace
}  // namespace cairn::gossip
