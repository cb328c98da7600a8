// A progress line on stderr for long commands (backup, restore, export, import), drawn only when
// stderr is a terminal: scripts and logs get nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cairn::cli {

class Progress {
 public:
  // `what` names the work ("backup"); `unit_bytes`: amounts are bytes (shown in MiB), else items.
  Progress(std::string what, bool unit_bytes);
  ~Progress();  // Ends the line.
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // True when stderr is a terminal (the line is drawn): worth asking for a total.
  bool shown() const { return shown_; }
  // `done` so far out of `total` (0: unknown). Redraws at most 10 times a second.
  void update(std::uint64_t done, std::uint64_t total);

 private:
  std::string what_;
  bool unit_bytes_;
  bool shown_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace cairn::cli
