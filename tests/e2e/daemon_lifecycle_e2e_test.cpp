// cairnd as a process, as an operator meets it: every documented exit code, the one line it prints
// when a port is taken, its signals (SIGINT and SIGTERM stop it cleanly, SIGHUP reloads its config
// file, clients that go away mid-reply never kill it), and scripts/run.sh's progress.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cairn/client.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/logged_daemon.h"
#include "tests/e2e/run_process.h"
#include "tests/server/hangup_client.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"

namespace {

using cairn::test::LoggedDaemon;
using cairn::test::PortHolder;
using cairn::test::ProcessResult;
using cairn::test::run_process;
using cairn::test::TempDir;

constexpr int kExitOk = 0, kExitCannotStart = 1, kExitUsage = 2;

// A data directory with a cluster key and a client token of its own, so cairnd creates no file (and
// logs nothing) at start.
struct DaemonFiles {
  DaemonFiles() {
    std::filesystem::create_directories(data_dir);
    cairn::test::write_cluster_key_file(key_file, cairn::test::random_cluster_key_hex());
    cairn::test::write_cluster_key_file(token_file, "lifecycle-test-token");
  }
  // Flags for every setting the tests need; each port is 0 unless `ports` names it.
  std::vector<std::string> flags(std::vector<std::string> ports = {}) const {
    std::vector<std::string> arguments{"--data-dir", data_dir, "--cluster-key-file", key_file,
                                       "--client-token-file", token_file, "--durability", "nosync"};
    for (const char* port_flag : {"--gossip-port", "--client-port", "--http-port", "--resp-port"}) {
      if (std::find(ports.begin(), ports.end(), port_flag) == ports.end()) arguments.insert(arguments.end(), {port_flag, "0"});
    }
    arguments.insert(arguments.end(), ports.begin(), ports.end());
    return arguments;
  }
  TempDir dir;
  std::string data_dir = dir.str() + "/data";
  std::string key_file = dir.str() + "/cluster.key";
  std::string token_file = dir.str() + "/client.token";
};

cairn::ClientOptions client_options(const nlohmann::json& ready) {
  const std::string address = ready.at("client").get<std::string>();
  cairn::ClientOptions options;
  options.port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  options.token = "lifecycle-test-token";
  options.timeout_ms = 30'000;  // A 60,000-member sadd on a loaded CI machine.
  return options;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool exited_with(const std::optional<int>& status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

double metric(const std::vector<cairn::MetricSample>& samples, const std::string& name) {
  for (const cairn::MetricSample& sample : samples) {
    if (sample.name == name) return sample.value;
  }
  return -1;
}

}  // namespace

TEST_CASE("cairnd exits 2 on every usage error, with one line saying what", "[e2e][daemon]") {
  const DaemonFiles files;
  const std::string bad_key = files.dir.str() + "/bad.toml";
  write_file(bad_key, "data_dri = \"x\"\n");
  const std::string bad_syntax = files.dir.str() + "/syntax.toml";
  write_file(bad_syntax, "[listen\n");
  const std::string absent = files.dir.str() + "/absent";
  const std::vector<std::vector<std::string>> usage_errors = {
      {"--no-such-flag"},
      {"--gossip-port", "seventy"},
      {"--gossip-port", "70000"},
      {"--durability", "fast"},
      {"--log-level", "loud"},
      {"--seed"},
      {"--config", absent + ".toml"},
      {"--config", bad_key},
      {"--config", bad_syntax},
      {"--cluster-key-file", absent + ".key"},
      {"--client-token-file", absent + ".token"},
  };
  for (const std::vector<std::string>& error : usage_errors) {
    std::vector<std::string> arguments = files.flags();
    // The error last, so it overrides the files' flags.
    if (error.front() == "--cluster-key-file" || error.front() == "--client-token-file") {
      const auto flag = std::find(arguments.begin(), arguments.end(), error.front());
      *(flag + 1) = error.back();
    } else {
      arguments.insert(arguments.end(), error.begin(), error.end());
    }
    const ProcessResult result = run_process(CAIRND_PATH, arguments);
    INFO("cairnd " << error.front() << " ...: exit " << result.exit_code << ", stderr: " << result.err);
    CHECK(result.exit_code == kExitUsage);
    CHECK(result.out.empty());
    CHECK(result.err.rfind("cairnd: ", 0) == 0);
    CHECK(LoggedDaemon::count(result.err, "\n") == 1);
  }
  CHECK_FALSE(std::filesystem::exists(files.data_dir + "/data.mdb"));  // Nothing was started.
}

TEST_CASE("cairnd --help exits 0 and documents its exit codes and signals", "[e2e][daemon]") {
  const ProcessResult help = run_process(CAIRND_PATH, {"--help"});
  CHECK(help.exit_code == kExitOk);
  for (const char* line : {"Exit codes:", "  0  stopped cleanly", "  1  cannot start", "  2  usage", "SIGHUP",
                           "SIGPIPE", "128+N"}) {
    CHECK_THAT(help.out, Catch::Contains(line));
  }
}

TEST_CASE("cairnd exits 1 with one line naming each taken port, and leaves nothing behind", "[e2e][daemon]") {
  const DaemonFiles files;
  struct Case {
    const char* flag;
    int socket_type;
    std::string line_start;
    std::string line_end;
  };
  const std::vector<Case> cases = {
      {"--client-port", SOCK_STREAM, "cairnd: cannot start: client port 127.0.0.1:", ": address already in use (EADDRINUSE)\n"},
      {"--http-port", SOCK_STREAM, "cairnd: cannot start: HTTP port 127.0.0.1:", ": address already in use (EADDRINUSE)\n"},
      {"--gossip-port", SOCK_STREAM, "cairnd: cannot start: gossip port 127.0.0.1:", " (TCP): address already in use (EADDRINUSE)\n"},
      {"--gossip-port", SOCK_DGRAM, "cairnd: cannot start: gossip port 127.0.0.1:", " (UDP): address already in use (EADDRINUSE)\n"},
  };
  for (const Case& taken : cases) {
    const auto holder = taken.socket_type == SOCK_DGRAM ? cairn::test::udp_port_with_free_tcp()
                                                        : std::make_unique<PortHolder>(SOCK_STREAM);
    const std::string port = std::to_string(holder->port());
    const ProcessResult result = run_process(CAIRND_PATH, files.flags({taken.flag, port}));
    INFO(taken.flag << " " << port << " taken for " << (taken.socket_type == SOCK_STREAM ? "TCP" : "UDP"));
    CHECK(result.exit_code == kExitCannotStart);
    CHECK(result.out.empty());  // No ready line.
    CHECK(result.err == taken.line_start + port + taken.line_end);
  }
  // Its data directory was let go: a cairnd starts on it at once.
  LoggedDaemon daemon(CAIRND_PATH, files.flags());
  daemon.wait_ready();
}

TEST_CASE("cairnd exits 1 when another cairnd holds its data directory", "[e2e][daemon]") {
  const DaemonFiles files;
  LoggedDaemon first(CAIRND_PATH, files.flags());
  first.wait_ready();
  const ProcessResult second = run_process(CAIRND_PATH, files.flags());
  CHECK(second.exit_code == kExitCannotStart);
  CHECK(second.err == "cairnd: cannot start: the data directory " + files.data_dir +
                          " is in use by another cairn process\n");
  CHECK(first.running());
}

TEST_CASE("cairnd exits 0 after SIGTERM and after SIGINT, and any other signal ends it as that signal", "[e2e][daemon]") {
  for (const int signal : {SIGTERM, SIGINT}) {
    const DaemonFiles files;
    LoggedDaemon daemon(CAIRND_PATH, files.flags());
    daemon.wait_ready();
    daemon.send(signal);
    const std::optional<int> status = daemon.wait_exit();
    INFO("signal " << signal << ", stderr: " << daemon.stderr_text());
    CHECK(exited_with(status, kExitOk));
    CHECK_THAT(daemon.stderr_text(), Catch::Contains(signal == SIGTERM ? "SIGTERM received" : "SIGINT received"));
    CHECK_THAT(daemon.stderr_text(), Catch::Contains("cairnd: stopped"));
  }
  // What docs/cairnd.md says of any other signal: the process ends by it (a shell shows 128+N).
  const DaemonFiles files;
  LoggedDaemon daemon(CAIRND_PATH, files.flags());
  daemon.wait_ready();
  daemon.send(SIGUSR1);
  const std::optional<int> status = daemon.wait_exit();
  REQUIRE(status);
  CHECK(WIFSIGNALED(*status));
  CHECK(WTERMSIG(*status) == SIGUSR1);
}

TEST_CASE("cairnd survives SIGHUP: it reloads the log level and client limits, and a bad file changes nothing",
          "[e2e][daemon]") {
  const DaemonFiles files;
  const std::string config = files.dir.str() + "/cairnd.toml";
  const std::string common = "data_dir = \"" + files.data_dir + "\"\ncluster_key_file = \"" + files.key_file +
                             "\"\nclient_token_file = \"" + files.token_file + "\"\n";
  write_file(config, common + "[listen]\ngossip_port = 0\nclient_port = 0\nhttp_port = 0\n");
  LoggedDaemon daemon(CAIRND_PATH, {"--config", config});
  const nlohmann::json ready = daemon.wait_ready();
  auto first = cairn::Client::connect(client_options(ready));
  REQUIRE(first);
  REQUIRE(cairn::Client::connect(client_options(ready)));  // 1024 connections allowed: a second is fine.

  write_file(config, common + "log_level = \"warn\"\n[listen]\ngossip_port = 0\nclient_port = 0\nhttp_port = 0\n" +
                         "[gossip]\ninterval_ms = 100\n[limits]\nmax_client_connections = 1\n");
  daemon.send(SIGHUP);
  REQUIRE(daemon.wait_for_log("SIGHUP: reloaded"));
  REQUIRE(daemon.wait_for_log("after a restart"));
  std::string log = daemon.stderr_text();
  CHECK_THAT(log, Catch::Contains("log_level info -> warn, limits.max_client_connections 1024 -> 1"));
  CHECK_THAT(log, Catch::Contains("changes gossip.interval_ms 200 -> 100, which takes effect only after a restart"));
  // The new limit holds: with `first` open, one more connection is refused.
  CHECK_FALSE(cairn::Client::connect(client_options(ready)));
  CHECK((*first)->put("k", "v"));

  write_file(config, "this is = = not TOML\n");
  daemon.send(SIGHUP);
  REQUIRE(daemon.wait_for_log("SIGHUP: cannot reload"));
  CHECK_THAT(daemon.stderr_text(), Catch::Contains("; nothing changed"));
  CHECK(daemon.running());
  CHECK_FALSE(cairn::Client::connect(client_options(ready)));  // Still the reloaded limit.

  first->reset();
  daemon.send(SIGTERM);
  CHECK(exited_with(daemon.wait_exit(), kExitOk));
  CHECK_THAT(daemon.stderr_text(), !Catch::Contains("SIGTERM received"));  // An info line: level warn now.
}

TEST_CASE("cairnd started without a config file survives SIGHUP and says there is nothing to reload", "[e2e][daemon]") {
  const DaemonFiles files;
  LoggedDaemon daemon(CAIRND_PATH, files.flags());
  daemon.wait_ready();
  daemon.send(SIGHUP);
  CHECK(daemon.wait_for_log("SIGHUP: started without --config, so there is nothing to reload"));
  CHECK(daemon.running());
  daemon.send(SIGTERM);
  CHECK(exited_with(daemon.wait_exit(), kExitOk));
}

TEST_CASE("cairnd serves on after clients hang up before reading big replies", "[e2e][daemon][sigpipe]") {
  const DaemonFiles files;
  LoggedDaemon daemon(CAIRND_PATH, files.flags());
  const cairn::ClientOptions options = client_options(daemon.wait_ready());
  auto client = cairn::Client::connect(options);
  REQUIRE(client);
  const std::string big_value(std::size_t{4} << 20, 'v');
  REQUIRE((*client)->put("big", big_value));
  std::vector<std::string> members;
  for (int i = 0; i < 60'000; ++i) members.push_back("member-" + std::to_string(i));
  REQUIRE((*client)->sadd("set", members));

  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    cairn::test::request_and_hang_up(options.port, options.token, cairn::protocol::Get{"big"});
    cairn::test::request_and_hang_up(options.port, options.token, cairn::protocol::Smembers{"set"});
    cairn::test::request_and_hang_up(options.port, options.token, cairn::protocol::Inspect{"big"});
  }
  // Until the peer has answered (into closed sockets) and closed all of them, only `client` is open.
  double open = -1;
  for (int attempt = 0; attempt < 1500 && open != 1; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto stats = (*client)->stats();
    if (const std::optional<int> died = daemon.wait_exit(std::chrono::milliseconds(stats ? 0 : 2000))) {
      FAIL("cairnd died: " << (WIFSIGNALED(*died) ? "signal " + std::to_string(WTERMSIG(*died))
                                                  : "exit " + std::to_string(WEXITSTATUS(*died))));
    }
    REQUIRE(stats);
    open = metric(*stats, "cairn_client_connections");
  }
  CHECK(open == 1);
  CHECK((*client)->get("big")->value == big_value);
  std::size_t streamed = 0;
  REQUIRE((*client)->smembers("set", [&](const std::string&) { return ++streamed, true; }));
  CHECK(streamed == members.size());
}

TEST_CASE("scripts/run.sh shows each step and the build tool's own output, then cairnd's", "[e2e][scripts]") {
  REQUIRE(::setenv("CAIRN_BUILD_DIR", CAIRN_BINARY_DIR, 1) == 0);
  const ProcessResult run = run_process("/bin/bash", {CAIRN_SOURCE_DIR "/scripts/run.sh", "--help"},
                                        std::chrono::seconds(120));
  ::unsetenv("CAIRN_BUILD_DIR");
  INFO("stderr:\n" << run.err);
  CHECK(run.exit_code == kExitOk);
  // Each step, in order, then what the step's tool printed itself.
  std::size_t at = 0;
  for (const char* expected : {"run.sh: [1/4] checking the Debian packages", "install-deps: ", "run.sh: [2/4] ",
                               "run.sh: [3/4] building cairnd and the cairn CLI", "ninja's own output",
                               "run.sh: [4/4] starting "}) {
    // Ninja prints "[done/total] ..." lines, or "ninja: no work to do" when everything is built (the
    // build-info step that checks the git commit runs on every build, so either may come).
    const std::size_t found = std::string_view(expected) == "ninja's own output"
                                  ? std::min(run.err.find("\n[", at), run.err.find("ninja: ", at))
                                  : run.err.find(expected, at);
    INFO("expected next: " << expected);
    CHECK(found != std::string::npos);
    if (found != std::string::npos) at = found;
  }
  // stdout is cairnd's alone.
  CHECK(run.out.rfind("cairnd: a cairn peer.", 0) == 0);
}
