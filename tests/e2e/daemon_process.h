// Starts a real cairnd for a test and stops it when the test ends, also when it fails: SIGTERM, then
// SIGKILL if it has not exited within a few seconds.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cairn::test {

class DaemonProcess {
 public:
  // Runs `binary` with `arguments` and waits (up to 20 s) for its ready line on stdout.
  DaemonProcess(const std::string& binary, std::vector<std::string> arguments) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<char*> argv;
    arguments.insert(arguments.begin(), binary);
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    stdout_fd_ = out[0];
    REQUIRE(spawned == 0);
    ready_line_ = read_line(std::chrono::seconds(20));
    INFO("cairnd ready line: " << ready_line_);
    REQUIRE(ready_line_.find("\"event\":\"ready\"") != std::string::npos);
    const auto colon = ready_line_.rfind(':');
    gossip_port_ = std::stoi(ready_line_.substr(colon + 1));
  }

  ~DaemonProcess() { stop(); }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status (as waitpid gives it).
  int stop() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGTERM);
    for (int waited_ms = 0; waited_ms < 10'000; waited_ms += 20) {
      if (waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
    return exit_status_;
  }

  // SIGKILL at once, as a crash: nothing is flushed or announced. Returns the exit status.
  int kill_hard() {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, SIGKILL);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
    return exit_status_;
  }

  int gossip_port() const { return gossip_port_; }
  std::string gossip_address() const { return "127.0.0.1:" + std::to_string(gossip_port_); }

 private:
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd readable{stdout_fd_, POLLIN, 0};
      if (poll(&readable, 1, 100) <= 0) continue;
      char c = 0;
      if (read(stdout_fd_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = 0;
  int gossip_port_ = 0;
  std::string ready_line_;
};

}  // namespace cairn::test
