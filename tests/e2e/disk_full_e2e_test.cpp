// A full disk (issue 13, item 6): cairnd in a private mount namespace whose data directory is a small
// tmpfs. When the filesystem fills up, writes fail with "no space left on device" (not "Input/output
// error"), the log says so once per episode, /health is degraded and says why, and writes succeed again
// once space is freed. The tmpfs lives in cairnd's own mount namespace, so it vanishes with the
// process, also when the test fails; the test reaches it through /proc/PID/root.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cairn/client.h"
#include "tests/e2e/daemon_process.h"
#include "tests/e2e/http_get.h"
#include "tests/e2e/run_process.h"
#include "tests/e2e/store_polling.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using Json = nlohmann::json;

constexpr const char* kUnshare = "/usr/bin/unshare";

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

// Fills the filesystem holding `path` by writing it until the kernel refuses (ENOSPC).
void fill(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  const std::string chunk(64 << 10, 'f');
  int error = 0;
  for (;;) {
    const ssize_t written = ::write(fd, chunk.data(), chunk.size());
    if (written < static_cast<ssize_t>(chunk.size())) {
      error = written < 0 ? errno : ENOSPC;
      break;
    }
  }
  ::close(fd);
  REQUIRE(error == ENOSPC);
}

std::string health_status(const test::DaemonProcess& daemon) {
  const test::HttpAnswer answer = test::http_get(daemon.http_port(), "/health");
  return answer.status == 0 ? "<no answer>" : Json::parse(answer.body).at("status").get<std::string>();
}

TEST_CASE("health e2e: a full disk fails writes as 'no space left on device', once per episode in the log, until space is freed") {
  test::TempDir dir;
  const std::string mount_point = dir.str() + "/small";
  std::filesystem::create_directory(mount_point);
  // Never skipped: without the privileges to mount, this fails and says why.
  const test::ProcessResult probe = test::run_process(
      kUnshare, {"-m", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs -o size=1m cairn-probe \"$0\"", mount_point});
  INFO("this test mounts a small tmpfs in a private mount namespace: it needs root (CAP_SYS_ADMIN) and util-linux's "
       "unshare; the probe said: " << probe.err);
  REQUIRE(probe.exit_code == 0);

  const std::string data_dir = mount_point + "/data";
  test::DaemonProcess daemon(
      kUnshare,
      {"-m", "--propagation", "private", "/bin/sh", "-c", "mount -t tmpfs -o size=16m cairn-disk-full \"$0\" && exec \"$@\"",
       mount_point, CAIRND_PATH, "--data-dir", data_dir, "--gossip-port", "0", "--cluster-key-file",
       test::shared_cluster_key_file()},
      dir.str() + "/cairnd.log");
  // The daemon's view of its files.
  const std::string seen_dir = "/proc/" + std::to_string(daemon.pid()) + "/root" + data_dir;
  const std::string filler = "/proc/" + std::to_string(daemon.pid()) + "/root" + mount_point + "/filler";

  ClientOptions options;
  const std::string address = daemon.client_address();
  options.port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  options.token = test::read_whole_file(seen_dir + "/client.token");
  options.token.erase(options.token.find_last_not_of("\r\n") + 1);
  auto client = Client::connect(options);
  REQUIRE(client);
  const std::string value(1 << 20, 'v');
  REQUIRE((*client)->put("before", value));
  CHECK(health_status(daemon) == "ok");

  const std::string failing_line = "error store: writes are failing: commit: no space left on device";
  const std::string recovered_line = "info  store: writes succeed again (";
  for (int episode = 1; episode <= 2; ++episode) {
    INFO("episode " << episode);
    fill(filler);
    for (int attempt = 0; attempt < 2; ++attempt) {
      const Status put = (*client)->put("during-" + std::to_string(episode) + "-" + std::to_string(attempt), value);
      REQUIRE_FALSE(put);
      CHECK(put.error().message().find("no space left on device") != std::string::npos);
      CHECK(put.error().message().find("Input/output error") == std::string::npos);
    }
    // Degraded, and why: still 200 (reads are served), 503 when asked strictly.
    REQUIRE(test::eventually([&] { return health_status(daemon) == "degraded"; }, std::chrono::seconds(10)));
    const test::HttpAnswer health = test::http_get(daemon.http_port(), "/health");
    CHECK(health.status == 200);
    CHECK(Json::parse(health.body).at("reasons")[0].get<std::string>().find("no space left on device") !=
          std::string::npos);
    CHECK(test::http_get(daemon.http_port(), "/health?strict=1").status == 503);
    CHECK((*client)->get("before")->value == value);
    // One line for the episode, however many writes failed in it.
    CHECK(test::eventually([&] { return count_of(daemon.log(), failing_line) == static_cast<std::size_t>(episode); }));
    INFO("cairnd's log:\n" << daemon.log());

    std::filesystem::remove(filler);
    CHECK((*client)->put("after-" + std::to_string(episode), value));
    CHECK(test::eventually([&] { return health_status(daemon) == "ok"; }, std::chrono::seconds(10)));
    CHECK(test::eventually([&] { return count_of(daemon.log(), recovered_line) == static_cast<std::size_t>(episode); }));
  }
  INFO("cairnd's log:\n" << daemon.log());
  CHECK(count_of(daemon.log(), failing_line) == 2);
  CHECK((*client)->get("after-2")->value == value);
}

}  // namespace
}  // namespace cairn
