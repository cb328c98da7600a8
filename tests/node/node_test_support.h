// Helpers for in-process Node tests: options for a loopback node on ephemeral ports, and counts of the process's open file descriptors and threads (to prove a stopped or failed
// node released everything).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>

#include "cairn/node.h"
#include "tests/support/ports.h"

namespace cairn::test {

inline constexpr const char* kTestClusterKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
inline constexpr const char* kTestClientToken = "node-test-token";

// A node in `data_dir` on 127.0.0.1, every port ephemeral, clients and HTTP served, a fixed key and
// token (no key files), no fsync.
inline NodeOptions loopback_node_options(const std::string& data_dir) {
  NodeOptions options;
  options.data_dir = data_dir;
  options.gossip_port = 0;
  options.serve_clients = true;
  options.client_port = 0;
  options.serve_http = true;
  options.http_port = 0;
  options.cluster_keys = {kTestClusterKey};
  options.client_token = kTestClientToken;
  options.store.durability = Durability::kNoSync;
  return options;
}

inline std::size_t entries_in(const char* directory) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) ++count;
  return count;
}

// The process's open file descriptors (the directory iterator's own included, the same every time).
inline std::size_t open_fd_count() { return entries_in("/proc/self/fd"); }

// The process's threads. A joined thread may linger in /proc for a moment: wait up to a second for
// the count to come down to `expected`.
inline std::size_t thread_count_settled(std::size_t expected) {
  std::size_t count = entries_in("/proc/self/task");
  for (int waited_ms = 0; count > expected && waited_ms < 1000; waited_ms += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    count = entries_in("/proc/self/task");
  }
  return count;
}

}  // namespace cairn::test
