// The `cairn` CLI reaching everything the store accepts, against real cairnd processes: values from
// standard input and from a file, `get --raw`, members from standard input, `--version` of both
// binaries, global options after the subcommand, `dump` with the global --data-dir, and `peers`
// listing the peer asked first.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/e2e/cli_test_support.h"

namespace {

using namespace cairn::test::cli_e2e;  // start_daemon, cli, cli_json, exit codes.
using cairn::test::DaemonProcess;
using cairn::test::ProcessResult;
using cairn::test::run_process;
using cairn::test::TempDir;

// 1 MiB holding every byte value, NUL and bytes that are not UTF-8 among them, in a pseudo-random order.
std::string binary_value() {
  std::string bytes(1u << 20, '\0');
  std::uint32_t state = 12345;
  for (char& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

std::string write_file(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.str() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST_CASE("cairn put takes a 1 MiB binary value from standard input or a file, and get --raw returns it byte for byte",
          "[e2e][cli]") {
  TempDir dir, files;
  DaemonProcess daemon = start_daemon(dir.str());
  const std::string value = binary_value();
  const std::string path = write_file(files, "value.bin", value);

  const ProcessResult from_stdin = cli(daemon, {"put", "from-stdin", "-"}, path);
  INFO(from_stdin.err);
  REQUIRE(from_stdin.exit_code == kExitOk);
  const ProcessResult raw = cli(daemon, {"get", "--raw", "from-stdin"});
  REQUIRE(raw.exit_code == kExitOk);
  CHECK(raw.out.size() == value.size());
  CHECK(raw.out == value);  // No escaping, no newline added.

  REQUIRE(cli(daemon, {"put", "from-file", "--value-file", path}).exit_code == kExitOk);
  CHECK(cli(daemon, {"get", "from-file", "--raw"}).out == value);
  REQUIRE(cli(daemon, {"put", "from-file-stdin", "-f", "-"}, path).exit_code == kExitOk);
  CHECK(cli(daemon, {"get", "--raw", "from-file-stdin"}).out == value);

  // A value that is a lone "-" goes through standard input; a trailing newline is kept.
  REQUIRE(cli(daemon, {"put", "dash", "-"}, write_file(files, "dash", "-")).exit_code == kExitOk);
  CHECK(cli(daemon, {"get", "--raw", "dash"}).out == "-");
  REQUIRE(cli(daemon, {"put", "line", "-"}, write_file(files, "line", "text\n")).exit_code == kExitOk);
  CHECK(cli(daemon, {"get", "--raw", "line"}).out == "text\n");
  CHECK(cli(daemon, {"get", "line"}).out == "text\\x0a\n");  // Text output still escapes.

  // Bad command lines exit 2 and write nothing.
  CHECK(cli(daemon, {"put", "nothing"}).exit_code == kExitUsage);
  CHECK(cli(daemon, {"put", "k", "v", "--value-file", path}).exit_code == kExitUsage);
  CHECK(cli(daemon, {"put", "k", "--value-file", files.str() + "/absent"}).exit_code == kExitUsage);
  CHECK(cli(daemon, {"get", "--raw", "--json", "dash"}).exit_code == kExitUsage);
  CHECK(cli(daemon, {"get", "k"}).exit_code == kExitNotFound);
  // Over the store's 16 MiB limit: refused before anything is sent.
  const ProcessResult too_big = cli(daemon, {"put", "big", "-"}, write_file(files, "big", std::string((16u << 20) + 1, 'x')));
  CHECK(too_big.exit_code == kExitInvalid);
  CHECK_THAT(too_big.err, Catch::Contains("over the limit"));
}

TEST_CASE("cairn sadd and srem take members from standard input, one per line", "[e2e][cli]") {
  TempDir dir, files;
  DaemonProcess daemon = start_daemon(dir.str());
  REQUIRE(cli(daemon, {"sadd", "s", "-"}, write_file(files, "members", "pear\napple\nfig")).exit_code == kExitOk);
  CHECK(cli_json(daemon, {"smembers", "s"}) == Json{"apple", "fig", "pear"});
  REQUIRE(cli(daemon, {"srem", "s", "-"}, write_file(files, "gone", "fig\n")).exit_code == kExitOk);
  CHECK(cli_json(daemon, {"smembers", "s"}) == Json{"apple", "pear"});
  REQUIRE(cli(daemon, {"sadd", "s", "-", "kiwi"}).exit_code == kExitOk);  // "-" among others is a member.
  CHECK(cli_json(daemon, {"smembers", "s"}) == Json{"-", "apple", "kiwi", "pear"});
}

TEST_CASE("cairn --version and cairnd --version print the version and the commit", "[e2e][cli][daemon]") {
  const std::regex version(R"(^(cairn|cairnd) \d+\.\d+\.\d+ \(commit [0-9a-zA-Z._-]+\)\n$)");
  for (const char* binary : {CAIRN_CLI_PATH, CAIRND_PATH}) {
    const ProcessResult printed = run_process(binary, {"--version"});
    INFO(binary << ": " << printed.out << printed.err);
    CHECK(printed.exit_code == 0);
    CHECK(std::regex_match(printed.out, version));
  }
}

TEST_CASE("cairn takes its global options after the subcommand too, and dump reads the global --data-dir", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.str());
  // The connection, the token's directory and --json all after the subcommand.
  const ProcessResult put = run_process(CAIRN_CLI_PATH, {"put", "k", "v", "--connect", daemon.client_address(),
                                                         "--data-dir", daemon.data_dir(), "--json"});
  INFO(put.err);
  CHECK(put.exit_code == kExitOk);
  CHECK(Json::parse(put.out) == Json{{"ok", true}});
  CHECK(run_process(CAIRN_CLI_PATH, {"get", "--timeout-ms", "2000", "k", "--connect", daemon.client_address(),
                                     "--data-dir", daemon.data_dir()})
            .out == "v\n");

  const std::string expected = "k\tregister\tv\n";
  CHECK(run_process(CAIRN_CLI_PATH, {"--data-dir", daemon.data_dir(), "dump"}).out == expected);
  CHECK(run_process(CAIRN_CLI_PATH, {"dump", "--data-dir", daemon.data_dir()}).out == expected);
  // An embedded store's directory has no client.token: dump needs none.
  REQUIRE(std::filesystem::remove(daemon.data_dir() + "/client.token"));
  CHECK(run_process(CAIRN_CLI_PATH, {"--data-dir", daemon.data_dir(), "--json", "dump"}).out ==
        "[\n{\"key\":\"k\",\"type\":\"register\",\"value\":\"v\"}\n]\n");
  CHECK(run_process(CAIRN_CLI_PATH, {"dump"}).exit_code == kExitUsage);
}

TEST_CASE("cairn peers lists the peer asked first, marked as this peer", "[e2e][cli]") {
  TempDir dir;
  DaemonProcess daemon = start_daemon(dir.str());
  const Json peers = cli_json(daemon, {"peers"});
  REQUIRE(peers["peers"].size() == 1);
  const Json& self = peers["peers"][0];
  CHECK(self["self"] == true);
  CHECK(self["id"] == daemon.replica());
  CHECK(self["address"] == daemon.gossip_address());
  CHECK(self["state"] == "alive");

  const ProcessResult text = cli(daemon, {"peers"});
  CHECK_THAT(text.out, Catch::Contains("* " + daemon.replica() + "  " + daemon.gossip_address()));
  CHECK_THAT(text.out, Catch::Contains("no other peers known"));
}

}  // namespace
