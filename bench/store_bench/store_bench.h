// store_bench's shared parts: the command line, the data, the results table and the store helpers
// each phase (put_phases.cpp, read_phases.cpp, set_phase.cpp) builds on. main.cpp says what the bench
// measures and how.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/report.h"
#include "bench/raw_lmdb.h"
#include "cairn/store.h"

namespace store_bench {

namespace fs = std::filesystem;
using cairn_bench::Clock;
using cairn_bench::fmt;
using cairn_bench::load_average;
using cairn_bench::RawLmdb;
using cairn_bench::RawOptions;
using cairn_bench::seconds_since;

[[noreturn]] void die(const std::string& message);

// ---------------------------------------------------------------------------------------------------
// Command line.

struct Args {
  std::size_t keys = 1'000'000;
  std::vector<std::size_t> group_threads{1, 8, 64};
  std::vector<std::size_t> group_puts{20'000, 200'000, 1'000'000};
  double group_seconds = 30;  // Cap on the store's time per kGroup figure (0: none); see --group-seconds.
  std::vector<std::size_t> nosync_threads{1, 8};
  std::vector<std::size_t> get_threads{1, 2};
  std::size_t gets = 1'000'000;
  std::size_t rounds = 10;
  std::size_t scan_rounds = 3;
  std::size_t big_set = 1'000'000;
  std::size_t small_sets = 10'000;
  std::size_t small_set_size = 10;
  std::size_t set_ops = 10'000;
  std::size_t lookups = 200'000;
  std::size_t opens = 9;
  std::string dir = "/tmp";
  std::set<std::string> phases{"group", "nosync", "get", "scan", "open", "set"};
  bool keep = false;
  bool verbose = false;  // Per-round figures of the put phases.
};


// Flags use --name=value or --name value; lists are comma-separated (CLI11).
Args parse_args(int argc, char** argv);

// ---------------------------------------------------------------------------------------------------
// Data: random 16-byte keys, 100-byte values (a pool of random values; key i gets value i % pool).
std::vector<std::string> random_strings(std::size_t count, std::size_t bytes, std::uint64_t seed);

// A cheap per-thread generator for picking random keys during a timed loop.
struct XorShift {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};


// ---------------------------------------------------------------------------------------------------
// Results.

struct Row {
  std::string figure;
  std::string store;     // The store's figure.
  std::string baseline;  // The baseline's figure ("" when there is none).
  std::string ratio;
  std::string target;
  std::string met;  // "yes", "NO" or "".
};


// Every figure of the run, printed as one table at the end.
extern std::vector<Row> g_rows;

std::string rate(double per_second);
// A row comparing two rates; the target is ratio >= `at_least` (0: no target).
void add_rate_row(const std::string& figure, double store, double baseline, double at_least);
void print_table();
double median(std::vector<double> samples);

// ---------------------------------------------------------------------------------------------------
// The store.
cairn::StoreOptions store_options(cairn::Durability durability);
std::unique_ptr<cairn::Store> open_store(const std::string& dir, const cairn::StoreOptions& options);
std::uint64_t data_file_bytes(const std::string& dir);

struct Context {
  Args args;
  std::string root;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::string fill_store_dir;  // Filled by the nosync phase.
  std::string fill_raw_dir;
};

// Collects the first failure any thread saw.
class Failures {
 public:
  void add(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (count_++ == 0) first_ = what;
  }
  void check(const char* phase) {
    std::lock_guard lock(mutex_);
    if (count_ > 0) die(std::string(phase) + ": " + std::to_string(count_) + " failures, first: " + first_);
  }

 private:
  std::mutex mutex_;
  std::size_t count_ = 0;
  std::string first_;
};

// Runs `work(thread_index)` on `threads` threads released together; returns the wall time.
template <typename Work>
double run_threads(std::size_t threads, Work&& work) {
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      go.wait();
      work(t);
    });
  }
  const auto start = Clock::now();
  go.count_down();
  for (std::thread& thread : pool) thread.join();
  return seconds_since(start);
}

// Removes a scratch directory unless --keep.
void remove_dir(const Context& ctx, const std::string& dir);

// The phases, in the order main() runs them.
void group_phase(Context& ctx);   // put_phases.cpp
void nosync_phase(Context& ctx);  // put_phases.cpp
void get_phase(Context& ctx);     // read_phases.cpp
void scan_phase(Context& ctx);    // read_phases.cpp
void open_phase(Context& ctx);    // read_phases.cpp
void set_phase(Context& ctx);     // set_phase.cpp

}  // namespace store_bench
