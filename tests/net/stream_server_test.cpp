// The stream server (src/net/stream_server.h) on a real loop over loopback sockets: writes of one loop
// pass leave in one write, the lifetime scheme (a write to a closed id is refused), close after writes,
// and the inbound connection limit.
#include "src/net/stream_server.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::net {
namespace {

using namespace std::chrono_literals;

// Runs `fn` on the loop thread and returns its result.
template <typename Fn>
auto on_loop(EventLoop& loop, Fn fn) -> decltype(fn()) {
  std::promise<decltype(fn())> result;
  REQUIRE(loop.post([&] { result.set_value(fn()); }));
  return result.get_future().get();
}

template <typename Predicate>
bool eventually(Predicate predicate) {
  for (int i = 0; i < 500; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return predicate();
}

// Records what the server reports; the test thread reads it under the mutex.
struct Recorder final : StreamHandler {
  std::mutex mutex;
  std::vector<ConnectionId> opened;
  std::vector<std::pair<std::size_t, std::size_t>> written;  // (messages, bytes) per report.
  std::vector<ConnectionId> closing;
  int refused = 0;

  void on_open(ConnectionId id, bool) override {
    std::lock_guard lock(mutex);
    opened.push_back(id);
  }
  void on_data(ConnectionId, std::string_view) override {}
  void on_end(ConnectionId) override {}
  void on_written(ConnectionId, std::size_t messages, std::size_t bytes, bool ok) override {
    std::lock_guard lock(mutex);
    if (ok) written.emplace_back(messages, bytes);
  }
  void on_closing(ConnectionId id, CloseReason, std::size_t) override {
    std::lock_guard lock(mutex);
    closing.push_back(id);
  }
  void on_refused() override {
    std::lock_guard lock(mutex);
    ++refused;
  }
  template <typename T>
  T read(T Recorder::*member) {
    std::lock_guard lock(mutex);
    return this->*member;
  }
};

struct Harness {
  Harness(StreamServerOptions options = {}) {
    auto created = EventLoop::create();
    REQUIRE(created);
    loop = std::move(*created);
    server = std::make_unique<StreamServer>(*loop, recorder, options);
    auto bound = server->listen("127.0.0.1", 0);
    REQUIRE(bound);
    port = *bound;
    REQUIRE(loop->start());
  }
  ~Harness() {
    on_loop(*loop, [&] {
      server.reset();
      return 0;
    });
    loop->stop();
  }
  Recorder recorder;
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<StreamServer> server;
  std::uint16_t port = 0;
};

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

// Everything until EOF (or 5 s).
std::string read_all(int fd) {
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, 50) <= 0) continue;
    char buffer[4096];
    const ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) break;
    received.append(buffer, static_cast<std::size_t>(got));
  }
  return received;
}

TEST_CASE("stream server: the writes of one loop pass leave in one write, in order") {
  Harness harness;
  const int fd = connect_to(harness.port);
  REQUIRE(eventually([&] { return harness.recorder.read(&Recorder::opened).size() == 1; }));
  const ConnectionId id = harness.recorder.read(&Recorder::opened)[0];
  on_loop(*harness.loop, [&] {
    CHECK(harness.server->write(id, "one,"));
    CHECK(harness.server->write(id, "two,"));
    CHECK(harness.server->write(id, "three"));
    CHECK(harness.server->queued_bytes(id) == 13);
    harness.server->close_after_writes(id);
    return 0;
  });
  CHECK(read_all(fd) == "one,two,three");  // Then EOF: closed once written.
  const auto written = harness.recorder.read(&Recorder::written);
  REQUIRE(written.size() == 1);  // One uv_write for the pass ...
  CHECK(written[0].first == 3);  // ... carrying the three write() calls.
  CHECK(written[0].second == 13);
  close(fd);
}

TEST_CASE("stream server: a write to a connection already closed is refused, and reported nowhere") {
  Harness harness;
  const int fd = connect_to(harness.port);
  REQUIRE(eventually([&] { return harness.recorder.read(&Recorder::opened).size() == 1; }));
  const ConnectionId id = harness.recorder.read(&Recorder::opened)[0];
  const bool after_close = on_loop(*harness.loop, [&] {
    CHECK(harness.server->write(id, "dropped with the connection"));
    harness.server->close(id);
    return harness.server->write(id, "late reply");
  });
  CHECK_FALSE(after_close);
  CHECK(read_all(fd).empty());
  CHECK(harness.recorder.read(&Recorder::closing) == std::vector<ConnectionId>{id});
  CHECK(harness.recorder.read(&Recorder::written).empty());
  CHECK(on_loop(*harness.loop, [&] { return harness.server->is_open(id); }) == false);
  close(fd);
}

TEST_CASE("stream server: connections beyond max_inbound_connections are closed at once and counted") {
  Harness harness(StreamServerOptions{.max_inbound_connections = 1});
  const int first = connect_to(harness.port);
  REQUIRE(eventually([&] { return harness.recorder.read(&Recorder::opened).size() == 1; }));
  const int second = connect_to(harness.port);
  CHECK(read_all(second).empty());  // Closed by the server.
  CHECK(harness.recorder.read(&Recorder::refused) == 1);
  CHECK(harness.recorder.read(&Recorder::opened).size() == 1);
  close(first);
  close(second);
}

}  // namespace
}  // namespace cairn::net
