// The libuv transport over real sockets on 127.0.0.1, with ephemeral ports only (label e2e).
//
// Every transport lives on one EventLoop thread; the test thread talks to it only through
// EventLoop::post (on_loop below), so the test reads no transport state off the loop thread. Every
// socket a test opens is closed by RAII, also when an assertion fails: the Harness stops the loop
// (which closes its transports) before destroying them.
#include "gossip/transport/uv_transport.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gossip/wire.h"

namespace cairn::transport {
namespace {

using namespace std::chrono_literals;
using gossip::Channel;
using gossip::Endpoint;
using gossip::OutgoingFrame;

constexpr std::uint16_t kNoPort = 0;

// A frame built by hand: magic "CAIR", version 1, type 1 (peer message), zero flags, key id and nonce,
// then the big-endian payload length and the payload. The transport looks only at this header.
std::string make_frame(std::string_view payload, std::string_view magic = "CAIR",
                       std::uint64_t length = std::uint64_t{0xffffffffffffffff}) {
  if (length == std::uint64_t{0xffffffffffffffff}) length = payload.size();
  std::string frame(gossip::kFrameHeaderBytes, '\0');
  frame.replace(0, 4, magic.substr(0, 4));
  frame[4] = 1;
  frame[5] = 1;
  for (int i = 0; i < 4; ++i) frame[36 + i] = static_cast<char>((length >> (8 * (3 - i))) & 0xff);
  frame.append(payload);
  return frame;
}

std::string pseudo_random_bytes(std::size_t size, std::uint64_t seed) {
  std::string bytes(size, '\0');
  std::uint64_t x = seed | 1;
  for (auto& byte : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    byte = static_cast<char>(x & 0xff);
  }
  return bytes;
}

Endpoint local(std::uint16_t port) { return Endpoint{"127.0.0.1", port}; }

// Runs `fn` on the loop thread and returns its result (or rethrows what it threw) on this thread.
template <typename Fn>
auto on_loop(EventLoop& loop, Fn fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::move(fn));
  auto result = task.get_future();
  REQUIRE(loop.post([&task] { task(); }));
  return result.get();
}

// Polls `predicate` on the loop thread until it holds; false after `timeout`.
template <typename Predicate>
bool wait_until(EventLoop& loop, Predicate predicate, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!on_loop(loop, predicate)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct Received {
  std::string frame;
  Channel channel;
  std::string from;
};

// A running loop and the transports on it; each transport's received frames go to its inbox (touched
// only on the loop thread). Closures run on the loop thread use no Catch assertion (Catch is not
// thread-safe): they return what the test thread then checks.
class Harness {
 public:
  Harness() {
    auto created = EventLoop::create();
    REQUIRE(created);
    loop_ = std::move(*created);
    REQUIRE(loop_->start());
  }
  ~Harness() {
    loop_->stop();  // Closes every transport on the loop and joins its thread.
    transports_.clear();
    inboxes_.clear();
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  EventLoop& loop() { return *loop_; }

  // A new transport (index into inbox()), listening on 127.0.0.1:`port` unless `listen` is false.
  UvTransport& add(bool listen = true, std::uint16_t port = kNoPort, UvTransportOptions options = {}) {
    auto inbox = std::make_unique<std::vector<Received>>();
    auto* sink = inbox.get();
    auto transport = on_loop(*loop_, [&] {
      auto created = std::make_unique<UvTransport>(*loop_, options);
      created->set_receiver([sink](std::string frame, Channel channel, const std::string& from) {
        sink->push_back({std::move(frame), channel, from});
      });
      return created;
    });
    if (listen) {
      auto listened = on_loop(*loop_, [&] { return transport->listen("127.0.0.1", port); });
      INFO((listened ? std::string() : listened.error().to_string()));
      REQUIRE(listened);
    }
    transports_.push_back(std::move(transport));
    inboxes_.push_back(std::move(inbox));
    return *transports_.back();
  }

  std::vector<Received>& inbox(const UvTransport& transport) {
    for (std::size_t i = 0; i < transports_.size(); ++i) {
      if (transports_[i].get() == &transport) return *inboxes_[i];
    }
    throw std::logic_error("unknown transport");  // Not FAIL: this may run on the loop thread.
  }

  std::size_t received(const UvTransport& transport) {
    auto& box = inbox(transport);
    return on_loop(*loop_, [&] { return box.size(); });
  }
  bool wait_received(const UvTransport& transport, std::size_t count) {
    auto& box = inbox(transport);
    return wait_until(*loop_, [&] { return box.size() >= count; });
  }
  UvTransportStats stats(const UvTransport& transport) {
    return on_loop(*loop_, [&] { return transport.stats(); });
  }
  void send(UvTransport& from, Endpoint to, Channel channel, std::string bytes) {
    on_loop(*loop_, [&] { from.send(OutgoingFrame{std::move(to), channel, std::move(bytes)}); });
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::vector<std::unique_ptr<UvTransport>> transports_;
  std::vector<std::unique_ptr<std::vector<Received>>> inboxes_;
};

// ---- POSIX sockets, for what a transport must not assume about its peers ----

class Socket {
 public:
  explicit Socket(int type) : fd_(::socket(AF_INET, type, 0)) { REQUIRE(fd_ >= 0); }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// 0 on success, else errno.
int bind_to(const Socket& socket, std::uint16_t port) {
  const sockaddr_in address = loopback(port);
  return ::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 ? 0 : errno;
}

std::uint16_t bound_port(const Socket& socket) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  return ntohs(address.sin_port);
}

// A blocking TCP client connected to 127.0.0.1:`port`, with Nagle off and a receive timeout.
std::unique_ptr<Socket> connect_to(std::uint16_t port) {
  auto socket = std::make_unique<Socket>(SOCK_STREAM);
  const int one = 1;
  ::setsockopt(socket->fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{};
  timeout.tv_sec = 20;
  ::setsockopt(socket->fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const sockaddr_in address = loopback(port);
  REQUIRE(::connect(socket->fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return socket;
}

void write_all(const Socket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::send(socket.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    REQUIRE(written > 0);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

// True when the peer closes the connection (EOF or reset) before the receive timeout.
bool closed_by_peer(const Socket& socket) {
  char byte = 0;
  const ssize_t got = ::recv(socket.fd(), &byte, 1, 0);
  return got == 0 || (got < 0 && errno == ECONNRESET);
}

// ---- EventLoop ----

TEST_CASE("EventLoop runs posted closures in order on its thread, and timers until cancelled") {
  Harness harness;
  EventLoop& loop = harness.loop();
  CHECK_FALSE(loop.on_loop_thread());

  std::vector<int> order;  // Touched only on the loop thread.
  bool all_on_loop_thread = true;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(loop.post([&, i] {
      all_on_loop_thread = all_on_loop_thread && loop.on_loop_thread();
      order.push_back(i);
    }));
  }
  const auto seen = on_loop(loop, [&] { return order; });
  REQUIRE(seen.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(seen[static_cast<std::size_t>(i)] == i);
  CHECK(on_loop(loop, [&] { return all_on_loop_thread; }));

  int fired = 0;
  const std::uint64_t started_ms = on_loop(loop, [&] { return loop.now_ms(); });
  EventLoop::TimerId timer = 0;
  timer = on_loop(loop, [&] {
    return loop.every(2, [&] {
      if (++fired == 5) loop.cancel(timer);  // A timer may cancel itself.
    });
  });
  CHECK(timer != 0);
  REQUIRE(wait_until(loop, [&] { return fired >= 5; }));
  std::this_thread::sleep_for(30ms);
  CHECK(on_loop(loop, [&] { return fired; }) == 5);
  CHECK(on_loop(loop, [&] { return loop.now_ms(); }) >= started_ms + 10);
  on_loop(loop, [&] { loop.cancel(timer); });  // Already cancelled: ignored.
}

TEST_CASE(
    "EventLoop stop refuses later posts, and a loop stopped from its own thread or never started ends "
    "cleanly") {
  SECTION("stopped from a closure on the loop thread") {
    auto created = EventLoop::create();
    REQUIRE(created);
    auto loop = std::move(*created);
    REQUIRE(loop->start());
    CHECK_FALSE(loop->start());
    int ticks = 0;
    on_loop(*loop, [&] { loop->every(1, [&] { ++ticks; }); });
    std::promise<void> stopped;
    REQUIRE(loop->post([&] {
      loop->stop();  // Returns at once on the loop thread.
      stopped.set_value();
    }));
    stopped.get_future().wait();
    CHECK_FALSE(loop->post([] {}));
    loop->stop();  // Joins the thread from here.
    loop.reset();  // The timer was closed by the shutdown; ASan checks nothing leaked.
  }
  SECTION("never started: closures posted before run at shutdown, and bound transports are closed") {
    auto created = EventLoop::create();
    REQUIRE(created);
    auto loop = std::move(*created);
    bool ran = false;
    REQUIRE(loop->post([&] { ran = true; }));
    auto transport = std::make_unique<UvTransport>(*loop);
    REQUIRE(transport->listen("127.0.0.1", 0));
    CHECK(transport->port() != 0);
    transport.reset();  // Open, so its handles finish closing in the loop's destructor.
    loop.reset();
    CHECK(ran);
  }
}

// ---- Listening ----

TEST_CASE("listen on port 0 binds TCP and UDP on one ephemeral port") {
  Harness harness;
  UvTransport& transport = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return transport.port(); });
  REQUIRE(port != 0);

  Socket udp(SOCK_DGRAM), tcp(SOCK_STREAM);
  CHECK(bind_to(udp, port) == EADDRINUSE);
  CHECK(bind_to(tcp, port) == EADDRINUSE);
  auto client = connect_to(port);  // TCP is listening.
  CHECK(wait_until(harness.loop(), [&] { return transport.stats().connections_accepted == 1; }));

  auto again = on_loop(harness.loop(), [&] { return transport.listen("127.0.0.1", 0); });
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::kInvalidArgument);

  // Another transport asking for the same port is refused, and keeps nothing bound.
  UvTransport& second = harness.add(/*listen=*/false);
  auto taken = on_loop(harness.loop(), [&] { return second.listen("127.0.0.1", port); });
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code() == ErrorCode::kUnavailable);
  CHECK(on_loop(harness.loop(), [&] { return second.port(); }) == 0);
  CHECK(wait_until(harness.loop(), [&] { return second.stats().handles_closed == 1; }));
}

TEST_CASE("listen accepts IP literals and localhost, and refuses host names") {
  Harness harness;
  UvTransport& transport = harness.add(/*listen=*/false);
  auto named = on_loop(harness.loop(), [&] { return transport.listen("example.com", 0); });
  REQUIRE_FALSE(named);
  CHECK(named.error().code() == ErrorCode::kInvalidArgument);
  CHECK(named.error().message().find("DNS") != std::string::npos);
  CHECK_FALSE(on_loop(harness.loop(), [&] { return transport.listen(std::string("127.0.0.1\0x", 11), 0); }));

  auto by_name = on_loop(harness.loop(), [&] { return transport.listen("localhost", 0); });
  REQUIRE(by_name);

  // IPv6 only where the machine has ::1.
  const int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_loopback;
  const bool have_ipv6 =
      probe >= 0 && ::bind(probe, reinterpret_cast<const sockaddr*>(&any6), sizeof any6) == 0;
  if (probe >= 0) ::close(probe);
  if (have_ipv6) {
    UvTransport& v6 = harness.add(/*listen=*/false);
    auto listened = on_loop(harness.loop(), [&] { return v6.listen("::1", 0); });
    REQUIRE(listened);
    UvTransport& v6_peer = harness.add(/*listen=*/false);
    REQUIRE(on_loop(harness.loop(), [&] { return v6_peer.listen("::1", 0); }));
    const std::uint16_t port = on_loop(harness.loop(), [&] { return v6.port(); });
    harness.send(v6_peer, Endpoint{"::1", port}, Channel::kStream, make_frame("over ipv6"));
    harness.send(v6_peer, Endpoint{"::1", port}, Channel::kDatagram, make_frame("datagram over ipv6"));
    CHECK(harness.wait_received(v6, 2));
  }
}

// ---- Datagrams ----

TEST_CASE("datagrams travel between two transports, and a receiver may reply from its callback") {
  Harness harness;
  UvTransport& a = harness.add();
  UvTransport& b = harness.add();
  const std::uint16_t a_port = on_loop(harness.loop(), [&] { return a.port(); });
  const std::uint16_t b_port = on_loop(harness.loop(), [&] { return b.port(); });

  // b answers every datagram with one of its own.
  on_loop(harness.loop(), [&] {
    b.set_receiver([&b, a_port](std::string frame, Channel channel, const std::string&) {
      if (channel == Channel::kDatagram) {
        b.send(OutgoingFrame{local(a_port), Channel::kDatagram, make_frame("ack of " + frame.substr(40))});
      }
    });
  });
  harness.send(a, local(b_port), Channel::kDatagram, make_frame("ping"));
  REQUIRE(harness.wait_received(a, 1));
  auto got = on_loop(harness.loop(), [&] { return harness.inbox(a).front(); });
  CHECK(got.channel == Channel::kDatagram);
  CHECK(got.frame == make_frame("ack of ping"));

  // Longer than kMaxDatagramBytes: passed on all the same, for the peer to judge.
  harness.send(b, local(a_port), Channel::kDatagram,
               make_frame(std::string(gossip::kMaxDatagramBytes + 100, 'x')));
  REQUIRE(harness.wait_received(a, 2));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(a)[1].frame.size(); }) ==
        gossip::kMaxDatagramBytes + 140);

  const auto a_stats = harness.stats(a);
  CHECK(a_stats.datagrams_sent == 1);
  CHECK(a_stats.datagrams_received == 2);
  CHECK(a_stats.datagram_bytes_sent == 44);
  CHECK(a_stats.datagrams_dropped == 0);
  const auto b_stats = harness.stats(b);
  CHECK(b_stats.datagrams_received == 1);
  CHECK(b_stats.datagrams_sent == 2);
}

TEST_CASE("the receiver learns each frame's remote address: a datagram's source, a connection's peer") {
  Harness harness;
  UvTransport& a = harness.add();
  UvTransport& b = harness.add();
  const std::uint16_t a_port = on_loop(harness.loop(), [&] { return a.port(); });
  const std::uint16_t b_port = on_loop(harness.loop(), [&] { return b.port(); });
  harness.send(a, local(b_port), Channel::kDatagram, make_frame("datagram"));
  REQUIRE(harness.wait_received(b, 1));
  // Datagrams leave from the listening socket, so their source is a's gossip port.
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(b)[0].from; }) == "127.0.0.1:" + std::to_string(a_port));

  // A connection from a plain socket: its peer is the socket's own (ephemeral) address.
  Socket client(SOCK_STREAM);
  REQUIRE(bind_to(client, 0) == 0);
  const std::uint16_t client_port = bound_port(client);
  const sockaddr_in address = loopback(b_port);
  REQUIRE(::connect(client.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  write_all(client, make_frame("stream"));
  REQUIRE(harness.wait_received(b, 2));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(b)[1].from; }) ==
        "127.0.0.1:" + std::to_string(client_port));
}

TEST_CASE("frames to unusable addresses are dropped and counted") {
  Harness harness;
  UvTransport& a = harness.add(/*listen=*/false);
  harness.send(a, local(7), Channel::kDatagram, make_frame("not listening yet"));
  harness.send(a, Endpoint{"peer.example", 7400}, Channel::kStream, make_frame("no DNS"));
  harness.send(a, local(0), Channel::kStream, make_frame("port 0"));
  REQUIRE(on_loop(harness.loop(), [&] { return a.listen("127.0.0.1", 0); }));
  harness.send(a, Endpoint{"peer.example", 7400}, Channel::kDatagram, make_frame("no DNS"));
  const auto stats = harness.stats(a);
  CHECK(stats.datagrams_dropped == 2);
  CHECK(stats.frames_dropped_unsendable == 2);
  CHECK(stats.datagrams_sent == 0);
}

// ---- Streams ----

TEST_CASE("stream frames arrive in order and intact, including a 16 MiB payload") {
  Harness harness;
  UvTransport& a = harness.add();
  UvTransport& b = harness.add();
  const std::uint16_t a_port = on_loop(harness.loop(), [&] { return a.port(); });
  const std::uint16_t b_port = on_loop(harness.loop(), [&] { return b.port(); });

  std::vector<std::string> frames;
  for (int i = 0; i < 200; ++i) frames.push_back(make_frame("frame " + std::to_string(i)));
  frames.push_back(make_frame(pseudo_random_bytes(std::size_t{16} << 20, 42)));
  for (int i = 0; i < 10; ++i)
    frames.push_back(make_frame(std::string(static_cast<std::size_t>(i) * 1000, 'z')));
  frames.push_back(make_frame(""));
  std::uint64_t total_bytes = 0;
  for (const auto& frame : frames) total_bytes += frame.size();

  // All sent in one loop turn: they queue while the connection is being made.
  on_loop(harness.loop(), [&] {
    for (const auto& frame : frames) a.send(OutgoingFrame{local(b_port), Channel::kStream, frame});
  });
  REQUIRE(harness.wait_received(b, frames.size()));
  const bool intact = on_loop(harness.loop(), [&] {
    const auto& inbox = harness.inbox(b);
    if (inbox.size() != frames.size()) return false;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (inbox[i].frame != frames[i] || inbox[i].channel != Channel::kStream) return false;
    }
    return true;
  });
  CHECK(intact);

  REQUIRE(wait_until(harness.loop(), [&] { return a.stats().frames_sent == frames.size(); }));
  const auto a_stats = harness.stats(a);
  CHECK(a_stats.connects == 1);
  CHECK(a_stats.frame_bytes_sent == total_bytes);
  CHECK(a_stats.frames_dropped_connection_lost == 0);
  CHECK(a_stats.frames_dropped_queue_full == 0);
  const auto b_stats = harness.stats(b);
  CHECK(b_stats.connections_accepted == 1);
  CHECK(b_stats.frames_received == frames.size());
  CHECK(b_stats.frame_bytes_received == total_bytes);

  // The reply travels over b's own connection to a's listening port.
  harness.send(b, local(a_port), Channel::kStream, make_frame("reply"));
  REQUIRE(harness.wait_received(a, 1));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(a).front().frame; }) == make_frame("reply"));
  CHECK(harness.stats(b).connects == 1);
}

TEST_CASE("a stream frame written byte by byte is reassembled") {
  Harness harness;
  UvTransport& b = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });

  const std::string first = make_frame(pseudo_random_bytes(300, 7));
  const std::string second = make_frame("");
  const std::string bytes = first + second;
  auto client = connect_to(port);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    write_all(*client, bytes.substr(i, 1));
    if (i % 50 == 0) std::this_thread::sleep_for(1ms);  // Let the reader see partial headers and payloads.
  }
  REQUIRE(harness.wait_received(b, 2));
  std::this_thread::sleep_for(20ms);
  const auto inbox = on_loop(harness.loop(), [&] { return harness.inbox(b); });
  REQUIRE(inbox.size() == 2);
  CHECK(inbox[0].frame == first);
  CHECK(inbox[1].frame == second);
  CHECK(harness.stats(b).bad_headers == 0);
}

TEST_CASE("a bad frame header closes that inbound connection and is counted") {
  Harness harness;
  UvTransport& b = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });

  auto healthy = connect_to(port);
  write_all(*healthy, make_frame("before"));
  REQUIRE(harness.wait_received(b, 1));

  auto bad_magic = connect_to(port);
  write_all(*bad_magic, make_frame("payload", "XXXX"));
  CHECK(closed_by_peer(*bad_magic));

  auto oversized = connect_to(port);
  write_all(*oversized, make_frame("", "CAIR", gossip::kMaxFramePayloadBytes + 1));
  CHECK(closed_by_peer(*oversized));

  // The other connection is untouched.
  write_all(*healthy, make_frame("after"));
  REQUIRE(harness.wait_received(b, 2));
  const auto inbox = on_loop(harness.loop(), [&] { return harness.inbox(b); });
  REQUIRE(inbox.size() == 2);
  CHECK(inbox[0].frame == make_frame("before"));
  CHECK(inbox[1].frame == make_frame("after"));
  const auto stats = harness.stats(b);
  CHECK(stats.bad_headers == 2);
  CHECK(stats.connections_accepted == 3);
}

TEST_CASE(
    "sending to a closed port counts a connect failure, and a later send succeeds once the peer listens") {
  Harness harness;
  UvTransport& a = harness.add();
  // A bound but not listening socket holds the port, so connecting to it is refused.
  Socket holder(SOCK_STREAM);
  REQUIRE(bind_to(holder, 0) == 0);
  const std::uint16_t port = bound_port(holder);

  // In one loop turn, so both frames wait on the one connection attempt.
  on_loop(harness.loop(), [&] {
    a.send(OutgoingFrame{local(port), Channel::kStream, make_frame("lost")});
    a.send(OutgoingFrame{local(port), Channel::kStream, make_frame("lost too")});
    a.send(OutgoingFrame{local(port), Channel::kDatagram, make_frame("nobody there")});
  });
  REQUIRE(wait_until(harness.loop(), [&] { return a.stats().connect_failures == 1; }));
  auto stats = harness.stats(a);
  CHECK(stats.frames_dropped_connection_lost == 2);
  CHECK(stats.connects == 0);
  REQUIRE(wait_until(harness.loop(), [&] { return a.stats().handles_closed == 1; }));

  holder.close();
  UvTransport& b = harness.add(/*listen=*/true, port);
  harness.send(a, local(port), Channel::kStream, make_frame("delivered"));
  REQUIRE(harness.wait_received(b, 1));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(b).front().frame; }) == make_frame("delivered"));
  CHECK(harness.stats(a).connects == 1);
}

TEST_CASE("when the peer goes away the connection is dropped, and the next send reconnects") {
  Harness harness;
  UvTransport& a = harness.add();
  UvTransport& b = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });
  harness.send(a, local(port), Channel::kStream, make_frame("one"));
  REQUIRE(harness.wait_received(b, 1));

  bool b_closed = false;
  on_loop(harness.loop(), [&] { b.close([&] { b_closed = true; }); });
  REQUIRE(wait_until(harness.loop(), [&] { return b_closed; }));
  REQUIRE(wait_until(harness.loop(), [&] { return a.stats().connections_lost == 1; }));  // a saw EOF.

  UvTransport& restarted = harness.add(/*listen=*/true, port);
  harness.send(a, local(port), Channel::kStream, make_frame("two"));
  REQUIRE(harness.wait_received(restarted, 1));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(restarted).front().frame; }) == make_frame("two"));
  CHECK(harness.stats(a).connects == 2);
}

TEST_CASE("a connection's queue is bounded: frames beyond it are dropped and counted") {
  Harness harness;
  UvTransportOptions options;
  options.max_queued_bytes_per_connection = 1000;
  UvTransport& a = harness.add(/*listen=*/false, kNoPort, options);
  UvTransport& b = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });
  on_loop(harness.loop(), [&] {
    for (int i = 0; i < 3; ++i) {
      a.send(OutgoingFrame{local(port), Channel::kStream,
                           make_frame(std::string(400, static_cast<char>('a' + i)))});
    }
  });
  REQUIRE(harness.wait_received(b, 2));
  std::this_thread::sleep_for(20ms);
  CHECK(harness.received(b) == 2);
  CHECK(harness.stats(a).frames_dropped_queue_full == 1);
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(b)[1].frame; }) ==
        make_frame(std::string(400, 'b')));
}

// ---- Closing ----

TEST_CASE("close() releases every handle, then calls on_closed, and the ports are free again") {
  Harness harness;
  UvTransport& a = harness.add();
  UvTransport& b = harness.add();
  const std::uint16_t a_port = on_loop(harness.loop(), [&] { return a.port(); });
  const std::uint16_t b_port = on_loop(harness.loop(), [&] { return b.port(); });
  harness.send(a, local(b_port), Channel::kStream, make_frame("a to b"));
  harness.send(b, local(a_port), Channel::kStream, make_frame("b to a"));
  harness.send(a, local(b_port), Channel::kDatagram, make_frame("datagram"));
  REQUIRE(harness.wait_received(a, 1));
  REQUIRE(harness.wait_received(b, 2));

  int a_closed = 0;
  on_loop(harness.loop(), [&] {
    a.close([&] { ++a_closed; });
    a.close([&] { ++a_closed; });  // A second caller is told too.
  });
  REQUIRE(wait_until(harness.loop(), [&] { return a_closed == 2; }));
  // UDP, the listener, a's connection to b and b's connection to a.
  CHECK(harness.stats(a).handles_closed == 4);
  CHECK(on_loop(harness.loop(), [&] { return a.closed(); }));

  // Closed is closed: sends are counted as dropped, listen is refused, close answers at once.
  harness.send(a, local(b_port), Channel::kStream, make_frame("late"));
  harness.send(a, local(b_port), Channel::kDatagram, make_frame("late"));
  auto stats = harness.stats(a);
  CHECK(stats.frames_dropped_unsendable == 1);
  CHECK(stats.datagrams_dropped == 1);
  auto relisten = on_loop(harness.loop(), [&] { return a.listen("127.0.0.1", 0); });
  REQUIRE_FALSE(relisten);
  CHECK(relisten.error().code() == ErrorCode::kUnavailable);
  CHECK(on_loop(harness.loop(), [&] {
    bool called = false;
    a.close([&] { called = true; });
    return called;
  }));

  Socket udp(SOCK_DGRAM), tcp(SOCK_STREAM);
  const int one = 1;
  ::setsockopt(tcp.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // As libuv does; TIME_WAIT may linger.
  CHECK(bind_to(udp, a_port) == 0);
  CHECK(bind_to(tcp, a_port) == 0);

  // b saw both of its connections with a end (its inbound one and its own outbound one).
  REQUIRE(wait_until(harness.loop(), [&] { return b.stats().connections_lost == 2; }));
}

TEST_CASE("a transport destroyed while open closes itself in the background") {
  Harness harness;
  UvTransport& b = harness.add();
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });
  const bool listened = on_loop(harness.loop(), [&] {
    auto doomed = std::make_unique<UvTransport>(harness.loop());
    const bool ok = doomed->listen("127.0.0.1", 0).has_value();
    doomed->send(OutgoingFrame{local(port), Channel::kStream, make_frame("in flight")});
    doomed.reset();
    return ok;
  });
  CHECK(listened);
  std::this_thread::sleep_for(20ms);
  // Whatever became of the frame, b is unharmed.
  harness.send(b, local(port), Channel::kDatagram, make_frame("to self"));
  CHECK(wait_until(harness.loop(), [&] { return b.stats().datagrams_received == 1; }));
}

TEST_CASE("limits: inbound connections over max_inbound_connections are closed while the others are served") {
  Harness harness;
  UvTransportOptions options;
  options.max_inbound_connections = 3;
  UvTransport& b = harness.add(/*listen=*/true, kNoPort, options);
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });
  std::vector<std::unique_ptr<Socket>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_to(port));
    write_all(*held.back(), make_frame("hello " + std::to_string(i)));
  }
  REQUIRE(harness.wait_received(b, 3));
  std::vector<std::unique_ptr<Socket>> flood;
  for (int i = 0; i < 20; ++i) {
    flood.push_back(connect_to(port));
    CHECK(closed_by_peer(*flood.back()));
  }
  // The connections within the limit are still read.
  write_all(*held[1], make_frame("still served"));
  REQUIRE(harness.wait_received(b, 4));
  CHECK(on_loop(harness.loop(), [&] { return harness.inbox(b).back().frame; }) == make_frame("still served"));
  const auto stats = harness.stats(b);
  CHECK(stats.connections_refused == 20);
  CHECK(stats.connections_accepted == 3);
}

TEST_CASE("limits: a stream frame over max_frame_payload_bytes closes its connection only") {
  Harness harness;
  UvTransportOptions options;
  options.max_frame_payload_bytes = 4096;
  UvTransport& b = harness.add(/*listen=*/true, kNoPort, options);
  const std::uint16_t port = on_loop(harness.loop(), [&] { return b.port(); });
  auto healthy = connect_to(port);
  write_all(*healthy, make_frame(std::string(4096, 'a')));  // At the limit: delivered.
  REQUIRE(harness.wait_received(b, 1));
  for (int i = 0; i < 10; ++i) {
    auto oversized = connect_to(port);
    write_all(*oversized, make_frame("", "CAIR", 4097));
    CHECK(closed_by_peer(*oversized));
  }
  write_all(*healthy, make_frame("after the flood"));
  REQUIRE(harness.wait_received(b, 2));
  CHECK(harness.stats(b).bad_headers == 10);
}

}  // namespace
}  // namespace cairn::transport
