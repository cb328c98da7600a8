// Log lines for peer frames a node drops, rate-limited, so that an operator sees a misconfigured peer
// (another cluster name, no or another cluster key) instead of a cluster that silently never forms.
//
// At most one line per (sender address, reason) per interval, and at most `max_lines_per_interval`
// lines in all per interval (a flood from many addresses, which UDP source addresses can fake, must
// not flood the log); a line says how many drops it stands for. Thread-safe: both protocol lanes call
// it. Sans-I/O: it returns the line, the caller writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "gossip/peer.h"

namespace cairn::node {

struct FrameDropLogOptions {
  std::uint64_t interval_ms = 60'000;
  std::size_t max_lines_per_interval = 20;
  std::size_t max_senders = 1024;  // (address, reason) pairs remembered; the oldest go first.
};

class FrameDropLog {
 public:
  explicit FrameDropLog(FrameDropLogOptions options = {}) : options_(options) {}

  // A frame from `from` ("host:port" as the socket saw it) was dropped for `drop`. Returns the line to
  // log, or nullopt when the rate limit holds it back (it is then counted into the next line).
  std::optional<std::string> on_drop(const std::string& from, const gossip::FrameDrop& drop, std::uint64_t now_ms);

  // A frame was dropped because the protocol worker's queue was full (same rate limits, keyed by the
  // reason alone).
  std::optional<std::string> on_queue_full(std::uint64_t now_ms);

 private:
  struct Sender {
    std::optional<std::uint64_t> logged_ms;  // When its last line was written.
    std::uint64_t held_back = 0;             // Drops since then.
  };
  // With mutex_ held: true when a line about `key` may be written now; `held_back` is then how many
  // of its drops the limits held back since its last line.
  bool admit(const std::pair<std::string, std::string>& key, std::uint64_t now_ms, std::uint64_t& held_back);

  FrameDropLogOptions options_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Sender> senders_;
  std::uint64_t interval_start_ms_ = 0;
  std::size_t lines_this_interval_ = 0;
};

// What an operator should read about a drop: the reason in words, the detail, and what to do.
std::string describe_frame_drop(const std::string& from, const gossip::FrameDrop& drop);

}  // namespace cairn::node
