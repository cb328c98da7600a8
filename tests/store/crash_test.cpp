// Kills a process that is writing to a store with SIGKILL at random moments, then checks on reopen
// that every write the process had been told was committed is there, and that the store opens as is
// (LMDB has no repair step, and none may be needed).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cairn/store.h"
#include "tests/store/store_test_support.h"
#include "tests/support/property.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

constexpr int kWriterThreads = 4;

// The child: writers put, sadd and incr in a loop and report each acknowledged write on `ack_fd` as
// one line "<thread> <n>". Never returns.
[[noreturn]] void run_writer(const std::string& path, int ack_fd, Durability durability) {
  StoreOptions options;
  options.durability = durability;
  auto store = Store::open(path, options);
  if (!store) _exit(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriterThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0;; ++n) {
        const std::string suffix = std::to_string(t) + "/" + std::to_string(n);
        if (!(*store)->put("k/" + suffix, "value " + suffix)) _exit(4);
        if (!(*store)->sadd("set/" + std::to_string(t), {std::to_string(n)})) _exit(5);
        if (!(*store)->incr("count/" + std::to_string(t))) _exit(6);
        const std::string line = std::to_string(t) + " " + std::to_string(n) + "\n";
        if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(7);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  _exit(0);
}

// Reads every line the child wrote; returns, per thread, the highest n acknowledged (-1: none).
std::map<int, int> read_acks(int fd) {
  std::string text;
  char buffer[4096];
  for (ssize_t got; (got = read(fd, buffer, sizeof buffer)) != 0;) {
    if (got < 0 && errno == EINTR) continue;
    REQUIRE(got > 0);
    text.append(buffer, static_cast<std::size_t>(got));
  }
  std::map<int, int> highest;
  for (int t = 0; t < kWriterThreads; ++t) highest[t] = -1;
  std::istringstream lines(text);
  int thread = 0, n = 0;
  while (lines >> thread >> n) highest[thread] = std::max(highest[thread], n);
  return highest;
}

void check_acknowledged_writes_survive(Durability durability, int rounds) {
  test::TempDir dir;
  std::map<int, int> acknowledged;             // Per thread: highest n acknowledged in any round.
  std::map<int, std::int64_t> increments_acknowledged;  // Per thread: acknowledged incrs, all rounds.
  for (int t = 0; t < kWriterThreads; ++t) acknowledged[t] = -1;
  test::for_each_history("crash test kill points", static_cast<std::uint64_t>(rounds), [&](Rng& rng) {
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(pipe_fds[0]);
      run_writer(dir.str(), pipe_fds[1], durability);
    }
    close(pipe_fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng.below(60)));
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    const auto acks = read_acks(pipe_fds[0]);
    close(pipe_fds[0]);
    // The child must have died of our signal, not of its own failure.
    INFO("child exit status " << status);
    REQUIRE(WIFSIGNALED(status));
    for (const auto& [t, n] : acks) {
      acknowledged[t] = std::max(acknowledged[t], n);
      increments_acknowledged[t] += n + 1;
    }

    auto store = test::open_store(dir.str());
    for (const auto& [t, highest] : acknowledged) {
      const std::string thread = std::to_string(t);
      // Writes of earlier rounds restart n at 0, so the highest acknowledged n of any round is the one
      // to check; every lower n was acknowledged before it in that round.
      for (int n = 0; n <= highest; ++n) {
        const std::string suffix = thread + "/" + std::to_string(n);
        auto value = store->get("k/" + suffix);
        INFO("acknowledged put k/" << suffix);
        REQUIRE(value.has_value());
        CHECK(value->value == "value " + suffix);
      }
      if (highest >= 0) {
        CHECK(*store->sismember("set/" + thread, std::to_string(highest)));
        // Every acknowledged incr of every round is counted (unacknowledged ones may be too).
        CHECK(*store->counter("count/" + thread) >= increments_acknowledged[t]);
      }
    }
  });
}

TEST_CASE("crash: SIGKILL during group-commit writes loses no acknowledged write") {
  check_acknowledged_writes_survive(Durability::kGroup, 50);
}

TEST_CASE("crash: SIGKILL during sync-mode writes loses no acknowledged write") {
  check_acknowledged_writes_survive(Durability::kSync, 10);
}

}  // namespace
}  // namespace cairn
