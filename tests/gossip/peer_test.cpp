#include "gossip/peer.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/store/store_test_support.h"
#include "tests/support/temp_dir.h"

namespace cairn::gossip {
namespace {

// These tests feed hand-made unsealed frames; tests/gossip/sealing_test.cpp covers sealed peers.
PeerOptions insecure_options() {
  PeerOptions options;
  options.security.insecure = true;
  return options;
}

struct OnePeer {
  test::TempDir dir;
  std::unique_ptr<store::Replica> store = test::open_store(dir.str());
  Peer peer{Endpoint{"10.0.0.1", 7400}, *store, {}, insecure_options(), 1};
};

std::string frame_of(const Envelope& envelope) { return encode_peer_frame(envelope); }

Envelope ping_from(std::uint64_t cluster_id) {
  return Envelope{cluster_id, PeerId{99}, Endpoint{"10.0.0.2", 7400}, Ping{1, {}}};
}

TEST_CASE("peer: an oversized frame is counted and dropped from its header alone") {
  OnePeer p;
  std::string frame = frame_of(ping_from(cluster_id_of("cairn")));
  // Claim a payload over the limit in the length field (bytes 36..39, big-endian).
  const std::uint32_t huge = static_cast<std::uint32_t>(kMaxFramePayloadBytes + 1);
  for (int i = 0; i < 4; ++i) frame[36 + static_cast<std::size_t>(i)] = static_cast<char>(huge >> (24 - 8 * i));
  CHECK(p.peer.on_frame(frame, 0).empty());
  CHECK(p.peer.stats().frames_dropped[static_cast<std::size_t>(FrameError::kOversized)] == 1);
  CHECK(p.peer.membership().members().empty());
}

TEST_CASE("peer: garbage is counted and dropped") {
  OnePeer p;
  CHECK(p.peer.on_frame("", 0).empty());
  CHECK(p.peer.on_frame(std::string(100, '\xab'), 0).empty());
  std::string undecodable = frame_of(ping_from(cluster_id_of("cairn")));
  for (std::size_t i = kFrameHeaderBytes; i < undecodable.size(); ++i) undecodable[i] = '\xff';
  CHECK(p.peer.on_frame(undecodable, 0).empty());
  CHECK(p.peer.stats().frames_dropped_total() == 3);
  CHECK(p.peer.membership().members().empty());
}

TEST_CASE("peer: a frame of another protocol version is counted and dropped") {
  OnePeer p;
  std::string frame = frame_of(ping_from(cluster_id_of("cairn")));
  frame[4] = static_cast<char>(kProtocolVersion + 1);
  CHECK(p.peer.on_frame(frame, 0).empty());
  CHECK(p.peer.stats().frames_dropped[static_cast<std::size_t>(FrameError::kWrongVersion)] == 1);
  CHECK(p.peer.membership().members().empty());
}

TEST_CASE("peer: a frame from another cluster is counted and ignored, one from ours is answered") {
  OnePeer p;
  CHECK(p.peer.on_frame(frame_of(ping_from(cluster_id_of("other"))), 0).empty());
  CHECK(p.peer.stats().frames_from_other_clusters == 1);
  CHECK(p.peer.membership().members().empty());
  CHECK_FALSE(p.peer.on_frame(frame_of(ping_from(cluster_id_of("cairn"))), 0).empty());
  CHECK(p.peer.membership().members().size() == 1);
}

TEST_CASE("peer: open_frame says why it drops a frame, and who sent another cluster's") {
  OnePeer p;
  const OpenedFrame other = p.peer.open_frame(frame_of(ping_from(cluster_id_of("other"))), Lane::kMembership);
  CHECK_FALSE(other.envelope);
  REQUIRE(other.dropped);
  CHECK(other.dropped->reason == "other_cluster");
  CHECK(other.dropped->detail.find("replica 0000000000000063 listening at 10.0.0.2:7400") != std::string::npos);
  CHECK(other.dropped->detail.find("this peer is in cluster 'cairn'") != std::string::npos);
  const OpenedFrame garbage = p.peer.open_frame(std::string(100, '\xab'), Lane::kData);
  REQUIRE(garbage.dropped);
  CHECK(garbage.dropped->reason == "bad_magic");
  // Both lanes' counts add up.
  CHECK(p.peer.stats().frames_received == 2);
  CHECK(p.peer.stats().frames_from_other_clusters == 1);
  CHECK(p.peer.stats().frames_dropped_total() == 1);
  const OpenedFrame ours = p.peer.open_frame(frame_of(ping_from(cluster_id_of("cairn"))), Lane::kMembership);
  REQUIRE(ours.envelope);
  CHECK_FALSE(ours.dropped);
}

TEST_CASE("peer: the membership lane takes only the failure detector's messages") {
  OnePeer p;
  const Envelope ping = ping_from(cluster_id_of("cairn"));
  const auto answered = p.peer.on_membership_message(ping, 0);
  REQUIRE(answered);
  CHECK(answered->size() == 1);  // The ack.
  const Envelope push{cluster_id_of("cairn"), PeerId{99}, Endpoint{"10.0.0.2", 7400}, DeltaPush{}};
  CHECK_FALSE(p.peer.on_membership_message(push, 0));
  const Envelope report{cluster_id_of("cairn"), PeerId{99}, Endpoint{"10.0.0.2", 7400}, ContextReport{}};
  CHECK_FALSE(p.peer.on_membership_message(report, 0));
}

}  // namespace
}  // namespace cairn::gossip
