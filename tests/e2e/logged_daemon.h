// A cairnd for tests about its process life: its stdout and stderr go to files the test reads while it
// runs (the ready line, the log), the test sends it signals, and waits for its exit status. The process
// is killed (SIGKILL) and reaped by its PID when the object goes away, also when the test fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace cairn::test {

class LoggedDaemon {
 public:
  // Starts `binary` with `arguments` (nothing added: the test names every port).
  LoggedDaemon(const std::string& binary, std::vector<std::string> arguments)
      : out_path_(files_.str() + "/stdout"), err_path_(files_.str() + "/stderr") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    arguments.insert(arguments.begin(), binary);
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
  }
  ~LoggedDaemon() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  LoggedDaemon(const LoggedDaemon&) = delete;
  LoggedDaemon& operator=(const LoggedDaemon&) = delete;

  // Waits up to 20 s for the ready line and returns it parsed; fails the test otherwise.
  nlohmann::json wait_ready() {
    REQUIRE(wait_for_stdout("\"event\":\"ready\""));
    const std::string out = stdout_text();
    return nlohmann::json::parse(out.substr(0, out.find('\n')));
  }
  // Waits up to 10 s until stderr holds `text` at least `times` times.
  bool wait_for_log(const std::string& text, int times = 1) {
    return poll([&] { return count(stderr_text(), text) >= times; }, std::chrono::seconds(10));
  }
  bool wait_for_stdout(const std::string& text) {
    return poll([&] { return stdout_text().find(text) != std::string::npos; }, std::chrono::seconds(20));
  }

  // Sends `signal` to this process only: never with a pid <= 0, which kill(2) would take as a process
  // group or every process (once the process is reaped, pid_ is -1 and the test fails instead).
  void send(int signal) const {
    REQUIRE(pid_ > 0);
    REQUIRE(::kill(pid_, signal) == 0);
  }
  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  // Waits up to `timeout` for it to exit; its exit status (as waitpid gives it), or nullopt if it runs on.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (!poll([&] { return !running(); }, timeout)) return std::nullopt;
    return status_;
  }

  std::string stdout_text() const { return read_whole_file(out_path_); }
  std::string stderr_text() const { return read_whole_file(err_path_); }

  static int count(const std::string& haystack, const std::string& needle) {
    int found = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++found;
    return found;
  }

 private:
  template <typename Condition>
  static bool poll(Condition condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  TempDir files_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace cairn::test
