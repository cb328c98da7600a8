#include "src/node/frame_drop_log.h"

#include <algorithm>

namespace cairn::node {
namespace {

// The reason in words and what to do about it.
std::string explain(const gossip::FrameDrop& drop) {
  const std::string& reason = drop.reason;
  const std::string detail = drop.detail.empty() ? "" : " (" + drop.detail + ")";
  if (reason == "other_cluster") {
    return "a frame for another cluster (" + drop.detail +
           "): start the sender with the same --cluster name (config key 'cluster')";
  }
  if (reason == "other_partition_count") {
    return "a frame from a peer with another partition count (" + drop.detail +
           "): the count is fixed when a cluster is created; give the new peer a data directory created with "
           "this cluster's count (--partitions)";
  }
  if (reason == "unsealed") {
    return "an unsealed frame: this peer requires sealed frames; start the sender with this cluster's key "
           "(--cluster-key-file), not --insecure";
  }
  if (reason == "unknown_key") {
    return "a frame sealed with an unknown key" + detail +
           ": the sender has another cluster key; start it with this cluster's key file (--cluster-key-file)";
  }
  if (reason == "unauthenticated") {
    return "a frame that failed authentication: tampered with, or sealed under another key with the same key id";
  }
  if (reason == "replayed") return "a replayed frame (a copy of one already received)";
  if (reason == "bad_magic") return "bytes that are not a cairn peer frame: something else sends to the gossip port";
  if (reason == "wrong_version") return "a frame of another protocol version" + detail + ": upgrade the older peer";
  return "a malformed frame (" + reason + ")" + detail;
}

}  // namespace

std::string describe_frame_drop(const std::string& from, const gossip::FrameDrop& drop) {
  return "dropped " + explain(drop) + "; from " + from;
}

std::optional<std::string> FrameDropLog::on_drop(const std::string& from, const gossip::FrameDrop& drop,
                                                 std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::uint64_t held_back = 0;
  if (!admit({from, drop.reason}, now_ms, held_back)) return std::nullopt;
  std::string line = describe_frame_drop(from, drop);
  if (held_back > 0) line += " (and " + std::to_string(held_back) + " more like it since the last such line)";
  return line;
}

std::optional<std::string> FrameDropLog::on_queue_full(std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::uint64_t held_back = 0;
  if (!admit({"", "worker_busy"}, now_ms, held_back)) return std::nullopt;
  return "dropped received peer frames: the protocol worker's queue is full (the peer is overloaded or its "
         "disk is stalled; the protocol resends)" +
         (held_back > 0 ? " (" + std::to_string(held_back + 1) + " frames since the last such line)" : std::string());
}

bool FrameDropLog::admit(const std::pair<std::string, std::string>& key, std::uint64_t now_ms,
                         std::uint64_t& held_back) {
  if (now_ms >= interval_start_ms_ + options_.interval_ms) {
    interval_start_ms_ = now_ms;
    lines_this_interval_ = 0;
  }
  auto it = senders_.find(key);
  if (it == senders_.end()) {
    if (senders_.size() >= options_.max_senders) {
      // The one logged longest ago (never-logged ones first) goes.
      senders_.erase(std::min_element(senders_.begin(), senders_.end(), [](const auto& a, const auto& b) {
        return a.second.logged_ms < b.second.logged_ms;
      }));
    }
    it = senders_.emplace(key, Sender{}).first;
  }
  Sender& sender = it->second;
  const bool key_quiet = !sender.logged_ms || now_ms >= *sender.logged_ms + options_.interval_ms;
  if (!key_quiet || lines_this_interval_ >= options_.max_lines_per_interval) {
    ++sender.held_back;
    return false;
  }
  ++lines_this_interval_;
  held_back = sender.held_back;
  sender = Sender{now_ms, 0};
  return true;
}

}  // namespace cairn::node
