#include "src/node/isolation_log.h"

#include <utility>

namespace cairn::node {

std::string duration_text(std::uint64_t ms) {
  const std::uint64_t seconds = ms / 1000;
  if (seconds < 60) return std::to_string(seconds) + " s";
  if (seconds < 3600) return std::to_string(seconds / 60) + " min " + std::to_string(seconds % 60) + " s";
  return std::to_string(seconds / 3600) + " h " + std::to_string(seconds % 3600 / 60) + " min";
}

IsolationLog::IsolationLog(std::vector<std::string> seeds, IsolationLogOptions options)
    : seeds_(std::move(seeds)), options_(options) {}

std::optional<IsolationLine> IsolationLog::update(std::optional<std::uint64_t> isolated_since_ms,
                                                  std::uint64_t now_ms) {
  if (!isolated_since_ms) {
    if (!warned_ms_) return std::nullopt;
    warned_ms_.reset();
    const std::uint64_t alone_ms = now_ms > isolated_since_ms_ ? now_ms - isolated_since_ms_ : 0;
    return IsolationLine{false, "reached the cluster again after about " + duration_text(alone_ms) + " without any member"};
  }
  isolated_since_ms_ = *isolated_since_ms;
  const std::uint64_t isolated_ms = now_ms > *isolated_since_ms ? now_ms - *isolated_since_ms : 0;
  if (isolated_ms < options_.first_warning_ms) return std::nullopt;
  if (warned_ms_ && now_ms < *warned_ms_ + options_.repeat_ms) return std::nullopt;
  warned_ms_ = now_ms;
  return IsolationLine{true, warning_text(isolated_ms)};
}

std::string IsolationLog::warning_text(std::uint64_t isolated_ms) const {
  if (seeds_.empty()) {
    return "no member reachable for " + duration_text(isolated_ms) +
           " (every member this peer knows is dead); still probing them: check that they run and that this peer "
           "can reach them";
  }
  std::string seeds;
  for (const std::string& seed : seeds_) seeds += (seeds.empty() ? "" : ", ") + seed;
  return "no answer from " + std::string(seeds_.size() == 1 ? "seed " : "seeds ") + seeds + " after " +
         duration_text(isolated_ms) + "; still trying every " + duration_text(options_.seed_retry_ms) +
         ". Check the address, the cluster name (--cluster) and the cluster key (--cluster-key-file) on both "
         "sides: a seed logs the frames it drops and why";
}

}  // namespace cairn::node
