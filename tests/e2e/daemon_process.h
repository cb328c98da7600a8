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

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace cairn::test {

// A random cluster key as cairnd writes it (64 hex digits), for tests that start several peers: every
// peer of one cluster needs the same key (--cluster-key-file, or NodeOptions::cluster_keys).
inline std::string random_cluster_key_hex() {
  std::random_device random;
  std::string hex;
  for (int i = 0; i < 64; ++i) hex.push_back("0123456789abcdef"[random() % 16]);
  return hex;
}

// Writes `key` to a new file at `path` (mode 0600) and returns `path`.
inline std::string write_cluster_key_file(const std::string& path, const std::string& key) {
  { std::ofstream(path) << key << "\n"; }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

// One cluster key for every peer a test binary starts, so they form one cluster: daemons read it
// from shared_cluster_key_file(), embedded Nodes get shared_cluster_key() in NodeOptions::cluster_keys.
inline const std::string& shared_cluster_key() {
  static const std::string key = random_cluster_key_hex();
  return key;
}

inline const std::string& shared_cluster_key_file() {
  static const TempDir key_dir;
  static const std::string path = write_cluster_key_file(key_dir.str() + "/cluster.key", shared_cluster_key());
  return path;
}

class DaemonProcess {
 public:
  // Runs `binary` with `arguments` and waits (up to 20 s) for its ready line on stdout. The client and
  // HTTP ports are ephemeral unless `arguments` name them (so daemons of parallel tests never collide).
  // With `stderr_path`, its log (stderr) goes to that file (read it with log()); otherwise to the test's.
  DaemonProcess(const std::string& binary, std::vector<std::string> arguments, std::string stderr_path = {})
      : stderr_path_(std::move(stderr_path)) {
    const auto data_dir_flag = std::find(arguments.begin(), arguments.end(), "--data-dir");
    if (data_dir_flag != arguments.end() && data_dir_flag + 1 != arguments.end()) data_dir_ = *(data_dir_flag + 1);
    for (const char* port_flag : {"--client-port", "--http-port", "--resp-port"}) {
      if (std::find(arguments.begin(), arguments.end(), port_flag) == arguments.end()) {
        arguments.insert(arguments.end(), {port_flag, "0"});
      }
    }
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (!stderr_path_.empty()) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
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
    const nlohmann::json ready = nlohmann::json::parse(ready_line_);
    replica_ = ready.at("replica").get<std::string>();
    gossip_port_ = port_of(ready.at("gossip").get<std::string>());
    client_address_ = ready.at("client").get<std::string>();
    http_port_ = port_of(ready.at("http").get<std::string>());
    if (ready.contains("resp")) resp_port_ = port_of(ready.at("resp").get<std::string>());
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

  // Kills it with SIGKILL (no clean shutdown) and reaps it.
  void kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, &exit_status_, 0);
    pid_ = -1;
    if (stdout_fd_ >= 0) close(stdout_fd_);
    stdout_fd_ = -1;
  }

  pid_t pid() const { return pid_; }
  // What it logged so far (needs `stderr_path`).
  std::string log() const {
    std::ifstream file(stderr_path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  const std::string& ready_line() const { return ready_line_; }
  const std::string& replica() const { return replica_; }
  int gossip_port() const { return gossip_port_; }
  std::string gossip_address() const { return "127.0.0.1:" + std::to_string(gossip_port_); }
  // "127.0.0.1:PORT" of the client protocol listener.
  const std::string& client_address() const { return client_address_; }
  int http_port() const { return http_port_; }
  // The RESP port (0 when it serves none).
  int resp_port() const { return resp_port_; }
  // The --data-dir it was started with (empty: none given).
  const std::string& data_dir() const { return data_dir_; }
  // Its client token (DATA_DIR/client.token, which cairnd creates on first start).
  std::string client_token() const {
    std::ifstream file(data_dir_ + "/client.token");
    std::string token;
    std::getline(file, token);
    return token;
  }

 private:
  static int port_of(const std::string& host_port) { return std::stoi(host_port.substr(host_port.rfind(':') + 1)); }

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

  std::string stderr_path_;
  pid_t pid_ = -1;
  int resp_port_ = 0;
  int stdout_fd_ = -1;
  int exit_status_ = 0;
  int gossip_port_ = 0;
  int http_port_ = 0;
  std::string client_address_;
  std::string data_dir_;
  std::string replica_;
  std::string ready_line_;
};

}  // namespace cairn::test
