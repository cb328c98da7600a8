// Log lines for a peer that expects company but reaches nobody (gossip::Membership::isolated_since_ms):
// a peer whose seeds never answer (a wrong address, cluster name or cluster key) says so within seconds
// instead of running alone in silence, says so again now and then while it lasts, and says when it
// reaches someone. Sans-I/O: update() returns the line, the caller writes it. Not thread-safe: the
// membership lane calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cairn::node {

struct IsolationLogOptions {
  std::uint64_t first_warning_ms = 3'000;  // Isolated this long: the first warning.
  std::uint64_t repeat_ms = 60'000;        // Then one more warning this often while it lasts.
  std::uint64_t seed_retry_ms = 5'000;     // How often membership pings the seeds again (for the text).
};

struct IsolationLine {
  bool warning = true;  // A warning while isolated; false for the (info) line when it ends.
  std::string text;
};

class IsolationLog {
 public:
  // `seeds` as configured ("host:port"); an empty list means every known member is dead.
  IsolationLog(std::vector<std::string> seeds, IsolationLogOptions options = {});

  // Called after each membership tick with Membership::isolated_since_ms().
  std::optional<IsolationLine> update(std::optional<std::uint64_t> isolated_since_ms, std::uint64_t now_ms);

 private:
  std::string warning_text(std::uint64_t isolated_ms) const;

  std::vector<std::string> seeds_;
  IsolationLogOptions options_;
  std::optional<std::uint64_t> warned_ms_;  // When the last warning of this isolation was written.
  std::uint64_t isolated_since_ms_ = 0;
};

// "3 s", "2 min 5 s": a duration for log lines and health reasons.
std::string duration_text(std::uint64_t ms);

}  // namespace cairn::node
