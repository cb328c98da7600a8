// The rate-limited log lines for dropped peer frames (src/node/frame_drop_log.h).
#include <catch2/catch.hpp>

#include "src/node/frame_drop_log.h"

namespace cairn::node {
namespace {

const gossip::FrameDrop kOtherCluster{
    "other_cluster",
    "replica 00000000000000aa listening at 127.0.0.1:7410 is in the cluster with id 1234; this peer is in cluster "
    "'cairn' (id 5678)"};
const gossip::FrameDrop kUnsealed{"unsealed", "unsealed frame"};
const gossip::FrameDrop kUnknownKey{"unknown_key", "sealed under key id 0a0b0c0d, not one of ours (this peer seals under 01020304)"};

TEST_CASE("frame drop log: the line names the sender and says what to do") {
  CHECK(describe_frame_drop("127.0.0.1:7410", kOtherCluster) ==
        "dropped a frame for another cluster (replica 00000000000000aa listening at 127.0.0.1:7410 is in the cluster "
        "with id 1234; this peer is in cluster 'cairn' (id 5678)): start the sender with the same --cluster name "
        "(config key 'cluster'); from 127.0.0.1:7410");
  CHECK(describe_frame_drop("127.0.0.1:7410", kUnsealed) ==
        "dropped an unsealed frame: this peer requires sealed frames; start the sender with this cluster's key "
        "(--cluster-key-file), not --insecure; from 127.0.0.1:7410");
  const std::string unknown_key = describe_frame_drop("127.0.0.1:51234", kUnknownKey);
  CHECK(unknown_key.find("unknown key (sealed under key id 0a0b0c0d") != std::string::npos);
  CHECK(unknown_key.find("--cluster-key-file") != std::string::npos);
  CHECK(describe_frame_drop("10.0.0.9:1", gossip::FrameDrop{"bad_magic", "x"}).find("not a cairn peer frame") !=
        std::string::npos);
}

TEST_CASE("frame drop log: one line per sender and reason per interval, then one that counts the rest") {
  FrameDropLog log(FrameDropLogOptions{.interval_ms = 60'000, .max_lines_per_interval = 20, .max_senders = 16});
  CHECK(log.on_drop("127.0.0.1:7410", kOtherCluster, 1'000));
  for (std::uint64_t t = 2'000; t < 61'000; t += 5'000) CHECK_FALSE(log.on_drop("127.0.0.1:7410", kOtherCluster, t));
  // Another reason or another sender is its own line.
  CHECK(log.on_drop("127.0.0.1:7410", kUnsealed, 2'000));
  CHECK(log.on_drop("127.0.0.1:7420", kOtherCluster, 2'000));
  const auto again = log.on_drop("127.0.0.1:7410", kOtherCluster, 61'000);
  REQUIRE(again);
  CHECK(again->find("(and 12 more like it since the last such line)") != std::string::npos);
}

TEST_CASE("frame drop log: a flood from many addresses is capped per interval") {
  FrameDropLog log(FrameDropLogOptions{.interval_ms = 60'000, .max_lines_per_interval = 3, .max_senders = 8});
  int lines = 0;
  for (int port = 1; port <= 100; ++port) {
    if (log.on_drop("10.0.0.1:" + std::to_string(port), kUnsealed, 5'000)) ++lines;
  }
  CHECK(lines == 3);
  CHECK(log.on_drop("10.0.0.1:200", kUnsealed, 65'000));  // A new interval.
}

TEST_CASE("frame drop log: a full worker queue is one line per interval") {
  FrameDropLog log;
  CHECK(log.on_queue_full(0));
  CHECK_FALSE(log.on_queue_full(10));
  CHECK_FALSE(log.on_queue_full(20));
  const auto later = log.on_queue_full(60'000);
  REQUIRE(later);
  CHECK(later->find("(3 frames since the last such line)") != std::string::npos);
}

}  // namespace
}  // namespace cairn::node
