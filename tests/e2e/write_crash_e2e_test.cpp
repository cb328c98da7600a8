// Durability of the request path (issue 15 item 7): a real cairnd under `group` durability, one client
// pipelining puts over the native protocol and one pipelining MSET batches over RESP, SIGKILL in the
// middle of the load, a restart: every acknowledged write is there, and no MSET is torn (its keys are
// all there or none). Replies are counted as acknowledgements only when they arrive whole. The daemon
// is stopped by its PID (RAII), also on failure.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/store.h"
#include "src/codec/frame.h"
#include "src/protocol/protocol.h"
#include "tests/e2e/daemon_process.h"
#include "tests/support/temp_dir.h"

namespace cairn {
namespace {

using namespace std::chrono_literals;

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Appends what arrives within 100 ms; false once the peer is gone.
bool receive_some(int fd, std::string& into) {
  pollfd readable{fd, POLLIN, 0};
  if (poll(&readable, 1, 100) <= 0) return true;
  char buffer[65536];
  const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
  if (got <= 0) return false;
  into.append(buffer, static_cast<std::size_t>(got));
  return true;
}

int port_of(const std::string& host_port) { return std::stoi(host_port.substr(host_port.rfind(':') + 1)); }

// Native protocol: puts "n-<i>" = "v<i>" with up to `window` in flight; every Done reply is an
// acknowledgement (replies come in request order, ids say which).
void pipeline_puts(int port, const std::string& token, std::atomic<bool>& stop, std::set<std::uint64_t>& acked) {
  const int fd = connect_to(port);
  std::string input;
  std::uint64_t next_id = 1, in_flight = 0;
  if (!send_all(fd, protocol::encode_request_frame({next_id++, protocol::Auth{token}}))) return (void)close(fd);
  ++in_flight;
  constexpr std::uint64_t kWindow = 64;
  while (!stop) {
    std::string burst;
    for (; in_flight < kWindow; ++in_flight, ++next_id) {
      burst += protocol::encode_request_frame({next_id, protocol::Put{"n-" + std::to_string(next_id), "v" + std::to_string(next_id)}});
    }
    if (!burst.empty() && !send_all(fd, burst)) break;
    if (!receive_some(fd, input)) break;
    for (;;) {
      const codec::HeaderResult parsed = codec::parse_frame_header(input);
      if (!parsed.ok || input.size() < codec::kFrameHeaderBytes + parsed.header.payload_length) break;
      auto response = protocol::decode_response(
          std::string_view(input).substr(codec::kFrameHeaderBytes, parsed.header.payload_length));
      input.erase(0, codec::kFrameHeaderBytes + parsed.header.payload_length);
      if (!response) break;
      --in_flight;
      if (response->id > 1 && std::holds_alternative<protocol::Done>(response->body)) acked.insert(response->id);
    }
  }
  close(fd);
}

// RESP: MSET of "b-<i>-0".."b-<i>-3" = "<i>" with up to `window` in flight; each +OK, in order,
// acknowledges the next MSET sent.
void pipeline_msets(int port, const std::string& token, std::atomic<bool>& stop, std::uint64_t& acked,
                    std::uint64_t& sent) {
  const int fd = connect_to(port);
  const auto command = [](const std::vector<std::string>& args) {
    std::string bytes = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& arg : args) bytes += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    return bytes;
  };
  std::string input;
  if (!send_all(fd, command({"AUTH", token}))) return (void)close(fd);
  bool authenticated = false;
  constexpr std::uint64_t kWindow = 16;
  while (!stop) {
    std::string burst;
    for (; authenticated && sent - acked < kWindow; ++sent) {
      const std::string i = std::to_string(sent);
      burst += command({"MSET", "b-" + i + "-0", i, "b-" + i + "-1", i, "b-" + i + "-2", i, "b-" + i + "-3", i});
    }
    if (!burst.empty() && !send_all(fd, burst)) break;
    if (!receive_some(fd, input)) break;
    for (std::size_t end; (end = input.find("\r\n")) != std::string::npos;) {
      const bool ok = input.compare(0, end, "+OK") == 0;
      input.erase(0, end + 2);
      if (!authenticated) {
        authenticated = ok;
        if (!ok) return (void)close(fd);
        continue;
      }
      if (ok) ++acked;  // Every MSET answers +OK; anything else ends the check below (acked < sent).
    }
  }
  close(fd);
}

}  // namespace

TEST_CASE("write crash e2e: SIGKILL under pipelined puts and MSET batches loses no acknowledged write, tears no batch") {
  test::TempDir dir;
  const std::string data = dir.str() + "/data";
  const std::vector<std::string> args{"--data-dir", data, "--gossip-port", "0", "--durability", "group",
                                      "--cluster-key-file", test::shared_cluster_key_file()};
  std::set<std::uint64_t> acked_puts;
  std::uint64_t acked_msets = 0, sent_msets = 0;
  {
    test::DaemonProcess daemon(CAIRND_PATH, args);
    std::atomic<bool> stop{false};
    const std::string token = daemon.client_token();
    std::thread puts(pipeline_puts, port_of(daemon.client_address()), token, std::ref(stop), std::ref(acked_puts));
    std::thread msets(pipeline_msets, daemon.resp_port(), token, std::ref(stop), std::ref(acked_msets),
                      std::ref(sent_msets));
    std::this_thread::sleep_for(1500ms);
    daemon.kill_hard();  // Mid-load: both clients have writes in flight.
    stop = true;
    puts.join();
    msets.join();
  }
  std::printf("write crash e2e: %zu puts and %llu of %llu MSETs acknowledged before SIGKILL\n", acked_puts.size(),
              static_cast<unsigned long long>(acked_msets), static_cast<unsigned long long>(sent_msets));
  INFO("acknowledged puts " << acked_puts.size() << ", MSETs " << acked_msets << " of " << sent_msets << " sent");
  CHECK(acked_puts.size() > 0);
  CHECK(acked_msets > 0);
  {
    test::DaemonProcess restarted(CAIRND_PATH, args);  // Recovers with no repair step, then stops cleanly.
  }
  StoreOptions read_only;
  read_only.read_only = true;
  read_only.create_if_missing = false;
  auto store = Store::open(data, read_only);
  REQUIRE(store);
  std::size_t missing_puts = 0;
  for (std::uint64_t id : acked_puts) {
    auto value = (*store)->get("n-" + std::to_string(id));
    if (!value || value->value != "v" + std::to_string(id)) ++missing_puts;
  }
  CHECK(missing_puts == 0);
  std::size_t torn = 0, missing_msets = 0;
  for (std::uint64_t i = 0; i < sent_msets; ++i) {
    int present = 0;
    for (int k = 0; k < 4; ++k) {
      auto value = (*store)->get("b-" + std::to_string(i) + "-" + std::to_string(k));
      if (value && value->value == std::to_string(i)) ++present;
    }
    if (present != 0 && present != 4) ++torn;
    if (i < acked_msets && present != 4) ++missing_msets;
  }
  CHECK(torn == 0);
  CHECK(missing_msets == 0);
}

}  // namespace cairn
