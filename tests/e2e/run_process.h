// Runs a program to completion for a test (the `cairn` CLI, a cairnd that should refuse to start) and
// returns its exit code, stdout and stderr. Output goes through files in a temp dir, so a chatty
// program can never block on a full pipe. A program still running after the timeout is killed and the
// test fails.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace cairn::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when it did not exit normally (killed by a signal).
  std::string out;
  std::string err;
};

inline std::string read_whole_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// A child process with stdout and stderr redirected to files. Killed (SIGKILL) and reaped when the
// object goes away, if it is still running.
class BackgroundProcess {
 public:
  // Standard input comes from `stdin_path` (default: nothing to read).
  BackgroundProcess(const std::string& binary, std::vector<std::string> arguments,
                    const std::string& stdin_path = "/dev/null")
      : out_path_(dir_.path().string() + "/out"), err_path_(dir_.path().string() + "/err") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
    arguments.insert(arguments.begin(), binary);
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    const int spawned = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
  }
  ~BackgroundProcess() { kill_and_reap(SIGKILL); }
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Waits up to `timeout` for the process to exit on its own; false if it is still running.
  bool wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  void kill_and_reap(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }

  std::string out() const { return read_whole_file(out_path_); }
  std::string err() const { return read_whole_file(err_path_); }
  int exit_code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

 private:
  TempDir dir_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  int status_ = 0;
};

inline ProcessResult run_process(const std::string& binary, const std::vector<std::string>& arguments,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                 const std::string& stdin_path = "/dev/null") {
  BackgroundProcess process(binary, arguments, stdin_path);
  const bool exited = process.wait(timeout);
  if (!exited) process.kill_and_reap(SIGKILL);
  INFO("stderr: " << process.err());
  REQUIRE(exited);
  return ProcessResult{process.exit_code(), process.out(), process.err()};
}

}  // namespace cairn::test
