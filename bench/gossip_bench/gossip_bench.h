// gossip_bench's shared parts: the command line, scratch directories, statistics and the summary
// tables each phase (loopback_phase.cpp, sim_phases.cpp) fills. main.cpp says what the bench measures.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/common/report.h"
#include "cairn/store.h"
#include "src/util/rng.h"

namespace gossip_bench {

namespace fs = std::filesystem;
using cairn_bench::Clock;
using cairn_bench::fmt;
using cairn_bench::load_average;
using cairn_bench::seconds_since;

[[noreturn]] void die(const std::string& message);
// For failures mid-run: unwinding stops the nodes and removes the scratch directories; main reports it.
[[noreturn]] inline void fail(const std::string& message) { throw std::runtime_error(message); }

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Args {
  std::set<std::string> phases{"loopback", "sim", "payload"};
  std::string dir = "/tmp";
  std::uint64_t seed = 1;
  std::vector<std::size_t> loopback_peers{3, 10};
  std::vector<std::size_t> intervals_ms{200, 50};
  std::size_t writes = 200;
  cairn::Durability durability = cairn::Durability::kGroup;
  std::vector<std::size_t> sim_peers{50, 200};
  std::vector<std::size_t> sim_loss_percent{0, 10};
  std::size_t sim_writes = 20;
  std::size_t sim_value_bytes = 100;
  std::size_t payload_peers = 10;
  std::vector<std::size_t> payload_sizes{16, 1024, 64 * 1024, 1024 * 1024};
  std::size_t payload_writes = 10;
  std::vector<std::size_t> scale_peers{200, 1000};
  std::size_t scale_writes = 5;
  std::size_t stall_peers = 50;
  std::uint64_t stall_seconds = 120;
};


// Flags use --name=value or --name value; lists are comma-separated (CLI11).
Args parse_args(int argc, char** argv);

// A fresh directory (mkdtemp) removed with its contents when this goes out of scope.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& parent) {
    std::string pattern = parent + "/gossip_bench.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) die("cannot create a directory under " + parent);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};
std::string random_bytes(cairn::Rng& rng, std::size_t size);
// Nearest-rank percentile of sorted values, p in (0, 100].
double percentile(const std::vector<double>& sorted, double p);
double mean(const std::vector<double>& values);
double max_of(const std::vector<double>& values);
std::string bytes_text(double bytes);

// The summary tables (Markdown), printed at the end.
struct Table {
  std::string title;
  std::string header;
  std::vector<std::string> rows;
};

extern Table g_loopback, g_sim, g_membership, g_payload, g_scale, g_stall;

// Adds a row of `cells` to `table` and prints it.
void add_row(Table& table, const std::vector<std::string>& cells);
void print_table(const Table& table);

// The phases, in the order main() runs them.
void loopback_phase(const Args& args);  // loopback_phase.cpp
void sim_phase(const Args& args);       // sim_phases.cpp
void payload_phase(const Args& args);   // sim_phases.cpp
void scale_phase(const Args& args);     // scale_phases.cpp
void stall_phase(const Args& args);     // scale_phases.cpp

}  // namespace gossip_bench
