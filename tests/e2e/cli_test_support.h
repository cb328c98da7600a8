// Helpers of the `cairn` CLI tests against real cairnd processes: start a daemon on ephemeral ports,
// run the CLI against it (text or --json), connect the client library to it, poll for a condition.
// The binaries come from CAIRND_PATH and CAIRN_CLI_PATH (tests/CMakeLists.txt).
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/run_process.h"
#include "tests/support/temp_dir.h"

namespace cairn::test::cli_e2e {

using Json = nlohmann::json;

// The CLI's exit codes (tools/cairn/exit_codes.h), as a script sees them.
constexpr int kExitOk = 0, kExitUsage = 2, kExitUnavailable = 3, kExitNotFound = 4, kExitWrongType = 5,
              kExitInvalid = 6, kExitUnauthenticated = 7, kExitOutcomeUnknown = 8;

// One cluster key for every daemon of these tests, so two daemons form one cluster.
inline const std::string& shared_key_file() {
  static const TempDir key_dir;
  static const std::string path = write_cluster_key_file(key_dir.str() + "/cluster.key", random_cluster_key_hex());
  return path;
}

inline DaemonProcess start_daemon(const std::string& data_dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> arguments{"--data-dir", data_dir, "--gossip-port", "0", "--gossip-interval-ms", "50",
                                     "--cluster-key-file", shared_key_file()};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return DaemonProcess(CAIRND_PATH, arguments);
}

// Runs `cairn --connect <daemon> --data-dir <its data dir> ARGS...` (the CLI reads the client token there).
inline ProcessResult cli(const DaemonProcess& daemon, std::vector<std::string> arguments,
                         const std::string& stdin_path = "/dev/null") {
  arguments.insert(arguments.begin(), {"--connect", daemon.client_address(), "--data-dir", daemon.data_dir()});
  return run_process(CAIRN_CLI_PATH, arguments, std::chrono::seconds(30), stdin_path);
}

// Runs the CLI with --json and parses its stdout as one JSON document.
inline Json cli_json(const DaemonProcess& daemon, std::vector<std::string> arguments, int expected_exit = kExitOk) {
  arguments.push_back("--json");
  const ProcessResult result = cli(daemon, arguments);
  INFO("cairn stdout: " << result.out << "\nstderr: " << result.err);
  REQUIRE(result.exit_code == expected_exit);
  return Json::parse(result.out);
}

inline ClientOptions client_options(const DaemonProcess& daemon) {
  ClientOptions options;
  const std::string& address = daemon.client_address();
  options.host = address.substr(0, address.rfind(':'));
  options.port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  options.token = daemon.client_token();
  return options;
}

// Polls `condition` for up to 15 s.
template <typename Condition>
bool eventually(Condition condition) {
  for (int attempt = 0; attempt < 300; ++attempt) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace cairn::test::cli_e2e
